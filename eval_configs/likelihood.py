"""The likelihood channel's datasets (proxy benchmarks, never part of Avg_obj): OpenCompass's own
``InferencePPLOnlyInferencer`` asks the model for the negative log-likelihood of each row's label span and its token
count (``ppl``, ``token_len`` in the predictions); ``AverageInferencePPLEvaluator`` writes their pooled ratio (nats
per scored token) to the summary. The per-question scores (bits per byte, correct probability, ...) are computed
from the predictions by ``selection_ops.evaluation.likelihood_scores``.

A dataset collection like ``objective_small.py``: ``selection_ops.evaluation.config.write_eval_config`` copies this
file next to a generated config that picks datasets from ``likelihood_datasets`` (dataset key -> OpenCompass
datasets, ``selection_ops.evaluation.benchmarks.LIKELIHOOD_BENCHMARKS``) and uses
``selection_ops.evaluation.likelihood_model.ChatLikelihoodModel`` for the model. Rows (already chat-templated for the
evaluated model, sample limits applied) are written by ``selection_ops.evaluation.likelihood_data`` to
``$COMPASS_DATA_CACHE/data/infosift_likelihood/<abbr>.jsonl``.
"""

from opencompass.datasets import JsonlDataset
from opencompass.openicl.icl_evaluator import AverageInferencePPLEvaluator
from opencompass.openicl.icl_inferencer import InferencePPLOnlyInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever


def _dataset(abbr):
    return dict(
        abbr=abbr,
        type=JsonlDataset,
        path=f'data/infosift_likelihood/{abbr}.jsonl',  # relative: resolved under $COMPASS_DATA_CACHE
        # 'label' (the scored character span) is read by the inferencer from the row itself
        reader_cfg=dict(input_columns=['text'], output_column=None),
        infer_cfg=dict(prompt_template=dict(type=PromptTemplate, template='{text}'),
                       retriever=dict(type=ZeroRetriever),
                       inferencer=dict(type=InferencePPLOnlyInferencer)),
        eval_cfg=dict(evaluator=dict(type=AverageInferencePPLEvaluator)),
    )


likelihood_datasets = dict(
    ref_bpb_alpaca=[_dataset('ref_bpb_alpaca')],
    ref_bpb_mtbench=[_dataset('ref_bpb_mtbench_turn1'), _dataset('ref_bpb_mtbench_turn2')],
    arc_c_cloze=[_dataset('arc_c_cloze')],
    mmlu_cloze=[_dataset('mmlu_cloze')],
)
