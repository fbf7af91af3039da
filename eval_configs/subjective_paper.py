"""Human-preference benchmarks as MIG Appx. A.4 runs them through OpenCompass's subjective pipeline, judged by a
judge model the runner adds (CompassJudger-1-32B in the paper): AlpacaEval 2 (pairwise against
gpt-4-1106-preview, win rate %), MT-Bench (single grading 1-10 of both turns), WildBench v2 (pairwise against
three reference models with the official v2 template). Greedy decoding throughout (A.4).

A dataset collection, not a whole run: ``selection_ops.evaluation.config.write_preference_config`` copies this file
next to a generated config that keeps the datasets whose data was laid out, adds the model, the judge,
``SubjectiveNaivePartitioner`` / ``SubjectiveEvalTask`` and the subjective summarizer. These are OpenCompass's
``*_new`` dataset configs: the score is computed by each benchmark's ``dict_postprocessor`` and the per-judgement
details land in the results files, which infosift re-reads to count parsed judgements.
"""

from mmengine.config import read_base

with read_base():
    from opencompass.configs.datasets.subjective.alpaca_eval.alpacav2_judgeby_gpt4_new import alpacav2_datasets
    from opencompass.configs.datasets.subjective.multiround.mtbench_single_judge_diff_temp_new import (
        mtbench_datasets,
    )
    from opencompass.configs.datasets.subjective.wildbench.wildbench_pair_judge_new import wildbench_datasets

# MIG A.4 decodes greedily everywhere; FastChat samples MT-Bench's writing/roleplay (0.7) and stem/humanities (0.1)
# answers. Deviation: greedy here too, so every score is reproducible.
for _dataset in mtbench_datasets:
    _dataset['infer_cfg']['inferencer'].update(do_sample=False, temperature=0.0)
del _dataset

# benchmark key (as selection_ops.evaluation.benchmarks names it) -> OpenCompass datasets
benchmark_datasets = dict(alpacaeval_v2=alpacav2_datasets, mtbench=mtbench_datasets, wildbench=wildbench_datasets)
datasets = [*alpacav2_datasets, *mtbench_datasets, *wildbench_datasets]
