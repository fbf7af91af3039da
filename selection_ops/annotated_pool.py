"""Join the canonical pool table and the annotation table into the PoolView selectors read."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from selection_ops.data_model import PoolView

# Annotation columns that are not numeric score columns.
_STRUCTURAL = {"id", "labels", "score", "embedding"}


def pool_view_from_tables(pool: pd.DataFrame, annotations: pd.DataFrame, label_graph: Any = None) -> PoolView:
    """A PoolView in pool order.

    pool:        columns ``id``, ``conversation`` (list of {role, content}), ``source``.
    annotations: columns ``id``, ``labels``, ``score``, ``embedding`` and further numeric score columns, which
                 become ``extra`` columns (e.g. ``deita_score``, ``ifd``). Every pool id must be annotated.
    """
    from selection_ops.pool import text_for_metrics

    indexed = annotations.set_index("id", drop=False)
    missing = pool.loc[~pool["id"].isin(indexed.index), "id"]
    if len(missing):
        raise ValueError(f"{len(missing)} pool samples have no annotation, e.g. id {missing.iloc[0]!r}")
    rows = indexed.loc[pool["id"]]
    extra = {name: rows[name].to_numpy(dtype=np.float64) for name in rows.columns
             if name not in _STRUCTURAL and pd.api.types.is_numeric_dtype(rows[name])}
    embeddings = None
    if "embedding" in rows:
        embeddings = np.stack([np.asarray(e, dtype=np.float32) for e in rows["embedding"]])
    return PoolView(
        ids=pool["id"].astype(str).tolist(),
        labels=[list(x) for x in rows["labels"]] if "labels" in rows else None,
        score=rows["score"].to_numpy(dtype=np.float64) if "score" in rows else None,
        embeddings=embeddings,
        texts=[text_for_metrics(list(c)) for c in pool["conversation"]],
        extra=extra,
        label_graph=label_graph,
    )
