"""Group names and tag keys shared by the asset modules."""

GROUP_POOL = "pool"
GROUP_ANNOTATION = "annotation"
GROUP_LABEL_GRAPH = "label_graph"
GROUP_SELECTION = "selection"
GROUP_TRAINING = "training"
GROUP_EVALUATION = "evaluation"
GROUP_REPORT = "report"

PARQUET_IO_MANAGER = "parquet_io_manager"
