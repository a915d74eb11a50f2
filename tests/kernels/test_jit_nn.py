"""The fused embedding backward sums rows as the sort + reduceat fallback does."""
import numpy as np
import pytest

from ember.kernels.cpu import KERNELS, jit
from .jit_check import check_kernel, needs_numba

pytestmark = needs_numba


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding_idx", [-1, 3])
def test_embedding_backward(dtype, padding_idx):
    rng = np.random.default_rng(0)
    g = rng.standard_normal((4, 33, 7)).astype(dtype)
    idx = rng.integers(0, 10, (4, 33))
    check_kernel("embedding_backward", g, idx, num_weights=12, padding_idx=padding_idx, rtol=1e-5)
    check_kernel("embedding_backward", g[:, ::2], idx[:, ::2].astype(np.int32), num_weights=12, rtol=1e-5)
    check_kernel("embedding_backward", g[:, :0], idx[:, :0], num_weights=12)


def test_embedding_backward_bad_index_fails_in_both_paths():
    g, idx = np.ones((3, 2), np.float32), np.array([0, 5, 1])
    with pytest.raises(IndexError, match="5"):
        KERNELS["embedding_backward"](g, idx, num_weights=5)
    with jit.disabled(), pytest.raises(IndexError):
        KERNELS["embedding_backward"](g, idx, num_weights=5)
