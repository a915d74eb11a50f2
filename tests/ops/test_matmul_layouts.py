"""The matmul kernel computes NumPy's product whatever the operands' memory layout (it copies
transposed operands where NumPy's batched path is slow on them)."""
import numpy as np
import pytest

from ember.kernels.cpu import KERNELS


def _rand(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("sa,sb", [((16, 4, 64, 32), (16, 4, 32, 64)), ((16, 1, 64, 64), (16, 4, 64, 32)),
                                   ((16, 4, 64, 32), (4, 32, 64)), ((16, 4, 64, 32), (1, 4, 32, 64))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_matmul_any_layout(sa, sb, dtype):
    a, b = _rand(sa, dtype), _rand(sb, dtype, 1)
    def transposed(x):
        return np.ascontiguousarray(x.swapaxes(-1, -2)).swapaxes(-1, -2)
    for x, y in ((a, b), (transposed(a), b), (a, transposed(b)), (transposed(a), transposed(b))):
        got, want = KERNELS["matmul"](x, y), np.matmul(x, y)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


