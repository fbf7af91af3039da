"""Names shared by the assets and the Dagster wiring above them (``dagster_project``): groups, IO manager key, the
concurrency pool, run tags, jobs, the environment switch."""

GROUP_POOL = "pool"
GROUP_ANNOTATION = "annotation"
GROUP_LABEL_GRAPH = "label_graph"
GROUP_SELECTION = "selection"
GROUP_TRAINING = "training"
GROUP_EVALUATION = "evaluation"
GROUP_REPORT = "report"
PARQUET_IO_MANAGER = "parquet_io_manager"
# Training and evaluation hold the machine's accelerator (or all its CPU cores): one pool for both, whose limit the
# project's dagster.yaml sets (1 on a CPU machine, the number of GPUs otherwise).
ACCELERATOR_POOL = "accelerator"
STUDY_RUN_TAG = "infosift/study"
GRID_RUN_TAG = "infosift/grid"
# Runs of jobs that fine-tune or evaluate carry this tag ("true"); the run queue admits at most the accelerator's
# slots of them at once (dagster_project/instance.py), so no more runs wait on the pool than it can serve.
ACCELERATOR_RUN_TAG = "infosift/accelerator"
ACCELERATOR_SLOTS_ENV = "INFOSIFT_ACCELERATOR_SLOTS"  # concurrency limit of the accelerator pool (default: GPUs, or 1)
JOB_PREPARE = "prepare_pool"
JOB_STUDY_GRID = "study_grid"
JOB_SELECT = "select_grid"
JOB_REPORT = "report"
JOB_POOL_ROW = "pool_row"  # only when the grid has pool_row: true
ENV_VAR = "INFOSIFT_ENV"  # which resource set the definitions use: "default", "small" or "power"
