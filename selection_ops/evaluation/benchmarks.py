"""The benchmarks infosift evaluates, where their data sits in ``shared/data`` and their scores in OpenCompass.

Knowledge-based (objective) benchmarks are scored by OpenCompass's own evaluators; human-preference (subjective)
ones by a judge model through OpenCompass's subjective pipeline (MIG Sec. 4.1, Appx. A.4). Keys are the column
names of a report (``bench.<key>``), in Table 1's order.

The likelihood channel (``LIKELIHOOD_BENCHMARKS``) holds proxy benchmarks scored from the evaluated model's
log-likelihoods of given text, never from its generations: bits per byte of strong reference answers and
multiple-choice questions in cloze form (DataDecide, Magnusson et al. 2025; "Signal and Noise", Heineman et al.
2025). They are never part of MIG's Avg_obj / Avg_sub. A likelihood *dataset key* (what ``datasets`` and
``sample_limits`` name) yields one or more *score keys* (``bench.<key>`` and ``QuestionScore.benchmark``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal


class EvaluationError(RuntimeError):
    """OpenCompass failed, its summary lacks a requested score, or a judge's output could not be read."""


@dataclass(frozen=True)
class Benchmark:
    """Where a knowledge benchmark's score sits in OpenCompass's summary, and its data in ``shared/data``."""

    key: str
    summary_dataset: str  # the ``dataset`` column: a dataset abbr or a summary group name
    metric: str  # the ``metric`` column
    shared_subdir: str  # folder under shared/data
    member_prefix: str | None = None  # for groups: the abbr prefix of the member datasets, to name failed ones


@dataclass(frozen=True)
class PreferenceBenchmark:
    """A human-preference benchmark: OpenCompass dataset abbrs, how the judge grades, its native score range.

    ``mode``: ``pairwise`` (the judge picks between the model's answer and a reference model's) or ``single``
    (the judge grades one answer). ``answers``: the judge outputs OpenCompass's parser accepts, in the order a
    probability-reading judge scores them (``selection_ops.evaluation.prob_judge``).
    """

    key: str
    abbrs: tuple[str, ...]
    mode: Literal["pairwise", "single"]
    shared_subdir: str
    native_range: tuple[float, float]
    answers: tuple[str, ...]


OBJECTIVE_BENCHMARKS: dict[str, Benchmark] = {
    "arc_c": Benchmark("arc_c", "ARC-c", "accuracy", "arc_challenge"),
    "bbh": Benchmark("bbh", "bbh", "naive_average", "bbh", member_prefix="bbh-"),
    "gsm8k": Benchmark("gsm8k", "gsm8k", "accuracy", "gsm8k"),
    "humaneval": Benchmark("humaneval", "openai_humaneval", "humaneval_pass@1", "humaneval"),
    "mmlu": Benchmark("mmlu", "mmlu", "naive_average", "mmlu", member_prefix="lukaemon_mmlu_"),
    # MIG Appx. A.4: "for IFEval, we provide strictly followed scores" (prompt level)
    "ifeval": Benchmark("ifeval", "IFEval", "Prompt-level-strict-accuracy", "ifeval"),
}
# kept under its old name: the knowledge benchmarks are what ``BENCHMARKS`` always meant
BENCHMARKS = OBJECTIVE_BENCHMARKS

PREFERENCE_BENCHMARKS: dict[str, PreferenceBenchmark] = {
    # AlpacaEval 2 (alpacav2_judgeby_gpt4_new): win rate % against gpt-4-1106-preview; the judge names the better
    # output "m" or "M" (the first character is parsed)
    "alpacaeval_v2": PreferenceBenchmark("alpacaeval_v2", ("alpaca_eval",), "pairwise", "alpaca_eval_v2",
                                         (0.0, 100.0), ("m", "M")),
    # MT-Bench (mtbench_single_judge_diff_temp_new): "Rating: [[x]]", 1-10, one judgement per dialogue (both turns)
    "mtbench": PreferenceBenchmark("mtbench", ("mtbench_0.0", "mtbench_0.1", "mtbench_0.7"), "single", "mt_bench",
                                   (1.0, 10.0), tuple(str(i) for i in range(1, 11))),
    # WildBench v2 (wildbench_pair_judge_new): '"choice": "A++"' ... against three reference models, -100..100
    "wildbench": PreferenceBenchmark("wildbench", ("wildbench",), "pairwise", "wildbench", (-100.0, 100.0),
                                     ("A++", "A+", "A=B", "B+", "B++")),
}



@dataclass(frozen=True)
class LikelihoodBenchmark:
    """A proxy benchmark of the likelihood channel: one dataset key, the OpenCompass datasets it runs as (one JSONL
    each under ``data/infosift_likelihood/``, laid out by ``likelihood_data``), and the score keys it yields.

    ``kind``: ``reference_bpb`` (bits per byte of a reference answer; one score key; lower is better) or ``cloze``
    (multiple choice scored by each choice's likelihood; score keys ``<prefix>_prob``, ``_prob_norm``,
    ``_margin``, ``_acc``; higher is better). ``shared_subdirs``: the folders under shared/data it reads.
    """

    key: str
    kind: Literal["reference_bpb", "cloze"]
    abbrs: tuple[str, ...]
    score_keys: tuple[str, ...]
    shared_subdirs: tuple[str, ...]
    higher_is_better: bool


CLOZE_METRICS = ("prob", "prob_norm", "margin", "acc")


def _cloze(key: str, prefix: str, abbr: str, subdir: str) -> LikelihoodBenchmark:
    return LikelihoodBenchmark(key, "cloze", (abbr,), tuple(f"{prefix}_{m}" for m in CLOZE_METRICS), (subdir,), True)


LIKELIHOOD_BENCHMARKS: dict[str, LikelihoodBenchmark] = {
    # gpt-4-1106-preview's AlpacaEval 2.0 outputs (the baseline of alpacaeval_v2) for the 805 instructions
    "ref_bpb_alpaca": LikelihoodBenchmark("ref_bpb_alpaca", "reference_bpb", ("ref_bpb_alpaca",), ("ref_bpb_alpaca",),
                                          ("alpaca_eval", "alpaca_eval_v2"), False),
    # FastChat's GPT-4 reference answers: both turns of the 30 math / reasoning / coding questions
    "ref_bpb_mtbench": LikelihoodBenchmark("ref_bpb_mtbench", "reference_bpb",
                                           ("ref_bpb_mtbench_turn1", "ref_bpb_mtbench_turn2"), ("ref_bpb_mtbench",),
                                           ("mt_bench",), False),
    # ARC-Challenge test (4-choice questions, OpenCompass's ARC-c order) and MMLU test in cloze form
    "arc_c_cloze": _cloze("arc_c_cloze", "arc_c", "arc_c_cloze", "arc_challenge"),
    "mmlu_cloze": _cloze("mmlu_cloze", "mmlu", "mmlu_cloze", "mmlu"),
}

OBJECTIVE_KEYS: tuple[str, ...] = tuple(OBJECTIVE_BENCHMARKS)
PREFERENCE_KEYS: tuple[str, ...] = tuple(PREFERENCE_BENCHMARKS)
LIKELIHOOD_KEYS: tuple[str, ...] = tuple(LIKELIHOOD_BENCHMARKS)
# score key -> the dataset key that yields it
LIKELIHOOD_SCORE_KEYS: dict[str, str] = {score: bench.key for bench in LIKELIHOOD_BENCHMARKS.values()
                                          for score in bench.score_keys}
# what OpenCompassRunner accepts in ``datasets``: knowledge benchmarks and likelihood dataset keys
RUNNABLE_BENCHMARKS: dict[str, object] = {**OBJECTIVE_BENCHMARKS, **LIKELIHOOD_BENCHMARKS}


def check_benchmarks(benchmarks: Sequence[str], known: Mapping[str, object] = OBJECTIVE_BENCHMARKS) -> list[str]:
    """The keys, de-duplicated in order; ValueError naming unknown ones (or an empty list) and the known keys. A
    likelihood score key (``arc_c_prob``) where a dataset key is expected names the dataset key that yields it."""
    unknown = [b for b in benchmarks if b not in known]
    if unknown or not benchmarks:
        hints = [f"{b!r} is a score of dataset key {LIKELIHOOD_SCORE_KEYS[b]!r}" for b in unknown
                 if b in LIKELIHOOD_SCORE_KEYS and LIKELIHOOD_SCORE_KEYS[b] in known]
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ValueError(f"unknown or no benchmarks {unknown or list(benchmarks)}{hint}; known: {sorted(known)}")
    return list(dict.fromkeys(benchmarks))


def split_benchmarks(benchmarks: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(knowledge keys, likelihood dataset keys)`` of a ``datasets`` list, each in order (``check_benchmarks``
    against both tables first)."""
    keys = check_benchmarks(benchmarks, RUNNABLE_BENCHMARKS)
    return [k for k in keys if k in OBJECTIVE_BENCHMARKS], [k for k in keys if k in LIKELIHOOD_BENCHMARKS]


# ----------------------------------------------------------------------------------------------- score registry


@dataclass(frozen=True)
class ScoreSpec:
    """One score key as every reader sees it: the main job's table, the report, MLflow (``bench.<key>``), MIG
    Appx. A.4's averages, the per-question verdicts and ``infosift power``. Adding a benchmark is one entry here
    (plus, for a new OpenCompass dataset, its data layout and its configs; ARCHITECTURE.md has the recipe).

    ``half``: ``knowledge`` (Avg_obj), ``preference`` (Avg_sub) or ``likelihood`` (a proxy, never averaged);
    ``source``: the dataset key that yields the score (itself, or a likelihood dataset key);
    ``question_scale``: mean per-question score -> native score (100 for proportions);
    ``a4``: ``(scale, offset)`` of A.4's normalisation, ``(native + offset) * scale``; None = not in the averages;
    ``binomial``: a proportion of n trials (its standard error is binomial).
    """

    key: str
    half: Literal["knowledge", "preference", "likelihood"]
    source: str
    question_scale: float = 1.0
    higher_is_better: bool = True
    a4: tuple[float, float] | None = None
    binomial: bool = False


def _registry() -> dict[str, ScoreSpec]:
    specs = [ScoreSpec(key, "knowledge", key, 100.0, True, (1.0, 0.0), True) for key in OBJECTIVE_BENCHMARKS]
    specs += [ScoreSpec("alpacaeval_v2", "preference", "alpacaeval_v2", 100.0, True, (1.0, 0.0), True),
              ScoreSpec("mtbench", "preference", "mtbench", 1.0, True, (10.0, 0.0)),  # 1-10 -> x 10
              ScoreSpec("wildbench", "preference", "wildbench", 1.0, True, (0.5, 100.0))]  # -100..100 -> 0..100
    for bench in LIKELIHOOD_BENCHMARKS.values():
        for score in bench.score_keys:
            percent = score.endswith("_acc")  # cloze accuracy is a proportion, like generative accuracy
            specs.append(ScoreSpec(score, "likelihood", bench.key, 100.0 if percent else 1.0,
                                   bench.higher_is_better, None, percent))
    return {spec.key: spec for spec in specs}


SCORES: dict[str, ScoreSpec] = _registry()


def register_score(spec: ScoreSpec) -> ScoreSpec:
    """Add (or replace) a score key in the registry every reader consults; returns it."""
    SCORES[spec.key] = spec
    return spec


def score_spec(key: str) -> ScoreSpec | None:
    return SCORES.get(key)


def half_keys(half: Literal["knowledge", "preference", "likelihood"]) -> tuple[str, ...]:
    """The registry's score keys of one half, in registry order (read at call time: registered keys included)."""
    return tuple(key for key, spec in SCORES.items() if spec.half == half)


def a4_keys() -> tuple[str, ...]:
    """Every key MIG Appx. A.4 averages (knowledge then preference)."""
    return (*half_keys("knowledge"), *half_keys("preference"))
