"""Dagster resources: typed, configurable handles on the model-holding and tool-running parts of the loop."""
