"""How connected a label graph is: the isolated fraction, degree statistics and a degree-distribution plot.

MIG's propagation (Sec. 3.2, Eq. 6) moves a sample's information only along edges, so a graph whose labels are
mostly isolated makes MIG a plain label-count greedy; these numbers show it in the label-graph asset's metadata.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import scipy.sparse as sp

from selection_ops.mig.label_graph import LabelGraph


def label_degrees(graph: LabelGraph) -> np.ndarray:
    """Edges per label, the diagonal (self-similarity 1) not counted: (L,) int64."""
    off_diagonal = sp.csr_matrix(graph.similarity - sp.diags(graph.similarity.diagonal()))
    off_diagonal.eliminate_zeros()
    return np.diff(off_diagonal.indptr).astype(np.int64)


def degree_statistics(graph: LabelGraph) -> dict[str, float | int]:
    """isolated_fraction (labels without an edge / labels), and the median, 90th percentile and max degree."""
    degree = label_degrees(graph)
    if len(degree) == 0:
        return {"isolated_fraction": 0.0, "median_degree": 0.0, "p90_degree": 0.0, "max_degree": 0}
    return {"isolated_fraction": float(np.mean(degree == 0)), "median_degree": float(np.median(degree)),
            "p90_degree": float(np.percentile(degree, 90)), "max_degree": int(degree.max())}


def degree_histogram_png(graph: LabelGraph) -> bytes:
    """A bar chart of how many labels have each degree (0 = isolated), as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    degree = label_degrees(graph)
    counts = np.bincount(degree) if len(degree) else np.zeros(1, dtype=np.int64)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(np.arange(len(counts)), counts, color=["tab:red"] + ["tab:blue"] * (len(counts) - 1))
    ax.set_xlabel("degree (edges to other labels)")
    ax.set_ylabel("labels")
    isolated = float(np.mean(degree == 0)) if len(degree) else 0.0
    ax.set_title(f"{len(degree)} labels at threshold {graph.threshold:g}: {isolated:.0%} isolated")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def degree_histogram_markdown(graph: LabelGraph) -> str:
    """The degree plot as a Markdown image with an inline data URI (how Dagster metadata shows a plot)."""
    encoded = base64.b64encode(degree_histogram_png(graph)).decode("ascii")
    return f"![label degree distribution](data:image/png;base64,{encoded})"
