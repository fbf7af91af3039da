"""The code location of the backfill test: the project's definitions for ``$INFOSIFT_GRID`` under
``$INFOSIFT_HOME``, with the trainer, evaluators and judge faked at the resource seam (each holds its step for a
while, so concurrent steps would overlap if the pool did not serialize them)."""

import importlib.util
import os
import sys
from pathlib import Path

from dagster_project.definitions import build_definitions
from resources.mlflow_tracker import MlflowTracker
from selection_ops.study.grid import load_grid

_spec = importlib.util.spec_from_file_location("fakes", Path(__file__).with_name("fakes.py"))
fakes = importlib.util.module_from_spec(_spec)
sys.modules["fakes"] = fakes
_spec.loader.exec_module(fakes)

HOME = Path(os.environ["INFOSIFT_HOME"])
defs = build_definitions(load_grid(), env="small", home=str(HOME), resources={
    "mlflow_tracker": MlflowTracker(tracking_uri=f"sqlite:///{HOME / 'mlflow.db'}",
                                    artifact_root=str(HOME / "mlartifacts")),
    "trainer": fakes.FakeTrainer(sleep_s=2.0),
    "evaluator": fakes.FakeEvaluator(datasets=["arc_c"], sleep_s=2.0),
    "preference_evaluator": fakes.FakePreferenceEvaluator(), "judge": fakes.fake_judge()})
