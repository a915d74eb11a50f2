"""The fused float32 gelu loops against the NumPy kernels and against torch in float64."""
import numpy as np
import pytest

from ember.kernels.cpu import KERNELS
from helpers import torch
from .jit_check import check_kernel, needs_numba

pytestmark = needs_numba


def _x(n=20_000):
    x = np.random.default_rng(0).uniform(-12, 12, n).astype(np.float32)
    x[:8] = [np.nan, -np.inf, np.inf, -0.0, 0.0, -5.5, 1e-30, -1e-30]
    return x


@pytest.mark.parametrize("n", [1, 37, 20_000])
def test_gelu_matches_numpy_and_torch(n):
    x = _x()[:n]
    got = check_kernel("gelu", x, rtol=2e-6, atol=1e-6, approximate="none")
    want = torch.nn.functional.gelu(torch.from_numpy(x).double()).numpy()
    finite = np.isfinite(x)
    np.testing.assert_allclose(got[finite], want[finite], rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("n", [1, 37, 20_000])
def test_gelu_backward_matches_numpy_and_torch(n):
    x = _x()[:n]
    g = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    got = check_kernel("gelu_backward", g, x, rtol=2e-6, atol=1e-6, approximate="none")
    xt = torch.from_numpy(x).double().requires_grad_()
    torch.nn.functional.gelu(xt).backward(torch.from_numpy(g).double())
    finite = np.isfinite(x)
    np.testing.assert_allclose(got[finite], xt.grad.numpy()[finite], rtol=2e-6, atol=1e-6)


def test_other_layouts_and_dtypes_take_the_numpy_path():
    x = _x(64)
    check_kernel("gelu", x[::2], approximate="none")          # strided
    check_kernel("gelu", x.astype(np.float64), approximate="none", rtol=1e-12, atol=0)  # float64: Cody's erfc
    check_kernel("gelu", x, approximate="tanh")
    assert KERNELS["gelu"](x[::2], approximate="none").shape == (32,)
