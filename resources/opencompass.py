"""Evaluation through OpenCompass's real CLI: the subprocess and its configuration (the plain parts, benchmark table,
data layout, generated configs, summary and judgement parsing, live in ``selection_ops.evaluation``).

One evaluation lays out its work directory as

    <work_dir>/compass_data/data/...   ``$COMPASS_DATA_CACHE``: the layout OpenCompass's dataset loaders read, built
                                       from ``shared/data`` (objective: ``compass_data``; preference:
                                       ``preference_data``)
    <work_dir>/config/                 the generated config + the copied ``eval_configs/<base>.py``
    <work_dir>/outputs/<timestamp>/    OpenCompass's own output (predictions, results, ``summary/summary_*.csv``)
    <work_dir>/opencompass.log         the CLI's stdout + stderr

OpenCompass exits 0 even when every task failed; it then writes ``-`` in the summary. So the summary (objective)
and the re-read judgements (preference) are the only truth.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from resources.cli_process import FollowProgress, log_tail, run_logged
from resources.llamafactory import check_finished_model
from resources.named_configs import named_config
from resources.opencompass_scale import EvalScaleSettings, infer_config_text
from selection_ops.evaluation.a4 import native_stderr
from selection_ops.evaluation.benchmarks import (
    BENCHMARKS,
    LIKELIHOOD_BENCHMARKS,
    PREFERENCE_BENCHMARKS,
    EvaluationError,
    check_benchmarks,
    split_benchmarks,
)
from selection_ops.evaluation.compass_data import prepare_compass_data
from selection_ops.evaluation.compass_progress import PROGRESS_INTERVAL_S, CompassProgressReporter
from selection_ops.evaluation.config import hf_model_entry, write_eval_config, write_preference_config
from selection_ops.evaluation.judge import JudgeSettings
from selection_ops.evaluation.judgements import (
    check_parse_rates,
    native_scores,
    read_judgements,
    write_raw_judgements,
)
from selection_ops.evaluation.likelihood_data import chat_prompt_renderer, prepare_likelihood_data
from selection_ops.evaluation.likelihood_scores import likelihood_questions, proxy_summary
from selection_ops.evaluation.objective_questions import objective_questions
from selection_ops.evaluation.preference_data import prepare_preference_data
from selection_ops.evaluation.punkt_tables import ensure_punkt_tab, tables_dir
from selection_ops.evaluation.questions import QuestionScore
from selection_ops.evaluation.summary import find_summary, parse_summary, sample_counts
from selection_ops.foundation.atomic import write_text_atomic
from selection_ops.foundation.devices import cuda_available
from selection_ops.foundation.paths import DATA_DIR_ENV, REPO_ROOT, data_dir, state_dir

logger = logging.getLogger(__name__)

EVAL_CONFIGS_DIR = REPO_ROOT / "eval_configs"
DEFAULT_BASE_CONFIG = "objective_small"
DEFAULT_PREFERENCE_CONFIG = "subjective_small"
# The embedded default (benchmarks/RESULTS_power.md measures every candidate: seconds per model, MDE between two
# fine-tunes): generative ARC-C on 30 questions is the A.4 knowledge half (answers are one letter, capped at 8 tokens
# by objective_small; at 30 or 60 questions it cannot tell two fine-tunes apart, it keeps Avg_obj in the report);
# the likelihood channel's reference bits per byte on 12 whole AlpacaEval gpt-4-1106-preview answers is the low-noise
# proxy (measured: its MDE between two fine-tunes is 1.5 % of its spread across questions, ARC's 24 %). GSM8K (0 %
# for every SmolLM2 fine-tune, 64-token answers) and MMLU (57 datasets) are out.
DEFAULT_BENCHMARKS = ("arc_c", "ref_bpb_alpaca")
# A prefix of each reference (``reference_chars``) costs less per reference but is noisier per second: measured,
# 60 references cut to 400 characters gave a paired MDE of 0.0037 bits per byte, 20 whole ones 0.0026 at the same
# cost. The default scores whole answers; the setting stays for very long references.
# The embedded default's preference half: WildBench's tasks are Hub-only, so it is left out unless a local copy
# exists; two questions per benchmark keep the judge's cost per trained cell small on 2 CPU cores.
DEFAULT_PREFERENCE_BENCHMARKS = ("alpacaeval_v2", "mtbench")
DEFAULT_PREFERENCE_SAMPLE_LIMIT = 2
# The embedded default's sample limits (arc_c 30, ref_bpb_alpaca 12) and its preference half, a pipeline check
# (AlpacaEval on 2 questions in both orders, MT-Bench on 1 dialogue, 32-token answers: the smallest run that
# exercises both judging modes end to end), are set by the profile: dagster_project/profiles/default.yaml.


@dataclass(frozen=True)
class EvaluationResult:
    """``scores``: knowledge benchmark key -> score in [0, 100]; ``avg_obj``: their mean (MIG Avg_obj; NaN when only
    likelihood keys ran); ``n`` items scored and the binomial standard error per benchmark.

    ``proxy_scores``: likelihood score key (``ref_bpb_alpaca``, ``arc_c_prob``, ...; ``LIKELIHOOD_BENCHMARKS``) ->
    its native value (``question_scale`` x the mean per-question score: bits per byte, probabilities, margin,
    accuracy in %), with ``proxy_stderr`` and ``proxy_n`` (questions); never part of ``scores`` or Avg_obj.
    ``questions``: the per-question scores of both (``QuestionScore``; one row per question and score key)."""

    scores: dict[str, float]
    avg_obj: float
    summary_path: Path
    wall_s: float
    log_path: Path | None = None
    n: dict[str, int] = field(default_factory=dict)
    stderr: dict[str, float] = field(default_factory=dict)
    questions: tuple[QuestionScore, ...] = ()  # per-question scores from OpenCompass's per-sample outputs
    proxy_scores: dict[str, float] = field(default_factory=dict)
    proxy_stderr: dict[str, float] = field(default_factory=dict)
    proxy_n: dict[str, int] = field(default_factory=dict)

    def logged(self) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
        """``(scores, stderr, n)`` of every score this run logs and shows: the knowledge benchmarks and the proxy
        scores (the averages take only A.4's benchmarks: ``a4.a4_part``)."""
        return ({**self.scores, **self.proxy_scores}, {**self.stderr, **self.proxy_stderr},
                {**self.n, **self.proxy_n})


@dataclass(frozen=True)
class PreferenceResult:
    """Native-scale preference scores (win rate %, rating 1-10, reward -100..100) with their noise and the judge."""

    scores: dict[str, float]
    stderr: dict[str, float]
    n: dict[str, int]
    parse_rate: dict[str, float]
    judge: str
    judge_mode: str
    raw_judgements_dir: Path
    summary_path: Path | None
    wall_s: float
    log_path: Path
    pairwise_order: str = "random"  # how AlpacaEval / WildBench showed the two outputs (JudgeSettings)
    questions: tuple[QuestionScore, ...] = ()  # per-question scores (one per comparison / dialogue)


def default_data_dir() -> Path:
    """``$INFOSIFT_DATA_DIR``, else ``<repo>/../shared/data``."""
    return data_dir()


def base_config_path(base_config: str | Path) -> Path:
    """``eval_configs/<name>.py`` for a bare name, else the given file."""
    return named_config(base_config, EVAL_CONFIGS_DIR, (".py",), "eval config")


def avg_obj(scores: dict[str, float]) -> float:
    """MIG Avg_obj: the mean of the (percentage-scale) knowledge-based benchmark scores."""
    if not scores:
        raise ValueError("Avg_obj of no benchmark scores")
    return sum(scores.values()) / len(scores)


def nltk_data_dir() -> Path:
    """Where the rebuilt Punkt tables live (``NLTK_DATA`` of every OpenCompass run): ``<venv>/nltk_data`` when
    ``scripts/setup.sh`` wrote and verified them there (on NLTK's default path), else ``<state>/nltk_data``, built
    on first use."""
    venv = Path(sys.prefix) / "nltk_data"
    return venv if (tables_dir(venv) / "verified.json").is_file() else state_dir() / "nltk_data"


def compass_env(cache_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The OpenCompass process's environment: local data only, offline Hub, our packages importable (generated
    configs import ``selection_ops.evaluation.judge_models``), NLTK reading the rebuilt Punkt tables."""
    env = dict(os.environ)
    env.pop("DATASET_SOURCE", None)  # local files, never ModelScope / HF
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see resources.llamafactory.training_env
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):  # as in training_env
        env.setdefault(name, "1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(COMPASS_DATA_CACHE=str(cache_dir), TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1",
               NLTK_DATA=str(nltk_data_dir()))
    env.update(extra or {})
    return env


def opencompass_cli() -> Path:
    """The ``opencompass`` script of this interpreter's environment."""
    cli = Path(sys.executable).parent / "opencompass"
    if not cli.is_file():
        raise FileNotFoundError(f"opencompass CLI not found next to {sys.executable}; run scripts/setup.sh")
    return cli


def opencompass_command(config_path: Path, outputs_dir: Path, scale: EvalScaleSettings | None = None) -> list[str]:
    """The CLI call for a generated config: ``--debug`` (one process) unless ``scale`` is parallel, in which case
    its ``infer`` / ``eval`` sections are appended to the config (OpenCompass's partitioner and runner take over)."""
    cmd = [str(opencompass_cli()), str(config_path), "--work-dir", str(outputs_dir)]
    if scale is None or not scale.parallel:
        return [*cmd, "--debug"]
    text = Path(config_path).read_text(encoding="utf-8")
    write_text_atomic(config_path, text + "\n# evaluation beyond one worker (resources/opencompass_scale.py)\n"
                      + infer_config_text(scale))
    return cmd


def run_followed(cmd: Sequence[str], *, cwd: Path, env: dict[str, str], log_path: Path, timeout_s: float | None,
                 on_progress: Callable[[str], None] | None, label: str, interval_s: float) -> float:
    """``run_logged`` for the ``opencompass`` CLI, its log followed into ``on_progress`` while it runs."""
    reporter = (CompassProgressReporter(log_path, on_progress, label=label, interval_s=interval_s)
                if on_progress else None)
    follow = FollowProgress(reporter, label)
    wall_s = run_logged(cmd, cwd=cwd, env=env, log_path=log_path, timeout_s=timeout_s, error=EvaluationError,
                        on_tick=follow.tick if reporter else None, tick_s=min(5.0, interval_s))
    follow.final()
    return wall_s


def run_opencompass(*, model_path: str | Path, model_name: str, work_dir: Path, datasets: Sequence[str],
                    sample_limit: int | None, data_dir: Path | None = None, max_out_len: int | None = 64,
                    batch_size: int = 8, base_config: str | Path = DEFAULT_BASE_CONFIG,
                    timeout_s: float | None = None, sample_limits: dict[str, int] | None = None,
                    trust_remote_code: bool = False, scale: EvalScaleSettings | None = None,
                    reference_chars: int | None = None, on_progress: Callable[[str], None] | None = None,
                    progress_interval_s: float = PROGRESS_INTERVAL_S) -> EvaluationResult:
    """Evaluate ``model_path`` on ``datasets`` with the real ``opencompass`` CLI: knowledge benchmark keys
    (``BENCHMARKS``) and likelihood dataset keys (``LIKELIHOOD_BENCHMARKS``: ``ref_bpb_alpaca``,
    ``ref_bpb_mtbench``, ``arc_c_cloze``, ``mmlu_cloze``) in one list, one process, one model load.

    ``sample_limit`` caps every dataset (knowledge: the first N test items of every OpenCompass dataset, MMLU/BBH of
    every subject; likelihood: N questions, see ``likelihood_data``), ``sample_limits`` per key replaces it
    (``{"arc_c": 60, "ref_bpb_alpaca": 100, "arc_c_cloze": 200}``). Likelihood rows are rendered with the evaluated
    model's chat template here (``likelihood_data.chat_prompt_renderer``) before OpenCompass starts.

    By default tasks run in OpenCompass's ``--debug`` mode: in one process, one after another, the model loaded once
    (on 2 CPU cores a subprocess per task would spend more time importing than inferring). With a parallel ``scale``
    (several workers, or Slurm) the config gets OpenCompass's ``NumWorkerPartitioner`` and runner instead and runs
    without ``--debug`` (``opencompass_command``). Previous outputs in ``<work_dir>/outputs`` are removed first so a
    stale summary is never read. ``on_progress(line)`` gets the run's progress from its log (task, dataset, batch,
    time left: ``selection_ops.evaluation.compass_progress``) every ``progress_interval_s`` seconds while it runs.
    """
    check_finished_model(model_path)
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    knowledge, likelihood = split_benchmarks(datasets)
    limits = dict(sample_limits or {})
    cache_dir = work_dir / "compass_data"
    if knowledge:
        prepare_compass_data(data_dir, cache_dir, knowledge)
    if likelihood:
        prepare_likelihood_data(data_dir, cache_dir, likelihood, {k: limits.get(k, sample_limit) for k in likelihood},
                                chat_prompt_renderer(model_path, trust_remote_code=trust_remote_code),
                                answer_chars=reference_chars)
    if "ifeval" in knowledge:
        ensure_punkt_tab(nltk_data_dir(), data_dir)
    config_path = write_eval_config(work_dir / "config", model_path=model_path, model_name=model_name,
                                    benchmarks=datasets, sample_limit=sample_limit, max_out_len=max_out_len,
                                    batch_size=batch_size, base_config=base_config_path(base_config),
                                    use_gpu=cuda_available(), sample_limits=limits,
                                    trust_remote_code=trust_remote_code)
    outputs_dir = work_dir / "outputs"
    if outputs_dir.exists():
        shutil.rmtree(outputs_dir)
    log_path = work_dir / "opencompass.log"
    env = compass_env(cache_dir)
    cmd = opencompass_command(config_path, outputs_dir, scale)
    logger.info("evaluating %s (%s) on %s, %s samples per dataset (%s); log %s", model_name, model_path,
                list(datasets), sample_limit, limits, log_path)
    wall_s = run_followed(cmd, cwd=work_dir, env=env, log_path=log_path, timeout_s=timeout_s,
                          on_progress=on_progress, label=f"OpenCompass {model_name}",
                          interval_s=progress_interval_s)
    try:
        summary_path = find_summary(outputs_dir)
        scores = parse_summary(summary_path, model_name, knowledge) if knowledge else {}
    except EvaluationError as err:
        raise EvaluationError(f"{err}\nlog {log_path}; tail:\n{log_tail(log_path)}") from None
    run_dir = summary_path.parents[1]
    n = sample_counts(run_dir, model_name, knowledge) if knowledge else {}
    questions = (objective_questions(run_dir, model_name, knowledge, scores, summary_path)
                 + likelihood_questions(run_dir, model_name, cache_dir, likelihood))
    score_keys = [score for key in likelihood for score in LIKELIHOOD_BENCHMARKS[key].score_keys]
    proxy_scores, proxy_stderr, proxy_n = proxy_summary(questions, score_keys)
    result = EvaluationResult(scores=scores, avg_obj=avg_obj(scores) if scores else math.nan,
                              summary_path=summary_path, wall_s=wall_s, log_path=log_path, n=n,
                              stderr={k: native_stderr(k, v, n.get(k)) for k, v in scores.items()},
                              questions=questions, proxy_scores=proxy_scores, proxy_stderr=proxy_stderr,
                              proxy_n=proxy_n)
    logger.info("evaluation of %s done in %.1f s: %s, Avg_obj %.2f; likelihood channel %s", model_name, wall_s,
                scores, result.avg_obj, proxy_scores)
    return result


class OpenCompassRunner(ConfigurableResource):
    """Scores a model on knowledge-based benchmarks with OpenCompass (``run_opencompass``).

    The smallest end-to-end settings lower ``sample_limit`` and clear ``sample_limits`` (the "small" resource set of
    ``dagster_project.definitions``).
    """

    datasets: list[str] = Field(default=list(DEFAULT_BENCHMARKS),
                                description=f"benchmark keys, any of {sorted(BENCHMARKS)}, and likelihood "
                                "dataset keys (proxy scores, never in Avg_obj), any of "
                                f"{sorted(LIKELIHOOD_BENCHMARKS)}")
    sample_limit: int | None = Field(default=10, description="first N test items of every OpenCompass dataset "
                                     "(MMLU/BBH: of every subject; likelihood keys: N questions); None = all")
    sample_limits: dict[str, int] = Field(default_factory=dict, description="per-benchmark sample limits that "
                                          "replace sample_limit (the embedded default: profile default)")
    data_dir: str | None = Field(default=None, description=f"shared data folder (default ${DATA_DIR_ENV} or "
                                 "<repo>/../shared/data)")
    max_out_len: int | None = Field(default=64, description="cap on generated tokens per answer; None = configs'")
    batch_size: int = Field(default=8, description="prompts per generate() call")
    base_config: str = Field(default=DEFAULT_BASE_CONFIG, description="eval_configs/<name>.py (or a path)")
    timeout_s: float | None = Field(default=None, description="kill OpenCompass after this many seconds")
    trust_remote_code: bool = Field(default=False, description="let model folders run their own Python code "
                                    "(OpenCompass's default is on; off here unless set explicitly)")
    eval_workers: int = Field(default=1, description="inference tasks per (model, dataset): OpenCompass's "
                              "NumWorkerPartitioner, one task per GPU with the local runner; 1 = one process")
    eval_runner: str = Field(default="local", description="local (LocalRunner) or slurm (SlurmRunner)")
    slurm_partition: str = Field(default="", description="slurm: the partition the tasks are submitted to")
    reference_chars: int | None = Field(default=None, description="likelihood channel: score only the first N "
                                        "characters of each reference answer (ref_bpb_*; cut at a space); None = "
                                        "whole answers (the embedded default)")

    def scale(self) -> EvalScaleSettings:
        return EvalScaleSettings(workers=self.eval_workers, runner=self.eval_runner,
                                 slurm_partition=self.slurm_partition)

    def resolved_sample_limit(self) -> int | None:
        return self.sample_limit

    def resolved_sample_limits(self) -> dict[str, int]:
        return dict(self.sample_limits)

    def evaluate(self, *, model_path: str | Path, model_name: str, work_dir: Path,
                 on_progress: Callable[[str], None] | None = None) -> EvaluationResult:
        return run_opencompass(model_path=model_path, model_name=model_name, work_dir=work_dir,
                               on_progress=on_progress,
                               datasets=self.datasets, sample_limit=self.resolved_sample_limit(),
                               data_dir=Path(self.data_dir) if self.data_dir else None,
                               max_out_len=self.max_out_len, batch_size=self.batch_size,
                               base_config=self.base_config, timeout_s=self.timeout_s,
                               sample_limits=self.resolved_sample_limits(),
                               trust_remote_code=self.trust_remote_code, scale=self.scale(),
                               reference_chars=self.reference_chars)


def run_preference(*, model_path: str | Path, model_name: str, work_dir: Path, judge: JudgeSettings,
                   benchmarks: Sequence[str], sample_limits: dict[str, int | None], data_dir: Path | None = None,
                   wildbench_dir: Path | None = None, max_out_len: int | None = 64, batch_size: int = 8,
                   base_config: str | Path = DEFAULT_PREFERENCE_CONFIG, timeout_s: float | None = None,
                   judgement_cache: Path | None = None, trust_remote_code: bool = False,
                   on_progress: Callable[[str], None] | None = None,
                   progress_interval_s: float = PROGRESS_INTERVAL_S) -> PreferenceResult:
    """Evaluate ``model_path`` on human-preference ``benchmarks`` through OpenCompass's subjective pipeline.

    The model answers, ``judge`` judges (``SubjectiveNaivePartitioner`` / ``SubjectiveEvalTask``); then every
    judgement is re-read with OpenCompass's parsers (``selection_ops.evaluation.judgements``): a parse rate below
    ``judge.min_parse_rate`` fails the evaluation naming benchmark, count and a sample output, also when
    OpenCompass itself crashed on the unparseable judgements (a zero-parse AlpacaEval does). The raw judgements are
    copied to ``<work_dir>/raw_judgements/`` for MLflow. ``judgement_cache`` (default ``<state>/judgements``) keeps
    every judgement by (judge, prompt), so re-evaluating the same outputs with the same judge costs no judge call.
    ``on_progress(line)``: the model answering, then the judge judging, as in ``run_opencompass``.
    """
    check_finished_model(model_path)
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    benchmarks = check_benchmarks(benchmarks, PREFERENCE_BENCHMARKS)
    cache_dir = work_dir / "compass_data"
    datasets = prepare_preference_data(data_dir, cache_dir, benchmarks, sample_limits,
                                       wildbench_source=Path(wildbench_dir) if wildbench_dir else None)
    use_gpu = cuda_available()
    judge_class, judge_entry = judge.model_entry(cache_dir=judgement_cache or state_dir() / "judgements",
                                                 use_gpu=use_gpu)
    model = hf_model_entry(model_name=model_name, model_path=model_path, max_out_len=max_out_len,
                           batch_size=batch_size, use_gpu=use_gpu, trust_remote_code=trust_remote_code,
                           max_seq_len=4096)
    config_path = write_preference_config(work_dir / "config", base_config=base_config_path(base_config),
                                          model=model, judge_class=judge_class, judge=judge_entry,
                                          datasets=datasets, max_out_len=max_out_len,
                                          pairwise_order=judge.resolved_pairwise_order)
    outputs_dir = work_dir / "outputs"
    if outputs_dir.exists():
        shutil.rmtree(outputs_dir)
    log_path = work_dir / "opencompass.log"
    env = compass_env(cache_dir, judge.environment())
    cmd = [str(opencompass_cli()), str(config_path), "--work-dir", str(outputs_dir), "--debug"]
    logger.info("preference evaluation of %s on %s judged by %s; log %s", model_name, datasets, judge.identity(),
                log_path)
    failure: EvaluationError | None = None
    wall_s = 0.0
    try:
        wall_s = run_followed(cmd, cwd=work_dir, env=env, log_path=log_path, timeout_s=timeout_s,
                              on_progress=on_progress, label=f"preference {model_name} (judge {judge.identity()})",
                              interval_s=progress_interval_s)
    except EvaluationError as err:  # judgements may still explain it (below)
        failure = err
    run_dirs = sorted(p for p in outputs_dir.glob("*") if p.is_dir())
    judgements = (read_judgements(run_dirs[-1], model_name, judge_entry["abbr"], judge.identity(), datasets)
                  if run_dirs else {})
    if judgements and any(b.total for b in judgements.values()):
        check_parse_rates(judgements, judge.min_parse_rate)
    if failure is not None:
        raise failure
    if not judgements:
        raise EvaluationError(f"OpenCompass wrote no run folder under {outputs_dir}; log {log_path}; tail:\n"
                              f"{log_tail(log_path)}")
    check_parse_rates(judgements, judge.min_parse_rate)
    raw_dir = work_dir / "raw_judgements"
    write_raw_judgements(judgements, raw_dir)
    scores, stderr, n = native_scores(judgements)
    try:
        summary_path: Path | None = find_summary(outputs_dir)
    except EvaluationError:
        summary_path = None
    result = PreferenceResult(scores=scores, stderr=stderr, n=n,
                              parse_rate={k: b.parse_rate for k, b in judgements.items()}, judge=judge.identity(),
                              judge_mode=judge.resolved_mode, raw_judgements_dir=raw_dir, summary_path=summary_path,
                              wall_s=wall_s, log_path=log_path, pairwise_order=judge.resolved_pairwise_order,
                              questions=tuple(q for bench in judgements.values() for q in bench.question_scores()))
    logger.info("preference evaluation of %s done in %.1f s: %s (judge %s)", model_name, wall_s, scores,
                judge.identity())
    return result


class PreferenceEvaluator(ConfigurableResource):
    """Scores a model on human-preference benchmarks with OpenCompass's subjective pipeline (``run_preference``);
    the judge is its own resource (``resources.judge.JudgeResource``)."""

    benchmarks: list[str] = Field(default=list(DEFAULT_PREFERENCE_BENCHMARKS),
                                  description=f"benchmark keys, any of {sorted(PREFERENCE_BENCHMARKS)}")
    sample_limit: int | None = Field(default=DEFAULT_PREFERENCE_SAMPLE_LIMIT,
                                     description="questions per benchmark, spread over its categories; None = all")
    sample_limits: dict[str, int] = Field(default_factory=dict, description="per-benchmark limits")
    data_dir: str | None = Field(default=None, description=f"shared data folder (default ${DATA_DIR_ENV})")
    wildbench_dir: str | None = Field(default=None, description="local WildBench v2 copy in OpenCompass's layout "
                                      "(default <data_dir>/wildbench/opencompass; else the Hub)")
    max_out_len: int | None = Field(default=64, description="cap on the evaluated model's tokens per answer")
    batch_size: int = Field(default=8, description="prompts per generate() call")
    base_config: str = Field(default=DEFAULT_PREFERENCE_CONFIG, description="eval_configs/<name>.py (or a path)")
    timeout_s: float | None = Field(default=None, description="kill OpenCompass after this many seconds")
    trust_remote_code: bool = Field(default=False, description="let the evaluated model's folder run its code")

    def evaluate(self, *, model_path: str | Path, model_name: str, work_dir: Path,
                 judge: JudgeSettings, on_progress: Callable[[str], None] | None = None) -> PreferenceResult:
        limits = {key: self.sample_limits.get(key, self.sample_limit) for key in self.benchmarks}
        return run_preference(model_path=model_path, model_name=model_name, work_dir=work_dir, judge=judge,
                              on_progress=on_progress,
                              benchmarks=self.benchmarks, sample_limits=limits,
                              data_dir=Path(self.data_dir) if self.data_dir else None,
                              wildbench_dir=Path(self.wildbench_dir) if self.wildbench_dir else None,
                              max_out_len=self.max_out_len, batch_size=self.batch_size,
                              base_config=self.base_config, timeout_s=self.timeout_s,
                              trust_remote_code=self.trust_remote_code)
