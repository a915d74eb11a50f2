"""Fused activation backward loops on flat contiguous arrays. ``lo:hi`` is the slice to compute
(``parallel_for`` splits the range); loops index the sliced views from 0, because an index
that might be negative makes numba emit wraparound code that stops vectorization (20x slower)."""
from ._njit import njit


@njit
def relu_backward(g, out, res, lo, hi):
    """``res = g`` where ``out > 0``, else 0 (a nan ``out`` passes ``g``, as in PyTorch)."""
    g, out, res = g[lo:hi], out[lo:hi], res[lo:hi]
    for i in range(res.size):
        res[i] = 0 if out[i] <= 0 else g[i]


@njit
def relu(x, res, lo, hi):
    """``max(x, 0)``: ``x`` when ``x >= 0`` or nan (so relu(-0.0) is -0.0, as PyTorch's)."""
    x, res = x[lo:hi], res[lo:hi]
    for i in range(res.size):
        v = x[i]
        res[i] = v if v >= 0 or v != v else 0
