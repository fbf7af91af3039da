"""Small fakes at the resource seam for the Dagster framework tests only (the end-to-end test runs the real CLIs):
a trainer that writes a folder and a decreasing loss, an evaluator whose scores depend on the model's content."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from resources.llamafactory import LlamaFactoryTrainer, TrainingResult
from resources.opencompass import EvaluationResult, OpenCompassRunner
from selection_ops.foundation.atomic import write_text_atomic


class FakeTrainer(LlamaFactoryTrainer):
    """Writes ``<output_dir>/records.json``; the loss history goes 2.0 -> 1.0 (or NaN when ``nan_loss``)."""

    sleep_s: float = 0.0
    nan_loss: bool = False

    def train(self, *, model_path, records, output_dir: Path, record_ids=None) -> TrainingResult:
        time.sleep(self.sleep_s)
        output_dir = Path(output_dir)
        write_text_atomic(output_dir / "records.json", json.dumps(records))
        recipe = write_text_atomic(output_dir / "recipe.yaml", f"model: {model_path}\n")
        history = [(1, 2.0), (2, float("nan") if self.nan_loss else 1.0)]
        return TrainingResult(output_dir=output_dir, final_loss=history[-1][1], loss_history=history,
                              recipe={"model": str(model_path)}, recipe_path=recipe, wall_s=self.sleep_s)


class FakeEvaluator(OpenCompassRunner):
    """Scores from a hash of the trained records, so different selections score differently."""

    sleep_s: float = 0.0
    drop: list[str] = []

    def evaluate(self, *, model_path, model_name: str, work_dir: Path) -> EvaluationResult:
        time.sleep(self.sleep_s)
        content = (Path(model_path) / "records.json").read_bytes()
        seed = int(hashlib.sha256(content).hexdigest()[:8], 16)
        scores = {b: float((seed >> (4 * i)) % 100) for i, b in enumerate(self.datasets) if b not in self.drop}
        summary = write_text_atomic(Path(work_dir) / "summary.csv", json.dumps(scores))
        return EvaluationResult(scores=scores, avg_obj=sum(scores.values()) / max(1, len(scores)),
                                summary_path=summary, wall_s=self.sleep_s)
