"""The typed values assets hand each other (small frozen dataclasses, stored by the study's IO manager)."""

from __future__ import annotations

from dataclasses import dataclass, field

from selection_ops.evaluation.records import ScoreRecord


@dataclass(frozen=True)
class SelectionSpec:
    """What defines one selection partition: the variant (selector + parameters), the budget and the seed."""

    variant: str
    selector: str
    params: dict[str, str]
    budget: int
    seed: int


@dataclass(frozen=True)
class Selection:
    """One selection: ``ids`` in selection order, the selector's resolved parameters and the subset's metrics.

    ``ids_digest`` (sha256 of the ids in order) is the selection's Dagster data version and its MLflow dataset
    digest; ``ids_path`` the JSONL of ids under the study layout; ``mlflow_run_id`` its selection run.
    """

    key: str
    variant: str
    selector: str
    budget: int
    seed: int
    params: dict[str, object]
    ids: tuple[str, ...]
    ids_digest: str
    metrics: dict[str, float]
    ids_path: str
    mlflow_run_id: str


@dataclass(frozen=True)
class TrainedModel:
    """A fine-tuned model folder (loadable with ``from_pretrained``) and where its training is recorded.

    ``seed``: the selection's seed (None for the Pool row); ``train_seed``: the ``seed`` LLaMA-Factory ran with (None
    when the recipe set none). Both default to None so values stored before seeds were an axis still load."""

    cell: str
    path: str
    base_model: str
    final_loss: float
    loss_history: tuple[tuple[int, float], ...]
    fingerprint: str
    mlflow_run_id: str
    seed: int | None = None
    train_seed: int | None = None


@dataclass(frozen=True)
class BenchmarkScores:
    """``scores``: benchmark key -> score in [0, 100]; ``avg_obj`` their mean (MIG Avg_obj); ``requested`` the
    benchmarks asked for (a check compares the two); ``stderr`` / ``n`` per benchmark (MIG Appx. A.4's noise)."""

    cell: str
    scores: dict[str, float]
    avg_obj: float
    requested: tuple[str, ...]
    summary_path: str
    mlflow_run_id: str
    extra: dict[str, float] = field(default_factory=dict)
    stderr: dict[str, float] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)

    def record(self) -> ScoreRecord:
        """The knowledge half as a score record; ``extra`` (the likelihood channel's proxy scores) rides along."""
        return ScoreRecord({**self.scores, **self.extra}, dict(self.stderr), dict(self.n))


@dataclass(frozen=True)
class PreferenceScores:
    """Judged human-preference scores of one model on native scales (AlpacaEval 2 win rate %, MT-Bench 1-10,
    WildBench -100..100), their standard errors and counts, the judge's parse rate per benchmark and its identity."""

    cell: str
    scores: dict[str, float]
    stderr: dict[str, float]
    n: dict[str, int]
    parse_rate: dict[str, float]
    judge: str
    judge_mode: str
    mlflow_run_id: str

    def record(self) -> ScoreRecord:
        """These scores as a score record (a reference row's value holds both halves, a cell's the preference
        half)."""
        return ScoreRecord(dict(self.scores), dict(self.stderr), dict(self.n), dict(self.parse_rate), self.judge)
