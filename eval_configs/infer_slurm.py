# Evaluation on a Slurm cluster: the same partition into tasks as infer_multiworker.py, each task an `srun` job
# on `partition` (one GPU each, from the model's run_cfg), at most `max_num_workers` queued at once, a failed task
# retried twice. Edit `partition` (and `quotatype` / `qos` where the cluster uses them) for your cluster, or let
# resources/opencompass_scale.py (EvalScaleSettings with runner='slurm') write these lines.
from opencompass.partitioners import NaivePartitioner, NumWorkerPartitioner
from opencompass.runners import SlurmRunner
from opencompass.tasks import OpenICLEvalTask, OpenICLInferTask

infer = dict(
    partitioner=dict(type=NumWorkerPartitioner, num_worker=32),
    runner=dict(type=SlurmRunner, partition='gpu', max_num_workers=32, retry=2, task=dict(type=OpenICLInferTask)),
)
eval = dict(
    partitioner=dict(type=NaivePartitioner),
    runner=dict(type=SlurmRunner, partition='cpu', max_num_workers=32, retry=2, task=dict(type=OpenICLEvalTask)),
)
