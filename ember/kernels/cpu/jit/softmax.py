"""softmax and log_softmax over the rows of a C-contiguous (rows, n) array, and their backward.

Each row is read from memory once and its passes (max, exp, sum, scale) run on it while it
sits in L1. The arithmetic is the NumPy code's, row by row: ``exp(x - max) / sum``
(multiplied by the reciprocal), ``(x - max) - log(sum(exp(x - max)))``, ``y * (g - sum(g y))``
and ``g - exp(y) sum(g)``. A row of -inf gives nan (-inf - -inf), as in NumPy and PyTorch.

The max/exp/sum passes are written out in each loop on purpose: moving them into a shared
helper returning (max, sum) made softmax 1.25x and scaled_softmax 3.8x slower here.
"""
import math

from ._njit import njit
from ._rows import exp, row_dot, row_max, row_sum


@njit
def softmax(x, out):
    for r in range(x.shape[0]):
        xr, o = x[r], out[r]
        m = row_max(xr)
        for j in range(xr.size):
            o[j] = exp(xr[j] - m)
        inv = o.dtype.type(1) / row_sum(o)
        for j in range(o.size):
            o[j] *= inv


@njit
def log_softmax(x, out):
    for r in range(x.shape[0]):
        xr, o = x[r], out[r]
        m = row_max(xr)
        for j in range(xr.size):
            o[j] = exp(xr[j] - m)
        lse = o.dtype.type(math.log(row_sum(o)))
        for j in range(o.size):
            o[j] = (xr[j] - m) - lse


@njit
def softmax_backward(g, y, out):
    for r in range(g.shape[0]):
        gr, yr, o = g[r], y[r], out[r]
        s = row_dot(gr, yr)
        for j in range(gr.size):
            o[j] = (gr[j] - s) * yr[j]


@njit
def scaled_softmax_backward(g, y, scale, out):
    """``softmax_backward`` times ``scale``: the gradient of ``scaled_softmax`` w.r.t. its scores."""
    for r in range(g.shape[0]):
        gr, yr, o = g[r], y[r], out[r]
        s = row_dot(gr, yr)
        for j in range(gr.size):
            o[j] = (gr[j] - s) * yr[j] * scale


@njit
def log_softmax_backward(g, y, out):
    for r in range(g.shape[0]):
        gr, yr, o = g[r], y[r], out[r]
        s = row_sum(gr)
        for j in range(gr.size):
            o[j] = gr[j] - exp(yr[j]) * s


@njit
def scaled_softmax(x, bias, scale, out):
    """``softmax(x * scale + bias)`` per row; ``bias`` (L, n) is added to row r as its row r % L
    (the (L, S) mask of attention scores (..., L, S), one pass instead of three)."""
    period = bias.shape[0]
    for r in range(x.shape[0]):
        xr, o, b = x[r], out[r], bias[r % period]
        for j in range(xr.size):
            o[j] = xr[j] * scale + b[j]
        m = row_max(o)
        for j in range(o.size):
            o[j] = exp(o[j] - m)
        inv = o.dtype.type(1) / row_sum(o)
        for j in range(o.size):
            o[j] *= inv
