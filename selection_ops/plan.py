"""What a study will cost before it runs: device-hours per stage from the study's sizes and a throughput table.

Work is counted in FLOPs and divided by a device's effective FLOP/s for that kind of work
(``benchmarks/throughput.yaml``, each device with its source):

* training: ``6 N T`` for ``T`` tokens (budget x epochs x mean tokens per sample, capped at ``cutoff_len``; or
  ``max_steps`` x effective batch);
* scoring (likelihood channel, judges' prompts, annotators that read): ``2 N T``;
* generation (answers, tags, judgements): ``2 N T`` at the device's (much lower) generation throughput;

plus a start-up per tool process. Everything here is an estimate and is labelled so: real throughput varies with
sequence packing, batch sizes, kernels and the judge's server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from selection_ops.evaluation.benchmarks import PREFERENCE_BENCHMARKS
from selection_ops.foundation.paths import REPO_ROOT

THROUGHPUT_TABLE = REPO_ROOT / "benchmarks" / "throughput.yaml"
EMBEDDED_PARAMS = 134_515_008  # SmolLM2-135M-Instruct
# models whose size is not in their name (otherwise "8B", "135M" in the name is read)
KNOWN_PARAMS = {"ofa-sys/instagger": 7e9, "hkust-nlp/deita-quality-scorer": 13e9,
                "hkust-nlp/deita-complexity-scorer": 13e9, "all-minilm-l6-v2": 22.7e6}
ASSUMED_PARAMS = 7e9
_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)


def load_throughput(path: Path | None = None) -> dict[str, Any]:
    return yaml.safe_load((path or THROUGHPUT_TABLE).read_text())


def model_params(model: str | None, default: float | None = ASSUMED_PARAMS) -> tuple[float | None, str]:
    """(parameters, how they were found) for a model name, Hub id, local folder or ``embedded``."""
    if not model or model == "embedded":
        return float(EMBEDDED_PARAMS), "the bundled SmolLM2-135M"
    folder = Path(model).expanduser()
    if (folder / "config.json").is_file():
        config = json.loads((folder / "config.json").read_text())
        d, layers = config.get("hidden_size"), config.get("num_hidden_layers")
        vocab, inner = config.get("vocab_size", 0), config.get("intermediate_size")
        if d and layers:
            inner = inner or 4 * d
            return float(layers * (4 * d * d + 3 * d * inner) + vocab * d), f"{folder}/config.json"
    lowered = model.lower().rstrip("/")
    for name, params in KNOWN_PARAMS.items():
        if lowered.endswith(name):
            return params, "known size"
    match = _SIZE.search(Path(lowered).name)
    if match:
        return float(match[1]) * (1e9 if match[2].lower() == "b" else 1e6), "size in its name"
    return default, "size unknown: assumed" if default else "size unknown"


@dataclass(frozen=True)
class Facts:
    """The sizes of a study, as the plan needs them (gathered from the grid and its resolved resources)."""

    pool_size: int
    selections: int
    cells: Sequence[tuple[str, int, float]]  # (cell key, budget, base-model parameters) of the default training set
    models: Mapping[str, float]  # base model key -> parameters (each is evaluated untuned too)
    pool_row: bool
    epochs: float
    cutoff_len: int
    max_steps: int | None
    effective_batch: int
    objective: Mapping[str, int | None]  # benchmark -> question limit (None = all)
    objective_max_out: int | None
    preference: Mapping[str, int | None]
    preference_max_out: int | None
    pairwise_orders: int  # 2 when both orders are judged
    judge_params: float
    judge_max_out: int
    annotation: Mapping[str, float] = field(default_factory=dict)  # "embed"/"tag"/"score" -> model params (0: CPU)
    embed_tokens: int = 256
    score_tokens: int = 1024
    scorers: int = 1  # model passes per sample by the scorer (DEITA: quality + complexity = 2)


@dataclass(frozen=True)
class StageCost:
    stage: str
    work: str
    device_hours: float


def _hours(flops: float, rate: float, processes: int = 0, startup_s: float = 0.0) -> float:
    return (flops / rate + processes * startup_s) / 3600.0


def _training_tokens(facts: Facts, samples: int, table: Mapping[str, Any]) -> float:
    per_sample = min(facts.cutoff_len, int(table["mean_sample_tokens"]))
    if facts.max_steps:
        return float(min(facts.max_steps * facts.effective_batch, samples * facts.epochs) * per_sample)
    return samples * facts.epochs * per_sample


def _questions(table: Mapping[str, Any], bench: str, limit: int | None) -> int:
    full = int(table["benchmarks"].get(bench, {}).get("questions", 0))
    return min(limit, full) if limit is not None and full else (limit or full)


def estimate(facts: Facts, table: Mapping[str, Any], device: str) -> list[StageCost]:
    """Device-hours per stage on ``device`` (a key of the table's ``devices``)."""
    rates = table["devices"][device]
    benches = table["benchmarks"]
    stages: list[StageCost] = []

    ann = facts.annotation
    tag_flops = facts.pool_size * 2 * ann.get("tag", 0) * 400  # InsTag prompt ~300 + ~100 generated tokens
    read_flops = facts.pool_size * (2 * ann.get("embed", 0) * facts.embed_tokens
                                    + 2 * ann.get("score", 0) * facts.score_tokens * facts.scorers)
    cpu_h = facts.pool_size / rates["cpu_annotation_samples_per_s"] / 3600.0 if not any(ann.values()) else 0.0
    hours = cpu_h + (tag_flops / rates["generate_flops_per_s"] + read_flops / rates["score_flops_per_s"]) / 3600.0
    kinds = ", ".join(f"{k} {v / 1e9:.3g}B" for k, v in ann.items() if v) or "offline CPU annotators"
    stages.append(StageCost("annotation", f"{facts.pool_size:,} samples ({kinds})", hours))

    cpu = facts.selections * facts.pool_size / 1e6 * float(table["selection_cpu_s_per_million"]) / 3600.0
    stages.append(StageCost("selection", f"{facts.selections} selections of {facts.pool_size:,} (CPU-hours)", cpu))

    train_flops = sum(6 * params * _training_tokens(facts, budget, table) for _, budget, params in facts.cells)
    row = [(f"pool row {m}", facts.pool_size, p) for m, p in facts.models.items()] if facts.pool_row else []
    train_flops += sum(6 * p * _training_tokens(facts, n, table) for _, n, p in row)
    runs = len(facts.cells) + len(row)
    work = f"{len(facts.cells)} cells" + (f" + {len(row)} Pool row" if row else "") + \
        f", {facts.epochs:g} epochs, <= {facts.cutoff_len} tokens per sample"
    stages.append(StageCost("training", work, _hours(train_flops, rates["train_flops_per_s"], runs,
                                                     rates["startup_s"])))

    evaluated = [p for _, _, p in facts.cells] + [p for _, _, p in row] + list(facts.models.values())  # + untuned
    gen = score = 0.0
    questions = 0
    for bench, limit in facts.objective.items():
        spec = benches.get(bench, {})
        n = _questions(table, bench, limit)
        questions += n
        out = spec.get("output", 0) if facts.objective_max_out is None else min(spec.get("output", 0),
                                                                                  facts.objective_max_out)
        for params in evaluated:
            score += 2 * params * n * spec.get("prompt", 0)
            gen += 2 * params * n * out
    hours = (gen / rates["generate_flops_per_s"] + score / rates["score_flops_per_s"]) / 3600.0
    hours += len(evaluated) * rates["startup_s"] / 3600.0 if facts.objective else 0.0
    stages.append(StageCost("evaluation: knowledge + likelihood",
                            f"{len(evaluated)} models x {questions:,} questions ({len(facts.objective)} benchmarks)",
                            hours))

    gen = score = judge_gen = judge_score = 0.0
    calls = 0
    for bench, limit in facts.preference.items():
        spec = benches.get(bench, {})
        n = _questions(table, bench, limit)
        out = spec.get("output", 0) if facts.preference_max_out is None else min(spec.get("output", 0),
                                                                                   facts.preference_max_out)
        turns = spec.get("turns", 1)
        pairwise = bench in PREFERENCE_BENCHMARKS and PREFERENCE_BENCHMARKS[bench].mode == "pairwise"
        orders = facts.pairwise_orders if pairwise else 1  # both orders judged only for pairwise benchmarks
        per_model_calls = n * spec.get("judge_calls", 1) * orders
        calls += per_model_calls * len(evaluated)
        for params in evaluated:
            score += 2 * params * n * turns * spec.get("prompt", 0)
            gen += 2 * params * n * turns * out
        judge_score += 2 * facts.judge_params * per_model_calls * spec.get("judge_prompt", 0) * len(evaluated)
        judge_gen += 2 * facts.judge_params * per_model_calls * min(spec.get("judge_output", 0),
                                                                    facts.judge_max_out) * len(evaluated)
    hours = (gen / rates["generate_flops_per_s"] + score / rates["score_flops_per_s"]) / 3600.0
    hours += len(evaluated) * rates["startup_s"] / 3600.0 if facts.preference else 0.0
    stages.append(StageCost("evaluation: preference answers", f"{len(evaluated)} models x "
                            f"{sum(_questions(table, b, lim) for b, lim in facts.preference.items()):,} questions",
                            hours))
    stages.append(StageCost("evaluation: judge", f"{calls:,} judgements by a {facts.judge_params / 1e9:.3g}B judge",
                            (judge_gen / rates["generate_flops_per_s"]
                             + judge_score / rates["score_flops_per_s"]) / 3600.0))
    return stages


def render_costs(stages: Sequence[StageCost], device: str, table: Mapping[str, Any]) -> str:
    """The estimate as a markdown table with its source."""
    source = " ".join(str(table["devices"][device]["source"]).split())
    lines = [f"Estimated device-hours on `{device}` (**estimates**, not measurements; source: {source})", "",
             "| stage | work | device-hours (est.) |", "|---|---|---:|"]
    lines += [f"| {s.stage} | {s.work} | {s.device_hours:,.3g} |" for s in stages]
    lines.append(f"| **total** | | **{sum(s.device_hours for s in stages):,.3g}** |")
    return "\n".join(lines)
