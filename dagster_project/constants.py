"""Names of the Dagster wiring: jobs, the environment switch, the accelerator-slot setting. The names the assets
share (groups, IO manager key, concurrency pool, the study tag) live with them in ``assets.study``."""

from assets.study import ACCELERATOR_POOL, GROUP_POOL, STUDY_RUN_TAG

__all__ = ["ACCELERATOR_POOL", "ACCELERATOR_SLOTS_ENV", "ENV_VAR", "GRID_RUN_TAG", "GROUP_POOL", "JOB_PREPARE",
           "JOB_REPORT", "JOB_SELECT", "JOB_STUDY_GRID", "STUDY_RUN_TAG"]

ACCELERATOR_SLOTS_ENV = "INFOSIFT_ACCELERATOR_SLOTS"  # concurrency limit of the accelerator pool (default: GPUs, or 1)
GRID_RUN_TAG = "infosift/grid"
JOB_PREPARE = "prepare_pool"
JOB_STUDY_GRID = "study_grid"
JOB_SELECT = "select_grid"
JOB_REPORT = "report"
ENV_VAR = "INFOSIFT_ENV"  # which resource set the definitions use: "default" or "small"
