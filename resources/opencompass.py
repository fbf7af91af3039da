"""Evaluation through OpenCompass's real CLI on local copies of the benchmarks; scores read from its summary CSV.

One evaluation lays out its work directory as

    <work_dir>/compass_data/data/...   ``$COMPASS_DATA_CACHE``: the layout OpenCompass's dataset loaders read, built
                                       from ``shared/data`` by ``prepare_compass_data`` (symlinks or conversions)
    <work_dir>/config/                 ``eval_config.py`` (generated) + the copied ``eval_configs/<base>.py``
    <work_dir>/outputs/<timestamp>/    OpenCompass's own output (predictions, results, ``summary/summary_*.csv``)
    <work_dir>/opencompass.log         the CLI's stdout + stderr

OpenCompass exits 0 even when every task failed; it then writes ``-`` in the summary. So the summary is the only
truth: a benchmark whose row is missing or ``-`` raises ``EvaluationError`` naming it, with the log's tail.

Avg_obj (MIG Appx. A.4, Table 1): the mean of the knowledge-based benchmark scores on a percentage scale. Accuracy,
pass@1 and IFEval's strict accuracy already are percentages, so the normalisation is the identity here.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from resources.cli_process import log_tail, run_logged
from resources.named_configs import named_config
from selection_ops.foundation.devices import cuda_available
from selection_ops.foundation.paths import DATA_DIR_ENV, REPO_ROOT
from selection_ops.foundation.paths import data_dir as shared_data_dir

logger = logging.getLogger(__name__)

EVAL_CONFIGS_DIR = REPO_ROOT / "eval_configs"
DEFAULT_BASE_CONFIG = "objective_small"
# The embedded default: two cheap benchmarks. MMLU is 57 OpenCompass datasets (the sample limit applies to each
# subject: 57 x N prompts), too slow for the 15-minute loop on 2 CPU cores; IFEval's evaluator needs NLTK punkt data,
# which is not installable offline (only PyPI is reachable, and NLTK data is not on PyPI).
DEFAULT_BENCHMARKS = ("arc_c", "gsm8k")
# ARC answers are one letter (objective_small caps them at 8 tokens), so 60 questions cost about what 10 GSM8K
# answers do, and the score moves in steps of 1.7 points instead of 10: enough to tell fine-tunes apart.
DEFAULT_SAMPLE_LIMITS = {"arc_c": 60}
ENV_DATA_DIR = DATA_DIR_ENV


@dataclass(frozen=True)
class Benchmark:
    """Where a benchmark's score sits in OpenCompass's summary, and its data in ``shared/data``."""

    key: str
    summary_dataset: str  # the ``dataset`` column: a dataset abbr or a summary group name
    metric: str  # the ``metric`` column
    shared_subdir: str  # folder under shared/data
    member_prefix: str | None = None  # for groups: the abbr prefix of the member datasets, to name failed ones


BENCHMARKS: dict[str, Benchmark] = {
    "arc_c": Benchmark("arc_c", "ARC-c", "accuracy", "arc_challenge"),
    "mmlu": Benchmark("mmlu", "mmlu", "naive_average", "mmlu", member_prefix="lukaemon_mmlu_"),
    "gsm8k": Benchmark("gsm8k", "gsm8k", "accuracy", "gsm8k"),
    # MIG Appx. A.4: "for IFEval, we provide strictly followed scores" (prompt level)
    "ifeval": Benchmark("ifeval", "IFEval", "Prompt-level-strict-accuracy", "ifeval"),
    "bbh": Benchmark("bbh", "bbh", "naive_average", "bbh", member_prefix="bbh-"),
    "humaneval": Benchmark("humaneval", "openai_humaneval", "humaneval_pass@1", "humaneval"),
}


class EvaluationError(RuntimeError):
    """OpenCompass failed, or its summary lacks a score for a requested benchmark."""


@dataclass(frozen=True)
class EvaluationResult:
    """``scores``: benchmark key -> score in [0, 100]; ``avg_obj``: their mean (MIG Avg_obj)."""

    scores: dict[str, float]
    avg_obj: float
    summary_path: Path
    wall_s: float
    log_path: Path | None = None


def default_data_dir() -> Path:
    """``$INFOSIFT_DATA_DIR``, else ``<repo>/../shared/data`` (owned by ``foundation.paths``)."""
    return shared_data_dir()


def check_benchmarks(benchmarks: Sequence[str]) -> list[str]:
    unknown = [b for b in benchmarks if b not in BENCHMARKS]
    if unknown or not benchmarks:
        raise ValueError(f"unknown or no benchmarks {unknown or list(benchmarks)}; known: {sorted(BENCHMARKS)}")
    return list(dict.fromkeys(benchmarks))


# ---------------------------------------------------------------------------------------------------------------
# $COMPASS_DATA_CACHE from shared/data
# ---------------------------------------------------------------------------------------------------------------

def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"benchmark data not found: {path} (set {ENV_DATA_DIR} or the runner's data_dir)")
    return path


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(_require(source).resolve())


def _write_if_changed(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def _arc_to_ai2_jsonl(source: Path) -> str:
    """HF ``ai2_arc`` rows (``question`` str, ``choices.{text,label}``) -> AI2's original jsonl that
    ``opencompass.datasets.ARCDataset`` reads (``question.stem``, ``question.choices[{label, text}]``)."""
    lines = []
    for line_no, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        for key in ("question", "choices", "answerKey"):
            if key not in row:
                raise ValueError(f"{source}:{line_no}: missing field {key!r}")
        choices = [{"label": label, "text": text} for label, text in zip(row["choices"]["label"],
                                                                          row["choices"]["text"], strict=True)]
        lines.append(json.dumps({"id": row.get("id"), "question": {"stem": row["question"], "choices": choices},
                                 "answerKey": row["answerKey"]}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _mmlu_to_hendrycks_csv(source: Path) -> str:
    """``question,choice0..3,answer`` (header, answer index 0-3) -> hendrycks' headerless 6-column CSV with the
    answer as a letter, which ``opencompass.datasets.MMLUDataset`` reads."""
    out_rows = []
    with open(source, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != ["question", "choice0", "choice1", "choice2", "choice3", "answer"]:
            raise ValueError(f"{source}: unexpected header {header}")
        for line_no, row in enumerate(reader, start=2):
            if len(row) != 6:
                raise ValueError(f"{source}:{line_no}: {len(row)} columns, expected 6")
            if row[5] not in ("0", "1", "2", "3"):
                raise ValueError(f"{source}:{line_no}: field 'answer' is {row[5]!r}, expected 0-3")
            out_rows.append([*row[:5], "ABCD"[int(row[5])]])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(out_rows)
    return buffer.getvalue()


def prepare_compass_data(data_dir: Path, cache_dir: Path, benchmarks: Sequence[str]) -> Path:
    """Lay out ``<cache_dir>/data/...`` as OpenCompass's loaders expect, for the given benchmarks; returns cache_dir.

    Paths follow ``opencompass/utils/datasets_info.py`` (``local`` entries):
    ``data/ARC/ARC-c/ARC-Challenge-Test.jsonl``, ``data/mmlu/{dev,test}/<subject>_<split>.csv``,
    ``data/gsm8k/{train,test}.jsonl``, ``data/ifeval/input_data.jsonl``,
    ``data/BBH/data/<task>.json``, ``data/humaneval/human-eval-v2-20210705.jsonl``. Files already in OpenCompass's
    format are symlinked; ARC and MMLU are converted (see the helpers); HumanEval is decompressed.
    """
    data_dir = Path(data_dir)
    root = Path(cache_dir) / "data"
    for key in check_benchmarks(benchmarks):
        src = _require(data_dir / BENCHMARKS[key].shared_subdir)
        if key == "arc_c":
            _write_if_changed(root / "ARC" / "ARC-c" / "ARC-Challenge-Test.jsonl",
                              _arc_to_ai2_jsonl(_require(src / "ARC-Challenge-test.jsonl")))
        elif key == "mmlu":
            for split in ("dev", "test"):
                files = sorted(_require(src / split).glob(f"*_{split}.csv"))
                if not files:
                    raise FileNotFoundError(f"no *_{split}.csv files in {src / split}")
                for file in files:
                    _write_if_changed(root / "mmlu" / split / file.name, _mmlu_to_hendrycks_csv(file))
        elif key == "gsm8k":
            for split in ("train", "test"):
                _link(src / f"{split}.jsonl", root / "gsm8k" / f"{split}.jsonl")
        elif key == "ifeval":
            _link(src / "input_data.jsonl", root / "ifeval" / "input_data.jsonl")
        elif key == "bbh":
            for file in sorted(src.glob("*.json")):
                _link(file, root / "BBH" / "data" / file.name)
        elif key == "humaneval":
            with gzip.open(_require(src / "HumanEval.jsonl.gz"), "rt", encoding="utf-8") as f:
                _write_if_changed(root / "humaneval" / "human-eval-v2-20210705.jsonl", f.read())
    return Path(cache_dir)


# ---------------------------------------------------------------------------------------------------------------
# the generated config
# ---------------------------------------------------------------------------------------------------------------

def base_config_path(base_config: str | Path) -> Path:
    """``eval_configs/<name>.py`` for a bare name, else the given file."""
    return named_config(base_config, EVAL_CONFIGS_DIR, (".py",), "eval config")


def resolve_model(model_path: str | Path) -> tuple[str, str | None]:
    """``(model path, peft path)``: a LoRA output folder (``adapter_config.json``) is evaluated as its base model
    plus the adapter; anything else is a full model (local folder or Hub id)."""
    adapter_config = Path(model_path) / "adapter_config.json"
    if adapter_config.is_file():
        base = json.loads(adapter_config.read_text()).get("base_model_name_or_path")
        if not base:
            raise ValueError(f"{adapter_config}: field 'base_model_name_or_path' is missing or empty")
        return str(base), str(Path(model_path).resolve())
    return str(model_path), None


def write_eval_config(config_dir: Path, *, model_path: str | Path, model_name: str, benchmarks: Sequence[str],
                      sample_limit: int | None, max_out_len: int | None, batch_size: int,
                      base_config: str | Path = DEFAULT_BASE_CONFIG, use_gpu: bool = False,
                      sample_limits: dict[str, int] | None = None) -> Path:
    """Write ``<config_dir>/eval_config.py`` (and a copy of the base config beside it, which it reads via read_base).

    The generated config keeps the base config's datasets for ``benchmarks`` only, sets ``reader_cfg.test_range`` to
    the first ``sample_limit`` test items of every OpenCompass dataset (MMLU/BBH: of every subject; a benchmark named
    in ``sample_limits`` gets its own limit), caps every
    inferencer's ``max_out_len`` at ``max_out_len``, and adds one ``HuggingFacewithChatTemplate`` model (greedy;
    float32 on CPU, bfloat16 on GPU; base + ``peft_path`` for a LoRA folder). Returns the config's path.
    """
    benchmarks = check_benchmarks(benchmarks)
    sample_limits = dict(sample_limits or {})
    for name, limit in [("sample_limit", sample_limit), *sample_limits.items()]:
        if limit is not None and limit < 1:
            raise ValueError(f"sample limit of {name} must be >= 1 or None, got {limit}")
    if sample_limits:
        check_benchmarks(list(sample_limits))
    config_dir = Path(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True)
    source = base_config_path(base_config)
    base_module = f"infosift_base_{source.stem}"
    shutil.copyfile(source, config_dir / f"{base_module}.py")
    path, peft_path = resolve_model(model_path)
    model = {
        "abbr": model_name, "path": path, "peft_path": peft_path, "max_out_len": max_out_len or 512,
        "batch_size": batch_size, "max_seq_len": 2048,
        "model_kwargs": {"torch_dtype": "torch.bfloat16" if use_gpu else "torch.float32"},
        "generation_kwargs": {"do_sample": False}, "run_cfg": {"num_gpus": 1 if use_gpu else 0},
    }
    text = f'''"""Generated by resources.opencompass.write_eval_config for {model_name!r}; base: {source.name}."""
from mmengine.config import read_base
from opencompass.models import HuggingFacewithChatTemplate

with read_base():
    from .{base_module} import benchmark_datasets, summarizer

_benchmarks = {benchmarks!r}
_sample_limit = {sample_limit!r}
_sample_limits = {sample_limits!r}
_max_out_len = {max_out_len!r}
datasets = []
for _name in _benchmarks:
    _limit = _sample_limits.get(_name, _sample_limit)
    for _dataset in benchmark_datasets[_name]:
        if _limit is not None:
            _dataset['reader_cfg']['test_range'] = f'[0:{{_limit}}]'
        _inferencer = _dataset['infer_cfg']['inferencer']
        if _max_out_len is not None:
            _inferencer['max_out_len'] = min(_inferencer.get('max_out_len') or _max_out_len, _max_out_len)
        datasets.append(_dataset)
del _name, _dataset, _inferencer, _limit, benchmark_datasets

models = [dict(type=HuggingFacewithChatTemplate, **{model!r})]
'''
    config_path = config_dir / "eval_config.py"
    config_path.write_text(text)
    return config_path


# ---------------------------------------------------------------------------------------------------------------
# the summary
# ---------------------------------------------------------------------------------------------------------------

def find_summary(outputs_dir: Path) -> Path:
    """The newest ``<outputs_dir>/<timestamp>/summary/summary_*.csv``; EvaluationError when there is none."""
    found = sorted(Path(outputs_dir).glob("*/summary/summary_*.csv"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise EvaluationError(f"OpenCompass wrote no summary CSV under {outputs_dir}")
    return found[-1]


def parse_summary(summary_path: Path, model_name: str, benchmarks: Sequence[str]) -> dict[str, float]:
    """``{benchmark: score}`` from an OpenCompass summary CSV (columns ``dataset,version,metric,mode,<model>...``).

    Raises EvaluationError naming the benchmark when its row is missing or holds ``-`` (a failed task) or a value
    outside [0, 100]; for a group (MMLU, BBH) the member datasets whose rows are ``-`` are named too.
    """
    summary_path = Path(summary_path)
    with open(summary_path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or model_name not in rows[0]:
        columns = list(rows[0]) if rows else []
        raise EvaluationError(f"{summary_path}: no column for model {model_name!r} (columns {columns})")
    scores: dict[str, float] = {}
    for key in check_benchmarks(benchmarks):
        bench = BENCHMARKS[key]
        row = next((r for r in rows if r["dataset"] == bench.summary_dataset and r["metric"] == bench.metric), None)
        if row is None:
            row = next((r for r in rows if r["dataset"] == bench.summary_dataset), None)
        value = None if row is None else row[model_name].strip()
        if row is None or value in ("", "-"):
            prefix = bench.member_prefix
            failed = [r["dataset"] for r in rows if prefix and r["dataset"].startswith(prefix)
                      and r[model_name].strip() in ("", "-")]
            detail = f"; failed member datasets: {failed[:10]}" if failed else ""
            state = "missing" if row is None else f"'{value or '-'}' (task failed)"
            raise EvaluationError(f"{summary_path}: benchmark {key!r} (dataset {bench.summary_dataset!r}, metric "
                                  f"{bench.metric!r}) is {state}{detail}")
        score = float(value)
        if not 0.0 <= score <= 100.0:
            raise EvaluationError(f"{summary_path}: benchmark {key!r} score {score} outside [0, 100]")
        scores[key] = score
    return scores


def avg_obj(scores: dict[str, float]) -> float:
    """MIG Avg_obj: the mean of the (percentage-scale) knowledge-based benchmark scores."""
    if not scores:
        raise ValueError("Avg_obj of no benchmark scores")
    return sum(scores.values()) / len(scores)


# ---------------------------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------------------------

def opencompass_cli() -> Path:
    cli = Path(sys.executable).parent / "opencompass"
    if not cli.is_file():
        raise FileNotFoundError(f"opencompass CLI not found next to {sys.executable}; run scripts/setup.sh")
    return cli


def run_opencompass(*, model_path: str | Path, model_name: str, work_dir: Path, datasets: Sequence[str],
                    sample_limit: int | None, data_dir: Path | None = None, max_out_len: int | None = 64,
                    batch_size: int = 8, base_config: str | Path = DEFAULT_BASE_CONFIG,
                    timeout_s: float | None = None, sample_limits: dict[str, int] | None = None) -> EvaluationResult:
    """Evaluate ``model_path`` on ``datasets`` (benchmark keys of ``BENCHMARKS``) with the real ``opencompass`` CLI.

    Tasks run in OpenCompass's ``--debug`` mode: in one process, one after another, the model loaded once (on 2 CPU
    cores a subprocess per task would spend more time importing than inferring). Previous outputs in
    ``<work_dir>/outputs`` are removed first so a stale summary is never read.
    """
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    cache_dir = prepare_compass_data(data_dir, work_dir / "compass_data", datasets)
    use_gpu = cuda_available()
    config_path = write_eval_config(work_dir / "config", model_path=model_path, model_name=model_name,
                                    benchmarks=datasets, sample_limit=sample_limit, max_out_len=max_out_len,
                                    batch_size=batch_size, base_config=base_config, use_gpu=use_gpu,
                                    sample_limits=sample_limits)
    outputs_dir = work_dir / "outputs"
    if outputs_dir.exists():
        shutil.rmtree(outputs_dir)
    log_path = work_dir / "opencompass.log"
    env = dict(os.environ)
    env.pop("DATASET_SOURCE", None)  # local files, never ModelScope / HF
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see resources.llamafactory.training_env
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):  # as in training_env
        env.setdefault(name, "1")
    env.update(COMPASS_DATA_CACHE=str(cache_dir), TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    cmd = [str(opencompass_cli()), str(config_path), "--work-dir", str(outputs_dir), "--debug"]
    logger.info("evaluating %s (%s) on %s, %s samples per dataset; log %s", model_name, model_path,
                list(datasets), sample_limit, log_path)
    wall_s = run_logged(cmd, cwd=work_dir, env=env, log_path=log_path, timeout_s=timeout_s, error=EvaluationError)
    try:
        summary_path = find_summary(outputs_dir)
        scores = parse_summary(summary_path, model_name, datasets)
    except EvaluationError as err:
        raise EvaluationError(f"{err}\nlog {log_path}; tail:\n{log_tail(log_path)}") from None
    result = EvaluationResult(scores=scores, avg_obj=avg_obj(scores), summary_path=summary_path, wall_s=wall_s,
                              log_path=log_path)
    logger.info("evaluation of %s done in %.1f s: %s, Avg_obj %.2f", model_name, wall_s, scores, result.avg_obj)
    return result


class OpenCompassRunner(ConfigurableResource):
    """Scores a model on knowledge-based benchmarks with OpenCompass (``run_opencompass``).

    The smallest end-to-end settings lower ``sample_limit`` and clear ``sample_limits`` (the "small" resource set of
    ``dagster_project.definitions``).
    """

    datasets: list[str] = Field(default=list(DEFAULT_BENCHMARKS),
                                description=f"benchmark keys, any of {sorted(BENCHMARKS)}")
    sample_limit: int | None = Field(default=10, description="first N test items of every OpenCompass dataset "
                                     "(MMLU/BBH: of every subject); None = all")
    sample_limits: dict[str, int] = Field(default_factory=dict, description="per-benchmark sample limits that "
                                          f"replace sample_limit (the embedded default: {DEFAULT_SAMPLE_LIMITS})")
    data_dir: str | None = Field(default=None, description=f"shared data folder (default ${ENV_DATA_DIR} or "
                                 "<repo>/../shared/data)")
    max_out_len: int | None = Field(default=64, description="cap on generated tokens per answer; None = configs'")
    batch_size: int = Field(default=8, description="prompts per generate() call")
    base_config: str = Field(default=DEFAULT_BASE_CONFIG, description="eval_configs/<name>.py (or a path)")
    timeout_s: float | None = Field(default=None, description="kill OpenCompass after this many seconds")

    def resolved_sample_limit(self) -> int | None:
        return self.sample_limit

    def resolved_sample_limits(self) -> dict[str, int]:
        return dict(self.sample_limits)

    def evaluate(self, *, model_path: str | Path, model_name: str, work_dir: Path) -> EvaluationResult:
        return run_opencompass(model_path=model_path, model_name=model_name, work_dir=work_dir,
                               datasets=self.datasets, sample_limit=self.resolved_sample_limit(),
                               data_dir=Path(self.data_dir) if self.data_dir else None,
                               max_out_len=self.max_out_len, batch_size=self.batch_size,
                               base_config=self.base_config, timeout_s=self.timeout_s,
                               sample_limits=self.resolved_sample_limits())
