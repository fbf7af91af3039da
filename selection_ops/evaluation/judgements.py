"""Reading a judge's work back from OpenCompass's subjective results: per benchmark, the score, its standard
error, n, and how many judgements could be parsed.

OpenCompass drops a judgement its parser cannot read without a word (``get_judgeanswer_and_reference`` prints a
banner under 95%) and a zero-parse AlpacaEval crashes its postprocessor. So every judgement is re-read here with
OpenCompass's own parsers (``post_process_alpacav2``, ``post_process_mtbench``, ``post_process_wildbench_pair``),
counted, and the evaluation fails when the parse rate is below the judge's threshold, naming the benchmark, the
count and a sample raw output. Scores are computed over parsed judgements only; never a made-up one.

Files read: ``<run>/results/<pair>_judged-by--<judge abbr>/<dataset abbr>.json``; after a successful
postprocess it holds the scores and ``details`` (the judgements), after a failed one only the judgements.

Per-sample values (for the standard errors of ``a4``): AlpacaEval, 100 when the model's output is preferred to the
reference, else 0 (a binomial win rate, as OpenCompass's ``alpacaeval_postprocess``); MT-Bench, the rating;
WildBench, 100 x {A++: 1, A+: 0.5, A=B: 0, B+: -0.5, B++: -1} from the model's side. The MT-Bench and AlpacaEval
scores are the means of those values (what OpenCompass reports); WildBench's is OpenCompass's ``average`` over task
groups (a task counts once per tag), averaged over the three reference models, and its standard error is taken
from the per-judgement values (an approximation: the group average weighs tasks unequally).

A pairwise benchmark judged in both orders (OpenCompass's ``infer_order='double'``) has two judgements per
(question, reference model): the score is the mean over all of them, as OpenCompass's; the sample is the comparison,
so the two orders are averaged into one value first (a win counts 100, a split 50) and n and the standard error
(the sample sd / sqrt(n)) are over comparisons, never over judgements.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from selection_ops.evaluation.a4 import binomial_stderr, mean_stderr
from selection_ops.evaluation.benchmarks import PREFERENCE_BENCHMARKS, EvaluationError, check_benchmarks
from selection_ops.evaluation.questions import QuestionScore, question_scale

WILDBENCH_REWARD = {"A++": 1.0, "A+": 0.5, "A=B": 0.0, "B+": -0.5, "B++": -1.0}
SAMPLE_OUTPUT_CHARS = 300


@dataclass
class BenchmarkJudgements:
    """One preference benchmark's judgements of one model by one judge."""

    key: str
    judge: str
    total: int = 0
    parsed: int = 0
    values: list[float] = field(default_factory=list)  # per parsed judgement, see the module doc
    comparisons: list[str] = field(default_factory=list)  # per parsed judgement: its comparison id (both orders alike)
    group_scores: list[float] = field(default_factory=list)  # WildBench: OpenCompass's average per reference model
    unparsed_samples: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def parse_rate(self) -> float:
        return self.parsed / self.total if self.total else 0.0

    @property
    def score(self) -> float:
        """Native scale: win rate %, rating 1-10, reward -100..100."""
        if self.key == "wildbench" and self.group_scores:
            return sum(self.group_scores) / len(self.group_scores)
        return sum(self.values) / len(self.values) if self.values else math.nan

    def _by_comparison(self) -> dict[str, float]:
        """Comparison id -> the mean of its judgements (one, or one per order)."""
        by_comparison: dict[str, list[float]] = {}
        for comparison, value in zip(self.comparisons, self.values, strict=True):
            by_comparison.setdefault(comparison, []).append(value)
        return {comparison: sum(v) / len(v) for comparison, v in by_comparison.items()}

    def samples(self) -> list[float]:
        """One value per comparison: the mean of its judgements (one, or one per order)."""
        return list(self._by_comparison().values())

    def question_scores(self) -> list[QuestionScore]:
        """One ``QuestionScore`` per comparison (``samples``), in the per-question unit of
        ``selection_ops.evaluation.questions``: AlpacaEval 1 / 0.5 / 0 (its samples / 100), MT-Bench the grade,
        WildBench the reward; the id is the same for every evaluated model (``_comparison_id``)."""
        scale = question_scale(self.key)
        return [QuestionScore(self.key, comparison, value / scale) for comparison, value in
                self._by_comparison().items()]

    @property
    def n(self) -> int:
        return len(self.samples())

    @property
    def stderr(self) -> float:
        samples = self.samples()
        if self.key == "alpacaeval_v2" and len(samples) == len(self.values):  # one judgement each: binomial
            return binomial_stderr(self.score, len(self.values))
        return mean_stderr(samples)

    def summary(self) -> dict[str, object]:
        return {"score": self.score, "stderr": self.stderr, "n": self.n, "judgements": self.total,
                "parsed": self.parsed, "parse_rate": self.parse_rate, "judge": self.judge}


def _judgements(result: dict) -> dict[str, dict]:
    details = result.get("details", result)
    return {k: v for k, v in details.items() if isinstance(v, dict) and "prediction" in v}


def _comparisons(indices: list[str], golds: list[dict]) -> dict[str, str]:
    """Judgement index -> the comparison it belongs to. OpenCompass's ``infer_order='double'`` appends the whole
    dataset again with the two answers swapped, so judgement i and i + N/2 compare the same pair: they share one
    comparison exactly when every such pair's gold is the other's with answer1 and answer2 swapped. Otherwise (one
    order) every judgement is its own comparison."""
    half = len(golds) // 2

    def swapped(gold: dict) -> dict:
        return {**gold, "answer1": gold.get("answer2"), "answer2": gold.get("answer1")}

    doubled = len(golds) % 2 == 0 and half > 0 and all(
        "answer1" in golds[i] and golds[i]["answer1"] != golds[i].get("answer2")
        and golds[i + half] == swapped(golds[i]) for i in range(half))
    return {index: str(position % half if doubled else position) for position, index in enumerate(indices)}


def _model_side(gold: dict, model_name: str, path: Path) -> int:
    """1 when the evaluated model's output was shown first (answer1), 2 when second."""
    if gold.get("answer1") == model_name:
        return 1
    if gold.get("answer2") == model_name:
        return 2
    raise EvaluationError(f"{path}: judgement names answers {gold.get('answer1')!r} / {gold.get('answer2')!r}, "
                          f"neither is the evaluated model {model_name!r}")


def _comparison_id(abbr: str, gold: dict, model_name: str, position: str) -> str:
    """The comparison's id, the same for every evaluated model: ``<abbr>/<position>`` for graded benchmarks,
    ``<abbr>/<reference model>/<position>`` for pairwise ones (both orders of a pair share it)."""
    answers = {gold.get("answer1"), gold.get("answer2")} - {model_name, None}
    return f"{abbr}/{sorted(answers)[0]}/{position}" if answers else f"{abbr}/{position}"


def read_judgements(run_dir: Path, model_name: str, judge_abbr: str, judge_id: str,
                    datasets: dict[str, list[str]]) -> dict[str, BenchmarkJudgements]:
    """Every benchmark's judgements of ``model_name`` in one OpenCompass run folder (see module doc)."""
    from opencompass.datasets.subjective.alpacaeval import post_process_alpacav2
    from opencompass.datasets.subjective.mtbench import post_process_mtbench
    from opencompass.datasets.subjective.wildbench import post_process_wildbench_pair, wildbench_postprocess

    results_dir = Path(run_dir) / "results"
    found: dict[str, BenchmarkJudgements] = {}
    for key in check_benchmarks(list(datasets), PREFERENCE_BENCHMARKS):
        bench = BenchmarkJudgements(key, judge_id)
        for abbr in datasets[key]:
            for path in sorted(results_dir.glob(f"*_judged-by--{judge_abbr}/{abbr}.json")):
                result = json.loads(path.read_text(encoding="utf-8"))
                bench.files.append(path)
                judgements = _judgements(result)
                if key == "wildbench":
                    parsed_any = any(post_process_wildbench_pair(j) in WILDBENCH_REWARD for j in judgements.values())
                    if parsed_any:  # OpenCompass's own group average (its results file may predate a crash)
                        bench.group_scores.append(float(wildbench_postprocess(dict(judgements), str(path))["average"]))
                comparison_of = _comparisons(list(judgements), [j.get("gold") or {} for j in judgements.values()])
                for index, judgement in judgements.items():
                    bench.total += 1
                    gold = judgement.get("gold") or {}
                    if key == "alpacaeval_v2":
                        parsed = post_process_alpacav2(judgement)
                        value = None if parsed is None else (
                            100.0 if parsed["rank"] == _model_side(gold, model_name, path) else 0.0)
                    elif key == "mtbench":
                        parsed = post_process_mtbench(judgement)
                        value = None if parsed is None else float(parsed["score"])
                    else:
                        choice = post_process_wildbench_pair(judgement)
                        reward = WILDBENCH_REWARD.get(choice) if choice is not None else None
                        side = 1 if reward is None else _model_side(gold, model_name, path)
                        value = None if reward is None else 100.0 * (reward if side == 1 else -reward)
                    if value is None:
                        if len(bench.unparsed_samples) < 3:
                            bench.unparsed_samples.append(str(judgement.get("prediction"))[:SAMPLE_OUTPUT_CHARS])
                    else:
                        bench.parsed += 1
                        bench.values.append(value)
                        bench.comparisons.append(_comparison_id(abbr, gold, model_name, comparison_of[index]))
        found[key] = bench
    return found


def check_parse_rates(judgements: dict[str, BenchmarkJudgements], min_parse_rate: float) -> None:
    """EvaluationError for the first benchmark with no judgement or a parse rate below ``min_parse_rate``."""
    for key, bench in judgements.items():
        if bench.total == 0:
            raise EvaluationError(f"benchmark {key!r}: the judge {bench.judge} produced no judgements "
                                  f"(no results file among {[str(p) for p in bench.files] or 'none'})")
        if bench.parse_rate < min_parse_rate:
            sample = bench.unparsed_samples[0] if bench.unparsed_samples else ""
            raise EvaluationError(
                f"benchmark {key!r}: judge {bench.judge} produced {bench.total - bench.parsed} unparseable of "
                f"{bench.total} judgements (parse rate {bench.parse_rate:.0%} < {min_parse_rate:.0%}); sample raw "
                f"output: {sample!r}. Use a judge that follows the format (CompassJudger) or judge mode "
                "'probability' for a local model.")


def write_raw_judgements(judgements: dict[str, BenchmarkJudgements], out_dir: Path) -> list[Path]:
    """Copy each benchmark's results files (raw judge outputs included) into ``out_dir/<key>/`` for MLflow."""
    from selection_ops.foundation.atomic import write_text_atomic

    written = []
    for key, bench in judgements.items():
        for path in bench.files:
            target = Path(out_dir) / key / f"{path.parent.name}__{path.name}"
            written.append(write_text_atomic(target, path.read_text(encoding="utf-8")))
    return written


def native_scores(judgements: dict[str, BenchmarkJudgements]) -> tuple[dict[str, float], dict[str, float],
                                                                        dict[str, int]]:
    """``(scores, stderrs, n)`` per benchmark on native scales."""
    return ({k: b.score for k, b in judgements.items()}, {k: b.stderr for k, b in judgements.items()},
            {k: b.n for k, b in judgements.items()})


