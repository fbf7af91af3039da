# Evaluation over several GPUs of one node: OpenCompass's own partitioner and runner, no code of ours.
#
# NumWorkerPartitioner cuts every (model, dataset) pair into `num_worker` inference tasks of about equal size;
# LocalRunner runs up to `max_num_workers` of them at once, one per free GPU (max_workers_per_gpu=1), each in its
# own process with CUDA_VISIBLE_DEVICES set by the runner. The evaluation tasks (scoring the predictions) are
# CPU-only and cheap: one per dataset.
#
# Use: `opencompass <generated config>` where the generated config also does
#     with read_base():
#         from .infer_multiworker import infer, eval  # noqa: F401
# and without `--debug` (debug mode runs every task in the calling process, one after another). On one node with
# 8 GPUs, keep the model's run_cfg num_gpus at 1 so eight tasks run side by side. The worker count below is the
# default of resources/opencompass_scale.py (EvalScaleSettings.workers), which writes it for other counts.
from opencompass.partitioners import NaivePartitioner, NumWorkerPartitioner
from opencompass.runners import LocalRunner
from opencompass.tasks import OpenICLEvalTask, OpenICLInferTask

infer = dict(
    partitioner=dict(type=NumWorkerPartitioner, num_worker=8),
    runner=dict(type=LocalRunner, max_num_workers=8, max_workers_per_gpu=1, task=dict(type=OpenICLInferTask)),
)
eval = dict(
    partitioner=dict(type=NaivePartitioner),
    runner=dict(type=LocalRunner, max_num_workers=16, task=dict(type=OpenICLEvalTask)),
)
