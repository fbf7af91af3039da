"""Objective benchmarks as MIG Appx. A.4 evaluates them: ARC zero-shot, BBH three-shot (CoT), GSM8K zero-shot,
HumanEval pass@1, MMLU five-shot, IFEval strict accuracy; greedy decoding throughout. Avg_obj is their mean.

Same contract as ``objective_small.py`` (``benchmark_datasets``, ``datasets``, ``summarizer``); meant for GPUs:
five-shot MMLU and CoT BBH prompts are long, and GSM8K / HumanEval / IFEval generate up to 512+ tokens.
"""

from mmengine.config import read_base

with read_base():
    from opencompass.configs.datasets.ARC_c.ARC_c_gen_1e0de5 import ARC_c_datasets
    from opencompass.configs.datasets.bbh.bbh_gen_ee62e9 import bbh_datasets
    from opencompass.configs.datasets.gsm8k.gsm8k_0shot_v2_gen_a58960 import gsm8k_datasets
    from opencompass.configs.datasets.humaneval.humaneval_gen_8e312c import humaneval_datasets
    from opencompass.configs.datasets.IFEval.IFEval_gen_353ae7 import ifeval_datasets
    from opencompass.configs.datasets.mmlu.mmlu_gen_4d595a import mmlu_datasets
    from opencompass.configs.summarizers.groups.bbh import bbh_summary_groups
    from opencompass.configs.summarizers.groups.mmlu import mmlu_summary_groups

# The built-in ARC-c config reads the Dev split; MIG reports the test split, which is the one shared/data holds.
for _dataset in ARC_c_datasets:
    _dataset['path'] = 'opencompass/ai2_arc-test'
del _dataset

benchmark_datasets = dict(arc_c=ARC_c_datasets, mmlu=mmlu_datasets, gsm8k=gsm8k_datasets, ifeval=ifeval_datasets,
                          bbh=bbh_datasets, humaneval=humaneval_datasets)
datasets = [*ARC_c_datasets, *mmlu_datasets, *gsm8k_datasets, *ifeval_datasets, *bbh_datasets, *humaneval_datasets]
summarizer = dict(summary_groups=[*mmlu_summary_groups, *bbh_summary_groups])
