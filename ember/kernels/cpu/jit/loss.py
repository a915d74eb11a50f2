"""cross_entropy of C-contiguous (N, C) logits and int64 class targets (no class weights, no
label smoothing), and its backward, one row at a time.

The arithmetic is loss.py's: ``lse = log(sum(exp(x - m))) + m`` with ``m`` the row max (0 when
it is not finite), ``loss = lse - x[target]``. Rows whose target is ``ignore_index`` count for
nothing: a loss of 0, a gradient row of ``exp(x - lse) * 0`` (nan on a row of nan, as in PyTorch).
"""
import math

import numpy as np

from ._njit import njit
from ._rows import exp, row_max, row_sum


@njit
def cross_entropy(x, t, ignore_index, loss, lse):
    """Fills the per-row ``loss`` and ``lse``; returns (the first row whose target is out of
    range or -1, the number of rows not ignored, the sum of the losses)."""
    n, c = x.shape
    e = np.empty(c, x.dtype)
    for i in range(n):
        xr = x[i]
        m = row_max(xr)
        if not np.isfinite(m):  # rows of +-inf: no inf - inf
            m = x.dtype.type(0)
        for j in range(c):
            e[j] = exp(xr[j] - m)
        lse[i] = x.dtype.type(math.log(row_sum(e))) + m
    valid = 0  # (a loop of its own: 15% faster than in the loop above)
    for i in range(n):
        ti = t[i]
        if ti == ignore_index:
            loss[i] = 0
            continue
        if ti < 0 or ti >= c:
            return i, valid, x.dtype.type(0)
        loss[i] = lse[i] - x[i, ti]
        valid += 1
    return -1, valid, row_sum(loss)


@njit
def cross_entropy_backward(x, t, lse, scale, per_row, ignore_index, dx):
    """``dx = (exp(x - lse) - onehot(target)) * s`` per row, ``s = scale[i]`` if ``per_row`` else
    ``scale[0]``; returns the first row whose target is out of range, or -1."""
    n, c = x.shape
    for i in range(n):
        xr, dr, ti = x[i], dx[i], t[i]
        ignored = ti == ignore_index
        if not ignored and (ti < 0 or ti >= c):
            return i
        s = x.dtype.type(0) if ignored else (scale[i] if per_row else scale[0])
        li = lse[i]
        for j in range(c):
            dr[j] = exp(xr[j] - li) * s
        if not ignored:
            dr[ti] -= s
    return -1
