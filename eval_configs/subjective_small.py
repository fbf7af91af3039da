"""Human-preference benchmarks for the embedded default: ``subjective_paper.py``'s datasets with answers capped
for a 135M model on 2 CPU cores (the runner's ``max_out_len`` caps them further) and a 2,048-token context.

Self-contained (the runner copies one file); same contract as ``subjective_paper.py``; the sample limit is applied when
the data is laid out (``selection_ops.evaluation.preference_data``), spread over each benchmark's categories.
"""

from mmengine.config import read_base

with read_base():
    from opencompass.configs.datasets.subjective.alpaca_eval.alpacav2_judgeby_gpt4_new import alpacav2_datasets
    from opencompass.configs.datasets.subjective.multiround.mtbench_single_judge_diff_temp_new import (
        mtbench_datasets,
    )
    from opencompass.configs.datasets.subjective.wildbench.wildbench_pair_judge_new import wildbench_datasets

benchmark_datasets = dict(alpacaeval_v2=alpacav2_datasets, mtbench=mtbench_datasets, wildbench=wildbench_datasets)
datasets = [*alpacav2_datasets, *mtbench_datasets, *wildbench_datasets]

for _dataset in datasets:
    _inferencer = _dataset['infer_cfg']['inferencer']
    _inferencer['max_out_len'] = min(_inferencer.get('max_out_len') or 256, 256)
    if 'max_seq_len' in _inferencer:
        _inferencer['max_seq_len'] = 2048
    if _dataset['abbr'].startswith('mtbench'):  # greedy, as in subjective_paper.py (MIG A.4)
        _inferencer.update(do_sample=False, temperature=0.0)
del _dataset, _inferencer
