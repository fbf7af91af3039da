"""Hand-checked toy pools: each expected order is derived in the test from Alg. 1 and the formulas."""

import math

import numpy as np
import pytest

from selection_ops.mig.params import MigParams
from selection_ops.mig.reference import dense_reference_run
from selection_ops.mig.sampler import mig_run, mig_select

from .conftest import graph_from_edges

BACKENDS = ["numba", "numpy", "torch-cpu", "dense"]
A = 1e-6


def run(labels, scores, graph, budget, backend, **params):
    params = MigParams(**params)
    if backend == "dense":
        return dense_reference_run(labels, scores, graph, budget, params)
    return mig_run(labels, scores, graph, budget, params, backend=backend)


# Toy 1: two isolated labels (P = identity). s3 has the top score but no label.
ISOLATED = graph_from_edges(["A", "B"], {}, threshold=0.9)
LABELS_1 = [["A"], ["A"], ["B"], []]
SCORES_1 = [4.0, 3.0, 1.0, 9.0]


def dphi_pow(x):
    return 0.8 * (x + A) ** -0.2


def phi_pow(x):
    return (x + A) ** 0.8 - A**0.8


@pytest.mark.parametrize("backend", BACKENDS)
def test_linear_pow(backend):
    # step 1: gains = score * phi'(0) -> s0. step 2 (x_A = 4): s1 = 3 phi'(4) = 1.82, s2 = 1 phi'(0) = 12.7 -> s2.
    step2 = {1: 3 * dphi_pow(4.0), 2: 1 * dphi_pow(0.0)}
    assert step2[2] > step2[1]
    out = run(LABELS_1, SCORES_1, ISOLATED, 4, backend)
    assert out.indices.tolist() == [0, 2, 1, 3]
    assert np.allclose(out.gains, [4 * dphi_pow(0.0), step2[2], step2[1], 0.0], rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_pow_differs_from_linear(backend):
    # step 2 (x_A = 4): s1 = phi(7) - phi(4) = 1.71 beats s2 = phi(1) - phi(0) = 1.0, unlike the linear gain.
    step2 = {1: phi_pow(7.0) - phi_pow(4.0), 2: phi_pow(1.0)}
    assert step2[1] > step2[2]
    out = run(LABELS_1, SCORES_1, ISOLATED, 4, backend, gain="exact")
    assert out.indices.tolist() == [0, 1, 2, 3]
    assert np.allclose(out.gains, [phi_pow(4.0), step2[1], step2[2], 0.0], rtol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_exp_linear_and_exact(backend):
    # linear, alpha = 1: step 2 s1 = 3 e^-4 = 0.055 < s2 = 1 -> s2.
    assert run(LABELS_1, SCORES_1, ISOLATED, 4, backend, phi="exp", phi_alpha=1.0).indices.tolist() == [0, 2, 1, 3]
    # exact, alpha = 0.1: step 2 s1 = e^-0.4 (1 - e^-0.3) = 0.174 > s2 = 1 - e^-0.1 = 0.095 -> s1.
    assert math.exp(-0.4) * (1 - math.exp(-0.3)) > 1 - math.exp(-0.1)
    exact = run(LABELS_1, SCORES_1, ISOLATED, 4, backend, phi="exp", phi_alpha=0.1, gain="exact")
    assert exact.indices.tolist() == [0, 1, 2, 3]
    assert exact.gains[1] == pytest.approx(math.exp(-0.4) * (1 - math.exp(-0.3)), rel=1e-12)


# Toy 2: a-b joined (similarity 0.95), c isolated.
JOINED = graph_from_edges(["a", "b", "c"], {("a", "b"): 0.95}, threshold=0.9)
LABELS_2 = [["a"], ["b"], ["a", "b"], ["c"]]
SCORES_2 = [2.0, 2.0, 1.0, 1.5]


@pytest.mark.parametrize("backend", BACKENDS)
def test_propagation_ties_and_order(backend):
    # v0 = 2 [1, .95, 0] / 1.95, v1 = 2 [.95, 1, 0] / 1.95, v2 = [1, 1, 0], v3 = [0, 0, 1.5]: step 1 ties at 2 phi'(0)
    # among s0, s1, s2 -> s0 (smallest index). Step 2: s3 = 1.5 phi'(0) = 19 dwarfs the others.
    # Step 3 (x = v0): s1 - s2 = (0.05 / 1.95) (phi'(x_b) - phi'(x_a)) > 0 as x_b < x_a -> s1, then s2.
    x_a, x_b = 2 / 1.95, 2 * 0.95 / 1.95
    s1 = 2 * (0.95 * dphi_pow(x_a) + dphi_pow(x_b)) / 1.95
    s2 = dphi_pow(x_a) + dphi_pow(x_b)
    assert s1 > s2
    out = run(LABELS_2, SCORES_2, JOINED, 4, backend)
    assert out.indices.tolist() == [0, 3, 1, 2]
    assert out.gains[2] == pytest.approx(s1, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_prop_weight_zero_is_no_propagation(backend):
    # P = I: v0 = [2, 0, 0], v1 = [0, 2, 0], v2 = [1, 1, 0]. Step 2 (x = [2, 0, 0]): s1 = 2 phi'(0) = 25.4 beats
    # s3 = 1.5 phi'(0) = 19.0 and s2 = phi'(2) + phi'(0) = 13.4. Step 3: s3 = 19.0 beats s2 = 2 phi'(2) = 1.39.
    assert run(LABELS_2, SCORES_2, JOINED, 4, backend, prop_weight=0.0).indices.tolist() == [0, 1, 3, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_norm_divides_the_score_over_the_labels(backend):
    scores = [2.0, 2.0, 1.5, 1.5]
    # without norm v2 = 1.5 [1, 1, 0] sums to 3 > 2: s2 first; with norm v2 = 0.75 [1, 1, 0] sums to 1.5 < 2: s0.
    assert run(LABELS_2, scores, JOINED, 1, backend).indices.tolist() == [2]
    assert run(LABELS_2, scores, JOINED, 1, backend, norm=True).indices.tolist() == [0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_threshold_above_an_edge_removes_it(backend):
    # at threshold 0.96 the a-b edge (0.95) is gone: P = I as with prop_weight 0.
    assert run(LABELS_2, SCORES_2, JOINED, 4, backend, threshold=0.96).indices.tolist() == [0, 1, 3, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_samples_without_information_come_last_in_pool_order(backend):
    labels = [[], ["A"], [], ["B"], ["A"]]
    scores = [5.0, 1.0, 7.0, 0.0, 2.0]  # s3 has a label but score 0: no information either
    out = run(labels, scores, ISOLATED, 5, backend)
    assert out.indices.tolist() == [4, 1, 0, 2, 3]
    assert out.gains[2:].tolist() == [0.0, 0.0, 0.0] and (out.gains[:2] > 0).all()


def test_budget_errors_and_the_whole_pool():
    with pytest.raises(ValueError, match=r"budget 5 is larger than the pool \(4 samples\)"):
        mig_select(LABELS_1, SCORES_1, ISOLATED, 5)
    with pytest.raises(ValueError, match="budget must be a positive integer"):
        mig_select(LABELS_1, SCORES_1, ISOLATED, 0)
    assert sorted(mig_select(LABELS_1, SCORES_1, ISOLATED, 4).tolist()) == [0, 1, 2, 3]


def test_a_graph_built_above_the_threshold_is_an_error():
    with pytest.raises(ValueError, match="keeps similarities >= 0.9 only"):
        mig_select(LABELS_1, SCORES_1, ISOLATED, 2, MigParams(threshold=0.8))


def test_cuda_without_a_gpu_is_an_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        mig_select(LABELS_1, SCORES_1, ISOLATED, 2, MigParams(device="cuda"))


def test_a_pool_without_any_label_is_returned_in_pool_order():
    from selection_ops.mig.label_graph import build_label_graph

    graph = build_label_graph([[], []], lambda labels: pytest.fail("nothing to encode"), threshold=0.9)
    for backend in ("numba", "numpy"):
        assert run([[], []], [3.0, 1.0], graph, 2, backend).indices.tolist() == [0, 1]
