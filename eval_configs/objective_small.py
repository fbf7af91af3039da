"""Objective benchmarks for the embedded default: OpenCompass's built-in dataset configs, cheapest faithful variants.

A dataset collection, not a whole run: ``selection_ops.evaluation.config.write_eval_config`` copies this file next
to a generated config that picks benchmarks from ``benchmark_datasets``, caps each OpenCompass dataset at a sample
limit (``reader_cfg.test_range``) and the generation length, and adds the model. By hand:
``opencompass eval_configs/objective_small.py --hf-type chat --hf-path <model folder>`` runs every benchmark.

Data: the built-in configs read ``$COMPASS_DATA_CACHE/data/...``, which
``selection_ops.evaluation.compass_data.prepare_compass_data`` lays out from ``shared/data``. Zero-shot everywhere
(a 135M model on 2 CPU cores: every few-shot prefix multiplies the prompt length and the CPU time);
``objective_paper.py`` holds MIG Appx. A.4's shot counts.
"""

from mmengine.config import read_base

with read_base():
    from opencompass.configs.datasets.ARC_c.ARC_c_gen_1e0de5 import ARC_c_datasets
    from opencompass.configs.datasets.bbh.bbh_0shot_nocot_gen_925fc4 import bbh_datasets
    from opencompass.configs.datasets.gsm8k.gsm8k_0shot_v2_gen_a58960 import gsm8k_datasets
    from opencompass.configs.datasets.humaneval.humaneval_gen_8e312c import humaneval_datasets
    from opencompass.configs.datasets.IFEval.IFEval_gen_353ae7 import ifeval_datasets
    from opencompass.configs.datasets.mmlu.mmlu_zero_shot_gen_47e2c0 import mmlu_datasets
    from opencompass.configs.summarizers.groups.bbh import bbh_summary_groups
    from opencompass.configs.summarizers.groups.mmlu import mmlu_summary_groups

# The built-in ARC-c config reads the Dev split; MIG reports the test split, which is the one shared/data holds.
for _dataset in ARC_c_datasets:
    _dataset['path'] = 'opencompass/ai2_arc-test'
    # The answer is one letter (first_option_postprocess takes the first A-D it sees): 8 tokens hold "The answer
    # is B." and make each question ~8x cheaper than the runner's 64-token cap on CPU.
    _dataset['infer_cfg']['inferencer']['max_out_len'] = 8
del _dataset

# benchmark key (selection_ops.evaluation.benchmarks) -> OpenCompass datasets (MMLU and BBH: one per subject)
benchmark_datasets = dict(arc_c=ARC_c_datasets, mmlu=mmlu_datasets, gsm8k=gsm8k_datasets, ifeval=ifeval_datasets,
                          bbh=bbh_datasets, humaneval=humaneval_datasets)
datasets = [*ARC_c_datasets, *mmlu_datasets, *gsm8k_datasets, *ifeval_datasets, *bbh_datasets, *humaneval_datasets]
# 'mmlu' / 'bbh' rows: the unweighted mean over subjects (OpenCompass's naive_average), as the papers report them
summarizer = dict(summary_groups=[*mmlu_summary_groups, *bbh_summary_groups])
