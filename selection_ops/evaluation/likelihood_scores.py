"""The likelihood channel's scores, per question, from OpenCompass's own outputs of a likelihood run.

OpenCompass writes, for every row of a likelihood dataset (``likelihood_data``), ``ppl`` = the negative
log-likelihood (nats) of the row's continuation and ``token_len`` = its token count
(``predictions/<model>/<abbr>.json``, ``InferencePPLOnlyInferencer`` + ``ChatLikelihoodModel``), and
``average_ppl`` = sum ppl / sum token_len (``results/<model>/<abbr>.json``, ``AverageInferencePPLEvaluator``). The
rows are read back from the very files OpenCompass read, and each prediction's prompt must equal its row's text
and the pooled ratio must equal OpenCompass's ``average_ppl``, or the run fails naming the file.

Per question (``QuestionScore``):

* reference bits per byte (``ref_bpb_*``, lower is better):
  ``BPB = NLL / (ln 2 * B)``, NLL the reference's negative log-likelihood in nats under the chat template, B its
  UTF-8 bytes (the "Signal and Noise" paper, Heineman et al. 2025, and DataDecide's ``bits_per_byte_corr``; the
  byte normalisation of Gao et al., "The Pile", makes it independent of the tokenizer).
* cloze metrics (DataDecide, Magnusson et al. 2025, its continuous proxy metrics), with OLMES's per-character
  length normalisation, which DataDecide's reported metrics use (``*_per_char``): for the question's choices c with
  log-likelihood LL(c) (nats) and length n(c) characters, ``l(c) = LL(c) / n(c)`` and ``p(c) = exp(l(c))`` (the
  per-character geometric-mean probability); g the correct choice:

      <prefix>_prob      = p(g)                                  (DataDecide's CORRECT PROB, per char)
      <prefix>_prob_norm = p(g) / sum_c p(c)                     (NORM CORRECT PROB)
      <prefix>_margin    = p(g) - max_{c != g} p(c)              (MARGIN)
      <prefix>_acc       = 1 if l(g) > max_{c != g} l(c) else 0  (OLMES's acc_per_char; a tie counts as wrong)

A score's native value is ``question_scale(key)`` times the mean over questions (accuracy in %, the rest as is);
its standard error is binomial for accuracies and sd / sqrt(n) for the continuous metrics (``a4``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from selection_ops.evaluation.a4 import binomial_stderr, mean_stderr
from selection_ops.evaluation.benchmarks import LIKELIHOOD_BENCHMARKS, EvaluationError, check_benchmarks
from selection_ops.evaluation.likelihood_data import dataset_path
from selection_ops.evaluation.questions import PERCENT_OF_UNIT, QuestionScore, question_scale
from selection_ops.evaluation.summary import read_predictions

# relative agreement asked of our pooled NLL per token and OpenCompass's average_ppl (same floats, summed apart)
POOLED_RTOL = 1e-9


def bits_per_byte(nll_nats: float, n_bytes: int) -> float:
    """``nll / (ln 2 * bytes)``: a text's negative log-likelihood in bits per UTF-8 byte."""
    if n_bytes < 1:
        raise ValueError(f"bits per byte of a text with {n_bytes} bytes")
    return nll_nats / (math.log(2.0) * n_bytes)


def cloze_metrics(loglikelihoods: Sequence[float], n_chars: Sequence[int], gold: int) -> dict[str, float]:
    """``{"prob", "prob_norm", "margin", "acc"}`` of one question (see module doc) from its choices'
    log-likelihoods (nats), lengths (characters) and the index of the correct choice."""
    if len(loglikelihoods) != len(n_chars) or len(loglikelihoods) < 2 or not 0 <= gold < len(loglikelihoods):
        raise ValueError(f"a cloze question needs >= 2 choices with lengths and a gold index among them; got "
                         f"{len(loglikelihoods)} log-likelihoods, {len(n_chars)} lengths, gold {gold}")
    per_char = [ll / n for ll, n in zip(loglikelihoods, n_chars, strict=True)]
    top = max(per_char)
    log_total = top + math.log(sum(math.exp(x - top) for x in per_char))
    best_other = max(x for c, x in enumerate(per_char) if c != gold)
    return {"prob": math.exp(per_char[gold]), "prob_norm": math.exp(per_char[gold] - log_total),
            "margin": math.exp(per_char[gold]) - math.exp(best_other),
            "acc": 1.0 if per_char[gold] > best_other else 0.0}


@dataclass(frozen=True)
class ScoredRow:
    """One likelihood row with OpenCompass's answer: NLL (nats) and token count of its continuation."""

    question: str
    cluster: str | None
    choice: int | None
    gold: bool | None
    n_chars: int
    n_bytes: int
    nll: float
    n_tokens: int


def read_scored_rows(run_dir: Path, model_name: str, cache_dir: Path, abbr: str) -> list[ScoredRow]:
    """The rows of likelihood dataset ``abbr`` joined with OpenCompass's predictions, checked: same count, each
    prediction's prompt equal to its row's text, the pooled NLL per token equal to the results' ``average_ppl``."""
    rows_path = dataset_path(cache_dir, abbr)
    rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    samples, files = read_predictions(Path(run_dir) / "predictions" / model_name, abbr)
    where = ", ".join(str(f) for f in files)
    if len(samples) != len(rows):
        raise EvaluationError(f"{where}: {len(samples)} predictions for the {len(rows)} rows of {rows_path}")
    scored = []
    for index, (row, sample) in enumerate(zip(rows, samples, strict=True)):
        for field in ("ppl", "token_len", "origin_prompt"):
            if field not in sample:
                raise EvaluationError(f"{where}: prediction {index} has no field {field!r}")
        if sample["origin_prompt"] != row["text"]:
            raise EvaluationError(f"{where}: prediction {index}'s prompt differs from row {index} of {rows_path}")
        if not math.isfinite(float(sample["ppl"])) or int(sample["token_len"]) < 1:
            raise EvaluationError(f"{where}: prediction {index} has ppl {sample['ppl']!r}, token_len "
                                  f"{sample['token_len']!r}")
        scored.append(ScoredRow(row["question"], row.get("cluster"), row.get("choice"), row.get("gold"),
                                int(row["n_chars"]), int(row["n_bytes"]), float(sample["ppl"]),
                                int(sample["token_len"])))
    results_path = Path(run_dir) / "results" / model_name / f"{abbr}.json"
    if not results_path.is_file():
        raise EvaluationError(f"OpenCompass wrote no results for likelihood dataset {abbr!r} ({results_path})")
    reported = json.loads(results_path.read_text(encoding="utf-8")).get("average_ppl")
    pooled = sum(r.nll for r in scored) / sum(r.n_tokens for r in scored)
    if reported is None or not math.isclose(pooled, float(reported), rel_tol=POOLED_RTOL):
        raise EvaluationError(f"{results_path}: average_ppl {reported!r}, but the predictions in {where} give "
                              f"{pooled!r} nats per token")
    return scored


def _cloze_questions(key: str, rows: Sequence[ScoredRow]) -> list[QuestionScore]:
    prefix = LIKELIHOOD_BENCHMARKS[key].score_keys[0].removesuffix("_prob")
    grouped: dict[str, list[ScoredRow]] = {}
    for row in rows:
        grouped.setdefault(row.question, []).append(row)
    questions = []
    for question, choices in grouped.items():
        golds = [i for i, row in enumerate(choices) if row.gold]
        if len(golds) != 1 or [row.choice for row in choices] != list(range(len(choices))):
            raise EvaluationError(f"{key}: question {question!r} needs choices 0..k-1 and exactly one correct one; "
                                  f"got choices {[row.choice for row in choices]}, correct {golds}")
        metrics = cloze_metrics([-row.nll for row in choices], [row.n_chars for row in choices], golds[0])
        questions += [QuestionScore(f"{prefix}_{name}", question, value, choices[0].cluster)
                      for name, value in metrics.items()]
    return questions


def likelihood_questions(run_dir: Path, model_name: str, cache_dir: Path,
                         keys: Sequence[str]) -> tuple[QuestionScore, ...]:
    """Per-question scores of the likelihood dataset ``keys`` of one OpenCompass run (``run_dir`` =
    ``outputs/<timestamp>``; ``cache_dir`` = the ``$COMPASS_DATA_CACHE`` the run read its rows from)."""
    questions: list[QuestionScore] = []
    for key in check_benchmarks(keys, LIKELIHOOD_BENCHMARKS) if keys else []:
        bench = LIKELIHOOD_BENCHMARKS[key]
        rows = [row for abbr in bench.abbrs for row in read_scored_rows(run_dir, model_name, cache_dir, abbr)]
        if bench.kind == "reference_bpb":
            (score_key,) = bench.score_keys
            questions += [QuestionScore(score_key, row.question, bits_per_byte(row.nll, row.n_bytes), row.cluster)
                          for row in rows]
        else:
            questions += _cloze_questions(key, rows)
    return tuple(questions)


def proxy_summary(questions: Sequence[QuestionScore], score_keys: Sequence[str]) -> tuple[
        dict[str, float], dict[str, float], dict[str, int]]:
    """``(scores, stderr, n)`` per score key on its native scale: ``question_scale(key)`` x the mean per-question
    score; se binomial for proportions (accuracies, in %), sd / sqrt(n) otherwise; n = questions."""
    scores, stderr, counts = {}, {}, {}
    for key in score_keys:
        values = [q.score for q in questions if q.benchmark == key]
        if not values:
            raise EvaluationError(f"likelihood score {key!r} has no questions")
        scale = question_scale(key)
        scores[key] = scale * sum(values) / len(values)
        stderr[key] = (binomial_stderr(scores[key], len(values)) if scale == PERCENT_OF_UNIT
                       else mean_stderr(values))
        counts[key] = len(values)
    return scores, stderr, counts
