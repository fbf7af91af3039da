"""IFD (Cherry LLM) and Superfiltering ranking of annotated scores."""

from __future__ import annotations

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError, PoolView
from selection_ops.registry import run_selector


def pool_with(**columns) -> PoolView:
    n = len(next(iter(columns.values())))
    return PoolView(ids=[f"s{i}" for i in range(n)], extra={k: np.asarray(v, float) for k, v in columns.items()})


def test_ifd_drops_above_one_and_takes_highest() -> None:
    pool = pool_with(ifd=[0.5, 1.2, 0.9, 1.0, np.nan, 0.7])
    # eligible (<= 1): s0 .5, s2 .9, s3 1.0, s5 .7 -> highest first: s3, s2, s5, s0
    assert run_selector("ifd", pool, 3).ids == ["s3", "s2", "s5"]
    assert run_selector("ifd", pool, 4).ids == ["s3", "s2", "s5", "s0"]


def test_ifd_ties_later_row_first_as_cherry_llm() -> None:
    pool = pool_with(ifd=[0.8, 0.8, 0.3, 0.8])
    assert run_selector("ifd", pool, 2).ids == ["s3", "s1"]


def test_superfilter_keeps_strictly_below_one_with_pool_order_ties() -> None:
    pool = pool_with(superfilter_ratio=[0.8, 1.0, 0.8, 0.95, 1.3, 0.2])
    # eligible (< 1): s0 .8, s2 .8, s3 .95, s5 .2 -> s3, s0, s2, s5 (ties in pool order)
    assert run_selector("ifd", pool, 4, params={"variant": "superfilter"}).ids == ["s3", "s0", "s2", "s5"]


def test_too_few_eligible_raises_or_fills() -> None:
    pool = pool_with(ifd=[0.5, 1.5, np.nan, 1.1, 0.9])
    with pytest.raises(ValueError, match="only 2 of 5 samples have ifd <= 1 .*budget 4"):
        run_selector("ifd", pool, 4)
    filled = run_selector("ifd", pool, 5, params={"fill": "true"})
    assert filled.ids == ["s4", "s0", "s3", "s1", "s2"]  # eligible, then closest above 1, NaN last


def test_custom_column_and_threshold() -> None:
    pool = pool_with(my_ifd=[0.5, 1.5, 0.9])
    result = run_selector("ifd", pool, 2, params={"column": "my_ifd", "threshold": "2"})
    assert result.ids == ["s1", "s2"]


def test_missing_column_is_named() -> None:
    with pytest.raises(MissingFieldError, match="'ifd' column"):
        run_selector("ifd", PoolView(ids=["a", "b"]), 1)
    with pytest.raises(MissingFieldError, match="'superfilter_ratio' column"):
        run_selector("ifd", pool_with(ifd=[0.1, 0.2]), 1, params={"variant": "superfilter"})


def test_mig_example_pool(data_dir) -> None:
    from selection_ops.pool_view_io import load_pool_view

    pool, _ = load_pool_view(data_dir / "mig" / "example.jsonl", on_error="skip")  # line 3 is malformed upstream
    ifd = pool.column("ifd")
    result = run_selector("ifd", pool, 3)
    eligible = np.sort(ifd[ifd <= 1])[::-1]
    np.testing.assert_array_equal(ifd[result.indices], eligible[:3])
