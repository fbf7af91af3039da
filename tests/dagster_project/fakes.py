"""Small fakes at the resource seam for the Dagster framework tests only (the end-to-end test runs the real CLIs):
a trainer that writes a folder and a decreasing loss, evaluators whose scores depend on the model's content, a judge
setting that names no model to load."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import yaml

from resources.judge import JudgeResource
from resources.llamafactory import (
    DEFAULT_DATASET_NAME,
    LlamaFactoryTrainer,
    TrainingResult,
    build_recipe,
    recipe_path_for,
)
from resources.opencompass import EvaluationResult, OpenCompassRunner, PreferenceEvaluator, PreferenceResult
from selection_ops.evaluation.questions import QuestionScore
from selection_ops.foundation.atomic import write_text_atomic


class FakeTrainer(LlamaFactoryTrainer):
    """Writes ``<output_dir>/records.json`` and the recipe the real trainer would run (``build_recipe`` with the
    run's overrides, the training seed included); the loss history goes 2.0 -> 1.0 (or NaN when ``nan_loss``)."""

    sleep_s: float = 0.0
    nan_loss: bool = False

    def train(self, *, model_path, records, output_dir: Path, record_ids=None, seed=None,
              on_progress=None, on_step=None) -> TrainingResult:
        time.sleep(self.sleep_s)
        output_dir = Path(output_dir)
        write_text_atomic(output_dir / "records.json", json.dumps(records))
        resolved = build_recipe(recipe_path_for(self.recipe), model_path=model_path, dataset_dir=output_dir / "data",
                                dataset_name=DEFAULT_DATASET_NAME, output_dir=output_dir,
                                finetuning_type=self.finetuning_type, overrides=self.recipe_overrides(seed))
        recipe = write_text_atomic(output_dir / "recipe.yaml", yaml.safe_dump(resolved, sort_keys=False))
        history = [(1, 2.0), (2, float("nan") if self.nan_loss else 1.0)]
        return TrainingResult(output_dir=output_dir, final_loss=history[-1][1], loss_history=history,
                              recipe=resolved, recipe_path=recipe, wall_s=self.sleep_s)


class FakeEvaluator(OpenCompassRunner):
    """Scores from a hash of the trained records, so different selections score differently."""

    sleep_s: float = 0.0
    drop: list[str] = []

    def evaluate(self, *, model_path, model_name: str, work_dir: Path, on_progress=None) -> EvaluationResult:
        time.sleep(self.sleep_s)
        seed = _content_seed(model_path)
        # ten 0/1 questions per benchmark, drawn from the content hash; the score is their mean in percent
        questions = [QuestionScore(b, f"{b}/{q}", float((seed >> (q + 3 * i)) & 1))
                     for i, b in enumerate(self.datasets) if b not in self.drop for q in range(10)]
        scores = {b: 10.0 * sum(q.score for q in questions if q.benchmark == b)
                  for b in self.datasets if b not in self.drop}
        summary = write_text_atomic(Path(work_dir) / "summary.csv", json.dumps(scores))
        return EvaluationResult(scores=scores, avg_obj=sum(scores.values()) / max(1, len(scores)),
                                summary_path=summary, wall_s=self.sleep_s, n={b: 10 for b in scores},
                                stderr={b: 1.0 for b in scores}, questions=tuple(questions))


class FakePreferenceEvaluator(PreferenceEvaluator):
    """Native-scale preference scores from the same hash; every judgement parsed."""

    def evaluate(self, *, model_path, model_name: str, work_dir: Path, judge, on_progress=None) -> PreferenceResult:
        seed = _content_seed(model_path)
        questions = [*(QuestionScore("alpacaeval_v2", f"alpaca_eval/gpt4/{q}", ((seed >> (2 * q)) % 3) / 2)
                       for q in range(4)),
                     *(QuestionScore("mtbench", f"mtbench_0.0/{q}", 1.0 + (seed >> (8 + 4 * q)) % 9)
                       for q in range(4))]
        scores = {key: scale * sum(q.score for q in questions if q.benchmark == key) / 4
                  for key, scale in (("alpacaeval_v2", 100.0), ("mtbench", 1.0))}
        raw = write_text_atomic(Path(work_dir) / "judgements" / "raw.json", json.dumps(scores)).parent
        return PreferenceResult(scores=scores, stderr={k: 1.0 for k in scores}, n={k: 4 for k in scores},
                                parse_rate={k: 1.0 for k in scores}, judge="fake-judge", judge_mode="generate",
                                raw_judgements_dir=raw, summary_path=None, wall_s=0.0, log_path=raw / "raw.json",
                                questions=tuple(questions))


def fake_judge() -> JudgeResource:
    """An endpoint judge setting that loads nothing (the fake preference evaluator never calls it)."""
    return JudgeResource(kind="openai", url="http://127.0.0.1:9/v1", model_name="fake-judge",
                         tokenizer_path="unused")


def _content_seed(model_path) -> int:
    """A fine-tune's trained records, or the base model's path (the untuned baseline), hashed."""
    records = Path(model_path) / "records.json"
    content = records.read_bytes() if records.is_file() else str(model_path).encode()
    return int(hashlib.sha256(content).hexdigest()[:8], 16)
