"""Properties on random instances: lazy == full rescan == dense, monotone gains, E(D) monotone and submodular."""

import numpy as np
import pytest

from selection_ops.mig.gains import NumpyGains
from selection_ops.mig.information import dataset_information
from selection_ops.mig.lazy_greedy import full_rescan_greedy
from selection_ops.mig.params import InformationParams, MigParams
from selection_ops.mig.propagation import propagated_information
from selection_ops.mig.reference import dense_reference_run
from selection_ops.mig.sampler import mig_run

SETTINGS = [{}, {"gain": "exact"}, {"phi": "exp", "phi_alpha": 0.2}, {"phi": "exp", "phi_alpha": 0.2, "gain": "exact"},
            {"norm": True, "prop_weight": 0.5, "threshold": 0.9}, {"phi_b": 0.5, "phi_a": 0.01}]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "default")
def test_every_path_gives_the_full_rescan_picks(instance, seed, setting):
    case = instance(seed)
    params = MigParams(**setting)
    n = len(case.scores)
    information = propagated_information(case.labels_per_sample, case.scores,
                                         case.graph.at_threshold(params.threshold), params.prop_weight, params.norm)
    rescan = full_rescan_greedy(NumpyGains(information, params.phi_function(), params.gain), n)
    assert np.array_equal(dense_reference_run(case.labels_per_sample, case.scores, case.graph, n, params).indices,
                          rescan.indices)
    for backend in ("numba", "numpy", "torch-cpu"):
        run = mig_run(case.labels_per_sample, case.scores, case.graph, n, params, backend=backend)
        assert np.array_equal(run.indices, rescan.indices), backend
        assert np.allclose(run.gains, rescan.gains, rtol=1e-9, atol=0)
    # gains never rise along the run (up to the tie tolerance), and the zero-gain rows are the tail
    gains = rescan.gains
    assert np.all(gains[1:] <= gains[:-1] * (1 + 1e-9))
    assert np.all(gains >= 0)


@pytest.mark.parametrize("seed", [3, 4])
def test_exact_gain_is_the_increase_of_e_d(instance, seed):
    case = instance(seed, n=40)
    params = MigParams(gain="exact")
    run = mig_run(case.labels_per_sample, case.scores, case.graph, 40, params)
    info = [dataset_information(case.labels_per_sample, case.scores, case.graph, run.indices[:k], params)
            for k in range(41)]
    assert info[0] == 0.0
    assert np.allclose(np.diff(info), run.gains, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("setting", [{}, {"phi": "exp", "phi_alpha": 0.5}, {"norm": True}])
def test_e_d_is_monotone_and_submodular(instance, seed, setting):
    case = instance(seed, n=60)
    params = InformationParams(**setting)
    rng = np.random.default_rng(100 + seed)
    for _ in range(10):
        order = rng.permutation(60)
        small, large, extra = order[:10], order[:30], int(order[45])

        def e(rows):
            return dataset_information(case.labels_per_sample, case.scores, case.graph, rows, params)

        assert e(small) <= e(large) + 1e-9
        gain_small = e(np.r_[small, extra]) - e(small)
        gain_large = e(np.r_[large, extra]) - e(large)
        assert gain_small >= gain_large - 1e-9
        assert gain_large >= -1e-12


def test_same_input_gives_identical_output(instance):
    case = instance(7, n=300, n_labels=40)
    first = mig_run(case.labels_per_sample, case.scores, case.graph, 200, MigParams())
    second = mig_run(case.labels_per_sample, case.scores, case.graph, 200, MigParams())
    assert first.indices.tobytes() == second.indices.tobytes() and first.gains.tobytes() == second.gains.tobytes()


def test_many_exact_ties_are_broken_by_the_smallest_index():
    """Every sample identical: the greedy order must be the pool order."""
    from .conftest import graph_from_edges

    graph = graph_from_edges(["x", "y"], {("x", "y"): 0.93}, threshold=0.9)
    labels = [["x", "y"]] * 50
    for backend in ("numba", "numpy", "torch-cpu"):
        assert mig_run(labels, np.full(50, 2.5), graph, 50, backend=backend).indices.tolist() == list(range(50))


@pytest.mark.gpu
@pytest.mark.parametrize("setting", SETTINGS[:4])
def test_cuda_path_gives_the_cpu_picks(instance, setting):
    case = instance(5, n=2000, n_labels=200)
    params = MigParams(**setting)
    cpu = mig_run(case.labels_per_sample, case.scores, case.graph, 1500, params, backend="numba")
    gpu = mig_run(case.labels_per_sample, case.scores, case.graph, 1500, params, backend="torch-cuda")
    assert np.array_equal(cpu.indices, gpu.indices)
