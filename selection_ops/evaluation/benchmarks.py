"""The benchmarks infosift evaluates, where their data sits in ``shared/data`` and their scores in OpenCompass.

Knowledge-based (objective) benchmarks are scored by OpenCompass's own evaluators; human-preference (subjective)
ones by a judge model through OpenCompass's subjective pipeline (MIG Sec. 4.1, Appx. A.4). Keys are the column
names of a report (``bench.<key>``), in Table 1's order.
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

OBJECTIVE_KEYS: tuple[str, ...] = tuple(OBJECTIVE_BENCHMARKS)
PREFERENCE_KEYS: tuple[str, ...] = tuple(PREFERENCE_BENCHMARKS)


def check_benchmarks(benchmarks: Sequence[str], known: Mapping[str, object] = OBJECTIVE_BENCHMARKS) -> list[str]:
    """The keys, de-duplicated in order; ValueError naming unknown ones (or an empty list) and the known keys."""
    unknown = [b for b in benchmarks if b not in known]
    if unknown or not benchmarks:
        raise ValueError(f"unknown or no benchmarks {unknown or list(benchmarks)}; known: {sorted(known)}")
    return list(dict.fromkeys(benchmarks))
