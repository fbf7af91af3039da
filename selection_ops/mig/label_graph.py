"""The label graph of MIG (paper Sec. 3.1; Appx. A.2): labels are nodes, similar labels are joined by weighted edges.

Labels are the sorted set of labels that occur in the pool, after filtering to a valid-label vocabulary when one is
given (as the official ``mig sample --valid_tag_path``). An edge joins two labels whose normalised embeddings have a
cosine similarity >= ``threshold`` (inclusive); its weight is that similarity. The diagonal is kept and set to 1
(the cosine of a normalised vector with itself; the official code keeps the computed value, 1 up to rounding).

A graph keeps every raw similarity at or above the threshold it was built with, so one graph serves any higher
threshold (``LabelGraph.at_threshold``); a lower one needs a rebuild and raises.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from selection_ops.foundation.atomic import atomic_open
from selection_ops.mig.encoder import default_label_encoder, sentence_transformer_encoder

__all__ = ["EdgeListMatch", "LabelGraph", "build_label_graph", "check_model_available", "default_label_encoder",
           "graph_stats", "label_graph_from_edge_list", "label_vocabulary", "read_edge_list", "resolve_label_graph",
           "save_edge_list"]

logger = logging.getLogger(__name__)

_SIMILARITY_BLOCK = 2048  # rows of the (L, L) cosine matrix computed at a time


@dataclass(frozen=True, eq=False)
class LabelGraph:
    """Thresholded label similarity.

    labels:       (L,) sorted, unique label strings; row/column k of ``similarity`` is ``labels[k]``.
    similarity:   (L, L) float64 CSR, symmetric; off-diagonal entries are cosine similarities >= ``threshold``,
                  the diagonal is 1.
    threshold:    the lowest similarity kept (inclusive).
    valid_labels: the vocabulary the labels were filtered to, or None. Sample labels outside it are dropped when
                  samples are vectorised; labels in it (or any label, when None) must be nodes of the graph.
    """

    labels: list[str]
    similarity: sp.csr_matrix
    threshold: float
    valid_labels: frozenset[str] | None = None
    label_match: Mapping[str, int] | None = None  # for a graph read from an edge list: ``EdgeListMatch.counts()``

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.similarity.shape != (n, n):
            raise ValueError(f"label similarity has shape {self.similarity.shape}, expected ({n}, {n})")
        if any(a >= b for a, b in zip(self.labels, self.labels[1:])):
            raise ValueError("label graph labels must be sorted and unique")

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """label -> row of ``similarity``."""
        return {label: k for k, label in enumerate(self.labels)}

    def at_threshold(self, threshold: float | None) -> LabelGraph:
        """The graph with only the edges of similarity >= ``threshold`` (None: as built); raises if below the built
        threshold."""
        if threshold is None or threshold == self.threshold:
            return self
        if threshold < self.threshold:
            raise ValueError(f"the label graph keeps similarities >= {self.threshold} only; threshold {threshold} "
                             f"needs a graph built (or an edge list read) at {threshold} or lower")
        coo = self.similarity.tocoo()
        keep = (coo.row == coo.col) | (coo.data >= threshold)
        similarity = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=coo.shape)
        return LabelGraph(self.labels, similarity, threshold, self.valid_labels, self.label_match)


def label_vocabulary(labels_per_sample: Iterable[Sequence[str]],
                     valid_labels: Iterable[str] | None = None) -> list[str]:
    """The sorted set of labels occurring in the pool, restricted to ``valid_labels`` when given."""
    occurring = {label for labels in labels_per_sample for label in labels}
    if valid_labels is not None:
        occurring &= set(valid_labels)
    return sorted(occurring)


def _graph_from_pairs(labels: list[str], rows: np.ndarray, cols: np.ndarray, similarity: np.ndarray,
                      threshold: float, valid_labels: Iterable[str] | None) -> LabelGraph:
    """Symmetric CSR from undirected pairs (rows[k] < cols[k]) with the diagonal set to 1."""
    n = len(labels)
    keep = similarity >= threshold
    rows, cols, similarity = rows[keep], cols[keep], similarity[keep].astype(np.float64)
    diagonal = np.arange(n)
    matrix = sp.csr_matrix((np.concatenate([similarity, similarity, np.ones(n)]),
                            (np.concatenate([rows, cols, diagonal]), np.concatenate([cols, rows, diagonal]))),
                           shape=(n, n))
    matrix.sort_indices()
    return LabelGraph(labels, matrix, float(threshold), None if valid_labels is None else frozenset(valid_labels))


def _embedding_matrix(labels: list[str], encode: Callable[[list[str]], np.ndarray] | Mapping[str, np.ndarray]
                      ) -> np.ndarray:
    """(L, d) float32 L2-normalised embeddings of ``labels`` from an encode function or a label -> vector mapping."""
    if callable(encode):
        embeddings = np.asarray(encode(labels), dtype=np.float32)
    else:
        missing = [label for label in labels if label not in encode]
        if missing:
            raise KeyError(f"label embeddings lack {len(missing)} label(s), e.g. {missing[:5]}")
        embeddings = np.stack([np.asarray(encode[label], dtype=np.float32) for label in labels]) if labels else \
            np.zeros((0, 1), dtype=np.float32)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(labels):
        raise ValueError(f"the label encoder returned shape {embeddings.shape} for {len(labels)} labels")
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"label {labels[int(np.flatnonzero(norms.ravel() == 0)[0])]!r} has a zero embedding")
    return embeddings / norms


def build_label_graph(labels_per_sample: Iterable[Sequence[str]],
                      encode: Callable[[list[str]], np.ndarray] | Mapping[str, np.ndarray],
                      threshold: float = 0.9, valid_labels: Iterable[str] | None = None) -> LabelGraph:
    """Label graph from embeddings: edge (p, q) with weight cos(e_p, e_q) when >= ``threshold``.

    encode: a function labels (L,) -> embeddings (L, d) (e.g. ``default_label_encoder()``), or a mapping
            label -> embedding (d,). Embeddings are L2-normalised here; the cosine matrix is computed in float32
            blocks of rows, as the official code does on the GPU.
    """
    valid = None if valid_labels is None else frozenset(valid_labels)
    labels = label_vocabulary(labels_per_sample, valid)
    logger.info("building the label graph of %d labels at threshold %s", len(labels), threshold)
    if not labels:
        logger.warning("no sample has a (valid) label: the label graph is empty and every MIG gain is 0")
        empty = np.zeros(0, dtype=np.int64)
        return _graph_from_pairs(labels, empty, empty, np.zeros(0), threshold, valid)
    embeddings = _embedding_matrix(labels, encode)
    rows, cols, sims = [], [], []
    for start in range(0, len(labels), _SIMILARITY_BLOCK):
        block = embeddings[start:start + _SIMILARITY_BLOCK] @ embeddings.T  # (block, L)
        r, c = np.nonzero(block >= threshold)
        upper = c > r + start  # each undirected pair once, from its upper triangle, so the matrix is symmetric
        rows.append(r[upper] + start)
        cols.append(c[upper])
        sims.append(block[r[upper], c[upper]])
    empty = np.zeros(0, dtype=np.int64)
    return _graph_from_pairs(labels, np.concatenate(rows) if rows else empty, np.concatenate(cols) if cols else empty,
                             np.concatenate(sims) if sims else np.zeros(0), threshold, valid)


EDGE_LIST_COLUMNS = ("source", "target", "similarity")
EDGE_LIST_DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
SIMILARITY_TOLERANCE = 1e-6  # cosines computed in float32 may exceed 1 by rounding; beyond this they are refused


@dataclass(frozen=True)
class EdgeListMatch:
    """How an edge list's labels meet the pool's (after the valid-label filter).

    matched:   pool labels that occur in the edge list;  unknown: edge-list labels the pool lacks (their edges are
    dropped: ``dropped_edges``);  isolated: pool labels without any edge at or above the threshold.
    """

    matched: int
    unknown: tuple[str, ...]
    isolated: int
    dropped_edges: int
    pool_labels: int

    def counts(self) -> dict[str, int]:
        return {"edge_list_labels_matched": self.matched, "edge_list_labels_unknown": len(self.unknown),
                "edge_list_edges_dropped": self.dropped_edges, "pool_labels_isolated": self.isolated,
                "pool_labels": self.pool_labels}


def detect_delimiter(header: str, path: Path) -> str:
    """The delimiter that splits ``header`` into the columns source, target, similarity (comma, tab, semicolon or
    pipe); a ValueError naming the file and what its first line holds otherwise."""
    for delimiter in EDGE_LIST_DELIMITERS:
        names = [name.strip().strip('"').lower() for name in header.split(delimiter)]
        if set(EDGE_LIST_COLUMNS) <= set(names) and len(names) == len(set(names)):
            return delimiter
    raise ValueError(f"{path}: line 1 must be the header source,target,similarity (separated by a comma, tab, "
                     f"semicolon or pipe); it is {header[:120]!r}")


def read_edge_list(path: str | Path) -> pd.DataFrame:
    """The edge list at ``path`` as columns source, target (str) and similarity (float64), each row checked.

    Header required; the delimiter is detected from it. A label must be non-empty; a similarity must be a finite
    number in [-1, 1] (cosine similarity; rounding up to 1e-6 past the ends is accepted). Errors name the file,
    line and field.
    """
    path = Path(path)
    try:
        with path.open("r", encoding="utf-8", newline="") as handle:
            header = handle.readline().rstrip("\r\n").lstrip("\ufeff")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); an edge list is a UTF-8 "
                         "CSV or TSV") from None
    if not header.strip():
        raise ValueError(f"{path}: empty; an edge list needs the header source,target,similarity and one edge per "
                         "line")
    delimiter = detect_delimiter(header, path)
    try:
        with warnings.catch_warnings():  # a row with extra fields is an error, not a silently shifted column
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(path, sep=delimiter, dtype={"source": str, "target": str}, keep_default_na=False,
                                na_filter=False, encoding="utf-8", skipinitialspace=True, index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a {EDGE_LIST_DELIMITERS[delimiter]}-separated edge list ({error})") from None
    table.columns = [str(name).strip().lower() for name in table.columns]
    for column in ("source", "target"):
        values = table[column].astype(str).str.strip()
        empty = np.flatnonzero((values == "").to_numpy())
        if len(empty):
            raise ValueError(f"{path}: line {int(empty[0]) + 2}: field '{column}' is empty")
        table[column] = values
    raw = table["similarity"]
    similarity = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(similarity))
    if len(bad):
        raise ValueError(f"{path}: line {int(bad[0]) + 2}: field 'similarity' is {raw.iloc[bad[0]]!r}, not a finite "
                         "number")
    outside = np.flatnonzero(np.abs(similarity) > 1 + SIMILARITY_TOLERANCE)
    if len(outside):
        raise ValueError(f"{path}: line {int(outside[0]) + 2}: field 'similarity' is {similarity[outside[0]]:g}, "
                         f"outside [-1, 1] ({len(outside)} such row(s)); an edge weight is a cosine similarity")
    return pd.DataFrame({"source": table["source"], "target": table["target"],
                         "similarity": np.clip(similarity, -1.0, 1.0)})


def label_graph_from_edge_list(path_csv: str | Path, labels_per_sample: Iterable[Sequence[str]], threshold: float,
                               valid_labels: Iterable[str] | None = None) -> LabelGraph:
    """Label graph from an edge list ``source,target,similarity`` (CSV or TSV with that header; an undirected edge
    may be listed once or both ways), read and checked by ``read_edge_list``.

    Nodes are the pool's labels (``label_vocabulary``); self-loops and similarities below ``threshold`` are
    ignored. The edge list's labels are matched against the pool's: counts of matched, unknown (their edges
    dropped) and isolated labels are logged and kept in ``LabelGraph.label_match``; a warning names unknown labels
    (a misspelling drops its edges); no matched label at all is an error. A pair listed both ways with different
    similarities is an error.
    """
    path = Path(path_csv)
    valid = None if valid_labels is None else frozenset(valid_labels)
    labels = label_vocabulary(labels_per_sample, valid)
    table = read_edge_list(path)
    node = pd.Index(labels)
    source, target = node.get_indexer(table["source"]), node.get_indexer(table["target"])
    edge_labels = pd.unique(pd.concat([table["source"], table["target"]], ignore_index=True))
    known = node.get_indexer(edge_labels) >= 0
    unknown = tuple(sorted(str(label) for label in edge_labels[~known]))
    matched = int(known.sum())
    if labels and matched == 0:
        raise ValueError(f"{path}: none of its {len(edge_labels)} labels occurs among the pool's {len(labels)} labels "
                         f"(edge list: {', '.join(repr(str(x)) for x in edge_labels[:3])}; pool: "
                         f"{', '.join(repr(x) for x in labels[:3])}); check the file, --labels-field and "
                         "--valid-labels")
    keep = (source >= 0) & (target >= 0) & (source != target)
    dropped = int(np.count_nonzero((source < 0) | (target < 0)))
    similarity = table["similarity"].to_numpy(np.float64)
    source, target, similarity = source[keep], target[keep], similarity[keep]
    low, high = np.minimum(source, target), np.maximum(source, target)
    pairs = pd.DataFrame({"low": low, "high": high, "similarity": similarity})
    spread = pairs.groupby(["low", "high"], sort=True)["similarity"].agg(["min", "max"])
    conflict = spread[spread["max"] - spread["min"] > 1e-6]
    if len(conflict):
        (p, q), row = next(iter(conflict.iterrows()))
        raise ValueError(f"{path}: edge {labels[p]!r} - {labels[q]!r} is listed with different similarities "
                         f"({row['min']} and {row['max']}); the edge list must be symmetric")
    graph = _graph_from_pairs(labels, spread.index.get_level_values(0).to_numpy(np.int64),
                              spread.index.get_level_values(1).to_numpy(np.int64),
                              spread["max"].to_numpy(np.float64), threshold, valid)
    degree = np.diff(graph.similarity.indptr) - 1  # the diagonal is always stored
    match = EdgeListMatch(matched=matched, unknown=unknown, isolated=int(np.count_nonzero(degree == 0)),
                          dropped_edges=dropped, pool_labels=len(labels))
    logger.info("read %d label-graph edges among %d labels from %s: %d of the pool's labels matched, %d isolated "
                "at threshold %s", len(spread), len(labels), path, matched, match.isolated, threshold)
    if unknown:
        logger.warning("%s: %d label(s) do not occur in the pool and their %d edge row(s) are dropped: %s%s", path,
                       len(unknown), dropped, ", ".join(repr(x) for x in unknown[:10]),
                       f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
    return dataclasses.replace(graph, label_match=match.counts())


def save_edge_list(graph: LabelGraph, path: str | Path) -> None:
    """Write the graph's edges as CSV ``source,target,similarity``, each undirected edge once (source < target)."""
    upper = sp.triu(graph.similarity, k=1).tocoo()
    order = np.lexsort((upper.col, upper.row))
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "target", "similarity"])
        for k in order.tolist():
            writer.writerow([graph.labels[upper.row[k]], graph.labels[upper.col[k]], repr(float(upper.data[k]))])


EDGE_LIST_SUFFIXES = (".csv", ".tsv", ".txt")
HUB_PROBE = ("huggingface.co", 443)


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether a TCP connection to the Hugging Face Hub opens within ``timeout_s`` (so an offline machine fails in
    seconds instead of after the Hub client's retries)."""
    import socket

    try:
        with socket.create_connection(HUB_PROBE, timeout=timeout_s):
            return True
    except OSError:
        return False


def _hub_offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def check_model_available(name: str, *, what: str = "label graph model") -> None:
    """Fail fast, before any model loading, when ``name`` is neither a local folder nor in the Hugging Face cache
    and the Hub cannot be asked (``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` set, or no connection in 3 s)."""
    if Path(name).exists():
        return
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(name, local_files_only=True)
        return
    except Exception:  # not cached (or not a valid repo id): decide below whether the Hub may be asked
        pass
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1  # a Hub id is "name" or "org/name"
    if looks_like_path:
        raise FileNotFoundError(f"{what} {name!r} does not exist (neither a local folder nor a Hub model id)")
    if _hub_offline():
        raise FileNotFoundError(f"{what} {name!r} is not a local folder and not in the Hugging Face cache, and the "
                                "Hub is switched off (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE); pass a local "
                                "sentence-transformers folder or an edge-list .csv")
    if not _hub_reachable():
        raise FileNotFoundError(f"{what} {name!r} is not a local folder and not in the Hugging Face cache, and the "
                                "Hugging Face Hub cannot be reached; pass a local sentence-transformers folder or an "
                                "edge-list .csv")


def resolve_label_graph(spec: str, labels_per_sample: Sequence[Sequence[str]], threshold: float = 0.9,
                        valid_labels: Iterable[str] | None = None) -> LabelGraph:
    """The label graph named by ``spec``: an edge-list file (``.csv`` / ``.tsv`` / ``.txt``, or any existing file),
    else a sentence-transformers model (a local folder, a name in the Hugging Face cache, or a Hub name when the
    Hub can be reached: ``check_model_available``) used to embed the pool's labels."""
    path = Path(spec)
    if path.is_file() or (str(spec).lower().endswith(EDGE_LIST_SUFFIXES) and not path.is_dir()):
        if not path.is_file():
            raise FileNotFoundError(f"label graph edge list {spec} does not exist")
        return label_graph_from_edge_list(spec, labels_per_sample, threshold, valid_labels)
    check_model_available(str(spec))
    return build_label_graph(labels_per_sample, sentence_transformer_encoder(spec), threshold, valid_labels)


def graph_stats(graph: LabelGraph) -> dict[str, float | int]:
    """Counts for run metadata: labels, undirected edges (diagonal excluded), isolated labels, threshold."""
    off_diagonal = graph.similarity - sp.diags(graph.similarity.diagonal())
    off_diagonal.eliminate_zeros()
    degree = np.diff(off_diagonal.tocsr().indptr)
    return {"n_labels": len(graph.labels), "n_edges": int(off_diagonal.nnz // 2),
            "n_isolated_labels": int(np.count_nonzero(degree == 0)),
            "mean_degree": float(degree.mean()) if len(degree) else 0.0, "threshold": float(graph.threshold)}
