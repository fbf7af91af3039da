import math

import numpy as np
import pytest

from selection_ops.mig.phi import Phi


def test_pow_by_hand():
    phi = Phi("pow", a=1e-6, b=0.8)
    assert phi.value(np.array([0.0]))[0] == 0.0
    assert phi.value(np.array([4.0]))[0] == pytest.approx((4 + 1e-6) ** 0.8 - 1e-6**0.8, rel=1e-12)
    assert phi.derivative(np.array([4.0]))[0] == pytest.approx(0.8 * (4 + 1e-6) ** -0.2, rel=1e-12)
    assert phi.derivative(np.array([0.0]))[0] == pytest.approx(0.8 * 1e-6**-0.2, rel=1e-12)  # 12.68


def test_exp_by_hand():
    phi = Phi("exp", alpha=0.5)
    assert phi.value(np.array([2.0]))[0] == pytest.approx(1 - math.exp(-1.0), rel=1e-12)
    assert phi.derivative(np.array([2.0]))[0] == pytest.approx(0.5 * math.exp(-1.0), rel=1e-12)


@pytest.mark.parametrize("phi", [Phi("pow"), Phi("pow", b=0.5, a=0.1), Phi("exp", alpha=0.3)])
def test_marginal_is_the_difference_and_derivative_the_slope(phi):
    x = np.array([0.0, 0.3, 2.0, 17.0, 250.0])
    v = np.array([1.0, 0.01, 3.0, 0.5, 40.0])
    assert np.allclose(phi.marginal(x, v), phi.value(x + v) - phi.value(x), rtol=1e-9, atol=1e-12)
    h = 1e-6
    assert np.allclose(phi.derivative(x[1:]), (phi.value(x[1:] + h) - phi.value(x[1:] - h)) / (2 * h), rtol=1e-5)


def test_torch_tensors_give_the_numpy_values():
    torch = pytest.importorskip("torch")
    phi = Phi("pow")
    x = np.array([0.0, 1.5, 9.0])
    assert np.allclose(phi.derivative(torch.from_numpy(x)).numpy(), phi.derivative(x), rtol=1e-14)
    assert np.allclose(phi.marginal(torch.from_numpy(x), torch.ones(3, dtype=torch.float64)).numpy(),
                       phi.marginal(x, np.ones(3)), rtol=1e-14)


@pytest.mark.parametrize("kwargs", [{"name": "pow", "a": 0.0}, {"name": "pow", "b": 1.5}, {"name": "pow", "b": 0.0},
                                    {"name": "exp", "alpha": 0.0}, {"name": "log"}])
def test_invalid_constants_raise(kwargs):
    with pytest.raises(ValueError):
        Phi(**kwargs)
