"""A study under a temporary home for the Dagster framework tests: its grid, layout, instance, and definitions with
the fake trainer and evaluator (``fakes.py``); ``run`` applies the main job's rule."""

from __future__ import annotations

import sys
from pathlib import Path

fakes = sys.modules["fakes"]

GRID = """
study: {study}
seed: 0
pool: {{limit_per_source: 5}}
selectors: [random, kcenter]
variants:
  dup: {{selector: duplicate, params: {{unique: {unique}}}}}
train: [dup, random]
budgets: [3, 4]
base_models: {{tiny: /fake/base-model}}
"""


class Study:
    """One study under a home: its grid file, layout, instance and definitions with the fake trainer/evaluator."""

    def __init__(self, home: Path, study: str = "alpha", unique: int = 2, body: str | None = None, **fake_settings):
        from selection_ops.study.grid import load_grid

        self.home, self.study = home, study
        self.grid_path = home / f"{study}.yaml"
        self.grid_path.write_text(body or GRID.format(study=study, unique=unique))
        self.grid = load_grid(self.grid_path)
        self.fake_settings = fake_settings

    def definitions(self):
        from dagster_project.definitions import build_definitions
        from resources.mlflow_tracker import MlflowTracker

        tracker = MlflowTracker(tracking_uri=f"sqlite:///{self.home / 'mlflow.db'}",
                                artifact_root=str(self.home / "mlartifacts"))
        return build_definitions(self.grid, env="small", home=str(self.home), resources={
            "mlflow_tracker": tracker,
            "trainer": fakes.FakeTrainer(**{k: v for k, v in self.fake_settings.items() if k in ("nan_loss",)}),
            "evaluator": fakes.FakeEvaluator(datasets=["arc_c", "gsm8k"],
                                             drop=self.fake_settings.get("drop", [])),
            "preference_evaluator": fakes.FakePreferenceEvaluator(), "judge": fakes.fake_judge()})

    @property
    def layout(self):
        from resources.study_layout import StudyLayout

        return StudyLayout(study=self.study, home=str(self.home))

    def instance(self):
        from dagster import DagsterInstance

        from dagster_project.instance import write_instance_config

        write_instance_config(self.layout.dagster_home(), slots=1)
        return DagsterInstance.from_config(str(self.layout.dagster_home()))

    def run(self, force: bool = False) -> list[str]:
        """The main job's rule over this study; returns its lines."""
        from dagster_project.run_loop import bring_up_to_date

        lines: list[str] = []
        with self.instance() as instance:
            code = bring_up_to_date(self.definitions(), self.grid, instance, lines.append, force=force)
        assert code == 0, "\n".join(lines)
        return lines


def ran(lines: list[str]) -> set[str]:
    """``"<asset> <partition>"`` of every line that materialized something."""
    return {" ".join(line.split()[:2]) for line in lines if " done " in line}
