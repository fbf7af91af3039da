"""DEITA score-first filter: hand-checked walks, the > tau rule, score precedence, fast == one-at-a-time walk."""

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError
from selection_ops.registry import run_selector
from selection_ops.similarity import threshold_filter, threshold_filter_reference


def test_walk_skips_near_duplicates_in_score_order(make_pool, circle):
    # scores put s0 first; s1 is 3 degrees from s0 (cos 0.9986 > 0.9) and is skipped; s2 (90 deg), s3 (180 deg) pass
    pool = make_pool(circle([0, 3, 90, 180]), score=[4, 3, 2, 1])
    assert run_selector("deita", pool, 3).ids == ["s0", "s2", "s3"]


def test_threshold_is_strictly_greater(make_pool, circle):
    # orthogonal vectors have cos 0: with tau = 0 DEITA keeps both (0 > 0 is false)
    pool = make_pool(np.array([[1.0, 0.0], [0.0, 2.0]]), score=[2, 1])
    assert run_selector("deita", pool, 2, params={"threshold": 0.0}).ids == ["s0", "s1"]


def test_deita_score_column_takes_precedence_over_score(make_pool, circle):
    pool = make_pool(circle([0, 60, 120]), score=[3, 2, 1], deita_score=[1, 2, 3])
    assert run_selector("deita", pool, 3).ids == ["s2", "s1", "s0"]


def test_ties_keep_pool_order(make_pool, circle):
    pool = make_pool(circle([0, 60, 120, 180]), score=[1, 2, 2, 2])
    assert run_selector("deita", pool, 4).ids == ["s1", "s2", "s3", "s0"]


def test_unreachable_budget_names_the_threshold(make_pool, circle):
    pool = make_pool(circle([0, 1, 2, 3]), score=[4, 3, 2, 1])
    with pytest.raises(ValueError, match="threshold"):
        run_selector("deita", pool, 2)


def test_accepted_set_respects_threshold_and_budget(random_pool):
    pool = random_pool(500, 8)
    result = run_selector("deita", pool, 25, params={"threshold": 0.5})
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    chosen = unit[result.indices]
    similarity = chosen @ chosen.T
    np.fill_diagonal(similarity, -1)
    assert len(result.ids) == 25 and len(set(result.ids)) == 25
    assert similarity.max() <= 0.5 + 1e-6


@pytest.mark.parametrize("threshold", [0.2, 0.6])
def test_blocked_walk_equals_one_at_a_time(random_pool, threshold):
    pool = random_pool(3000, 12, seed=3)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    order = np.argsort(-pool.score, kind="stable")
    fast = threshold_filter(unit, order, 400, threshold, reject_equal=False, block=256)
    reference = threshold_filter_reference(unit, order, 400, threshold, reject_equal=False)
    np.testing.assert_array_equal(fast, reference)


def test_missing_fields_are_named(make_pool, circle):
    with pytest.raises(MissingFieldError, match="deita needs embeddings"):
        run_selector("deita", make_pool(None, score=[1.0, 2.0]), 1)
    with pytest.raises(MissingFieldError, match="quality score"):
        run_selector("deita", make_pool(circle([0, 90])), 1)


@pytest.mark.parametrize("offset, kept", [(1e-9, 2), (-1e-9, 1)])
def test_borderline_similarity_is_decided_in_float64(make_pool, offset, kept):
    # tau a hair above (below) the float64 cosine of the two vectors: kept (rejected), whatever float32 rounding says
    vectors = np.array([[1.0, 0.0, 0.0], [0.9, 0.43588989, 0.0]], dtype=np.float32)
    unit32 = np.ascontiguousarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)
    cosine = float(unit32[0].astype(np.float64) @ unit32[1].astype(np.float64))  # of the float32 rows, exactly
    tau = cosine + offset
    order = np.array([0, 1])
    assert len(threshold_filter(unit32, order, 2, tau, reject_equal=False)) == kept
    assert len(threshold_filter_reference(unit32, order, 2, tau, reject_equal=False)) == kept
