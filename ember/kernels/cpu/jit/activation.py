"""Fused activation loops (relu, exact gelu, their backward) on flat contiguous arrays. ``lo:hi``
is the slice to compute (``parallel_for`` splits the range); loops index the sliced views from 0,
because an index that might be negative makes numba emit wraparound code that stops
vectorization (20x slower)."""
import numpy as np

from ._njit import njit
from ._rows import exp
from ..activation import _INV_SQRT_2PI as _INV_SQRT_2PI_D, _SQRT_HALF
from ..elementwise import _NR


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


# --- gelu (float32) -----------------------------------------------------------------------------
# Phi(x) = erfc(-x / sqrt 2) / 2 with Numerical Recipes' erfcc (the NumPy kernel's float32 formula,
# elementwise._erfc_abs32) and the polynomial exp that LLVM vectorizes: 7x faster than the ~30
# NumPy passes. Unlike the NumPy code, exp(-y*y) is not split into exp(-hi*hi) exp(-lo) (keeping
# y*y's rounding error out of it): a second exp stopped LLVM vectorizing the loop. That error is
# < 8e-6 relative, in a cdf below 1e-3 where it matters, so gelu's absolute error stays < 1e-6.
_F = np.float32
_NR0, _NR1, _NR2, _NR3, _NR4, _NR5, _NR6, _NR7, _NR8, _NR9 = (_F(c) for c in _NR)
_INV_SQRT_2PI, _SQRT_HALF_F = _F(_INV_SQRT_2PI_D), _F(_SQRT_HALF)


@njit(fastmath={"contract"})
def _normal_cdf(v):
    """Phi(v) of a float32 ``v`` (through erfc: accurate in the left tail)."""
    y = min(abs(v) * _SQRT_HALF_F, _F(10.5))  # erfc(y) underflows float32 beyond
    t = _F(1) / (_F(1) + _F(0.5) * y)
    p = t * _NR9
    p = (p + _NR8) * t
    p = (p + _NR7) * t
    p = (p + _NR6) * t
    p = (p + _NR5) * t
    p = (p + _NR4) * t
    p = (p + _NR3) * t
    p = (p + _NR2) * t
    p = (p + _NR1) * t
    e = t * exp(p + _NR0 - y * y)  # erfc(|v| / sqrt 2)
    return _F(0.5) * (e if v <= 0 else _F(2) - e)


@njit
def gelu(x, res, lo, hi):
    """``x Phi(x)`` (exact gelu) of float32 ``x``."""
    x, res = x[lo:hi], res[lo:hi]
    for i in range(res.size):
        v = x[i]
        res[i] = v * _normal_cdf(v)


@njit
def gelu_backward(g, x, res, lo, hi):
    """``g (Phi(x) + x phi(x))``: the exact gelu's gradient, float32."""
    g, x, res = g[lo:hi], x[lo:hi], res[lo:hi]
    for i in range(res.size):
        v = x[i]
        res[i] = g[i] * (_normal_cdf(v) + v * exp(_F(-0.5) * v * v) * _INV_SQRT_2PI)
