"""layer_norm and rms_norm over the rows of a C-contiguous (rows, n) array, and their backward.

One pass over the rows: each row's statistics, output and gradient terms are computed while
the row sits in L1, and the weight/bias gradients accumulate row by row in an (n,) buffer.
The arithmetic is the NumPy code's (norm.py), in the array's dtype: statistics from lane
sums, the two-pass variance ``mean((x - mean)**2)``, ``rstd = 1 / sqrt(var + eps)``.
``w``/``b`` may be None (numba compiles a version without them); ``eps`` arrives in the
arrays' dtype.
"""
import numpy as np

from ._njit import njit
from ._rows import row_dot, row_sq_dev, row_sum


@njit
def layer_norm(x, w, b, eps, y, mean, rstd):
    """``y = (x - mean) * rstd * w + b`` per row; fills the row statistics ``mean``, ``rstd``."""
    nf, one = x.dtype.type(x.shape[1]), x.dtype.type(1)  # (an int operand would compute in float64)
    for r in range(x.shape[0]):
        xr, yr = x[r], y[r]
        mu = row_sum(xr) / nf
        rs = one / np.sqrt(row_sq_dev(xr, mu) / nf + eps)
        mean[r], rstd[r] = mu, rs
        for j in range(xr.size):
            v = (xr[j] - mu) * rs
            if w is not None:
                v = v * w[j]
            if b is not None:
                v = v + b[j]
            yr[j] = v


@njit
def layer_norm_backward(g, x, mean, rstd, w, need_x, need_w, need_b, dx, dw, db):
    """Per row, with ``xhat = (x - mean) * rstd`` and ``a = g * w``:
    ``dx = (a - mean(a) - xhat * mean(a * xhat)) * rstd``; summed over rows ``dw += g * xhat``,
    ``db += g``. ``dw``/``db`` arrive zeroed; outputs not needed are left alone."""
    n, nf = x.shape[1], x.dtype.type(x.shape[1])
    xhat = np.empty(n, x.dtype)
    a = np.empty(n, x.dtype)
    for r in range(x.shape[0]):
        gr, xr = g[r], x[r]
        mu, rs = mean[r], rstd[r]
        for j in range(n):
            xhat[j] = (xr[j] - mu) * rs
        if need_w:
            for j in range(n):
                dw[j] += gr[j] * xhat[j]
        if need_b:
            for j in range(n):
                db[j] += gr[j]
        if need_x:
            for j in range(n):
                a[j] = gr[j] * w[j] if w is not None else gr[j]
            m1 = row_sum(a) / nf
            m2 = row_dot(a, xhat) / nf
            dxr = dx[r]
            for j in range(n):
                dxr[j] = ((a[j] - m1) - xhat[j] * m2) * rs


@njit
def rms_norm(x, w, eps, y, rstd):
    """``y = x * rstd * w`` per row with ``rstd = 1 / sqrt(mean(x**2) + eps)``."""
    nf, one = x.dtype.type(x.shape[1]), x.dtype.type(1)
    for r in range(x.shape[0]):
        xr, yr = x[r], y[r]
        rs = one / np.sqrt(row_dot(xr, xr) / nf + eps)
        rstd[r] = rs
        for j in range(xr.size):
            v = xr[j] * rs
            if w is not None:
                v = v * w[j]
            yr[j] = v


@njit
def rms_norm_backward(g, x, rstd, w, need_x, need_w, dx, dw):
    """Per row, with ``a = g * w``: ``dx = (a - x * (sum(a x) * rstd**2 / n)) * rstd``; summed
    over rows ``dw += g * (x * rstd)``. ``dw`` arrives zeroed."""
    n, nf = x.shape[1], x.dtype.type(x.shape[1])
    a = np.empty(n, x.dtype)
    for r in range(x.shape[0]):
        gr, xr, rs = g[r], x[r], rstd[r]
        if need_w:
            for j in range(n):
                dw[j] += gr[j] * (xr[j] * rs)
        if need_x:
            for j in range(n):
                a[j] = gr[j] * w[j] if w is not None else gr[j]
            m = row_dot(a, xr) * (rs * rs / nf)
            dxr = dx[r]
            for j in range(n):
                dxr[j] = (a[j] - xr[j] * m) * rs
