"""Loss kernels: cross_entropy (log_softmax + nll in one kernel) and its fused backward.

Class dim ``cdim`` is 1 (batched, (N, C, d1, ...)) or 0 (unbatched (C,)). Targets are class
indices (int64, shape of the input without the class dim; ``ignore_index`` rows count for
nothing) or probabilities (``soft``: the input's shape). Half floats compute in float32.
The common case ((N, C) float32/64 logits, class indices, no weight, no smoothing) runs the
compiled loops of jit/loss.py, or without them a short NumPy path.
"""
import numpy as np

from . import jit
from .elementwise import _up

__all__ = ["cross_entropy", "cross_entropy_backward"]


def _lse(x, cdim):
    m = np.amax(x, axis=cdim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # rows of -inf: no inf - inf
    e = x - m
    np.exp(e, out=e)
    return np.log(np.sum(e, axis=cdim, keepdims=True)) + m


def _wview(w, ndim, cdim):
    return _up(w).reshape((-1,) + (1,) * (ndim - cdim - 1))


def _index_terms(x, t, w, cdim, ignore_index):
    """(valid mask, safe class index with cdim kept, per-row weight of the target class)."""
    c = x.shape[cdim]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"target {int(t[bad].flat[0])} is out of bounds for {c} classes")
    tc = np.expand_dims(np.where(valid, t, 0), cdim)
    wt = (_up(w)[tc] if w is not None else np.ones(tc.shape, x.dtype)) * np.expand_dims(valid, cdim)
    return valid, tc, wt


def _denominator(x, t, wt, cdim, soft):
    """What 'mean' divides by: the summed target weights (indices) or the row count (soft)."""
    return x.size // max(x.shape[cdim], 1) if soft else wt.sum()


def _soft_coeff(x, t, w, cdim, label_smoothing):
    q = _up(t)
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / x.shape[cdim]
    return q * _wview(w, x.ndim, cdim) if w is not None else q


# --- the common case: (N, C) float32/64 logits, class indices, no weight, no smoothing ----
# The general path's arithmetic in ~12 NumPy calls instead of ~40 (fwd + bwd kernels of a
# (128, 10) batch: 68 -> 20 us); inputs with a non-finite value take the general path.
_ARANGE = np.arange(1024)


def _rows(n):
    global _ARANGE
    if _ARANGE.size < n:
        _ARANGE = np.arange(n)
    return _ARANGE[:n]


def _plain(x, t, w, cdim, label_smoothing, soft):
    return not soft and w is None and not label_smoothing and cdim == 1 and x.ndim == 2 \
        and x.dtype.kind == "f" and x.itemsize >= 4


def _targets(t, c, ignore_index):
    """(safe class indices, valid mask or None when every row counts), bounds checked."""
    valid = t != ignore_index
    if valid.all():
        valid = None
    else:
        t = np.where(valid, t, 0)
    if (t.view(np.uint64) >= c).any():  # negative indices wrap to huge values
        bad = t[t.view(np.uint64) >= c]
        raise IndexError(f"target {int(bad.flat[0])} is out of bounds for {c} classes")
    return t, valid


def _plain_lse(x):
    """Row logsumexp shifted by the global maximum: NumPy's row max over a short last axis is
    ~20x slower than the whole-array max (90 vs 4.5 us on (1024, 96)). A row whose sum falls
    below e^-20 (its max 20 under the global one) would lose precision: then the row max."""
    m = x.max()
    if not np.isfinite(m):
        return None
    e = x - m
    np.exp(e, out=e)
    s = e @ np.ones(x.shape[1], x.dtype)  # a GEMV: 3x faster than a short-row sum
    if s.min() < 2e-9:
        m = x.max(1, keepdims=True)
        if not np.isfinite(m).all():
            return None
        e = np.exp(x - m)
        s = e.sum(1)
    lse = np.log(s)[:, None]
    lse += m
    return lse


def _ce_plain(x, t, reduction, ignore_index):
    n, c = x.shape
    if n == 0 or c == 0:
        return None
    lse = _plain_lse(x)
    if lse is None:
        return None
    tc, valid = _targets(t, c, ignore_index)
    loss = lse[:, 0] - x[_rows(n), tc]
    if valid is not None:
        loss *= valid
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # every row ignored: 0/0 = nan
            loss = loss.sum() / x.dtype.type(n if valid is None else np.count_nonzero(valid))
    return np.asarray(loss), lse


def _ce_plain_backward(g, x, t, lse, reduction, ignore_index):
    n, c = x.shape
    tc, valid = _targets(t, c, ignore_index)
    s = g[:, None] if reduction == "none" else g
    if reduction == "mean":
        k = n if valid is None else np.count_nonzero(valid)
        if k == 0:  # every row ignored: no gradient (torch: 0, not 0 * (g / 0))
            return np.zeros_like(x)
        s = s / x.dtype.type(k)
    if valid is not None:
        s = s * valid[:, None]
    sm = x - lse
    np.exp(sm, out=sm)
    sm *= s
    sm[_rows(n), tc] -= s[:, 0] if s.ndim else s
    return sm


# --- the same case in compiled loops (jit/loss.py): fwd + bwd of (1024, 96) 184 -> 150 us -------
def _loops(x, t):
    n, c = x.shape
    if x.dtype.char not in "fd" or t.dtype != np.int64 or not n or not c:
        return None
    return jit.kernels("loss")


def _out_of_bounds(t, row, c):
    return IndexError(f"target {int(t[row])} is out of bounds for {c} classes")


def _ce_fused(x, t, reduction, ignore_index):
    k = _loops(x, t)
    if k is None:
        return None
    n, c = x.shape
    loss, lse = np.empty(n, x.dtype), np.empty((n, 1), x.dtype)
    bad, valid, total = k.cross_entropy(np.ascontiguousarray(x), np.ascontiguousarray(t), ignore_index, loss,
                                        lse.reshape(n))
    if bad >= 0:
        raise _out_of_bounds(t, bad, c)
    if reduction == "none":
        return loss, lse
    total = x.dtype.type(total)
    return np.asarray(total / x.dtype.type(valid) if reduction == "mean" else total), lse  # (0/0: nan)


def _ce_fused_backward(g, x, t, lse, reduction, ignore_index):
    k = _loops(x, t)
    if k is None:
        return None
    n, c = x.shape
    scale = np.ascontiguousarray(g, x.dtype).reshape(-1)  # per row ('none') or one value
    if reduction == "mean":  # (every row ignored: inf, unused)
        scale = scale / x.dtype.type(np.count_nonzero(t != ignore_index))
    dx = np.empty((n, c), x.dtype)
    bad = k.cross_entropy_backward(np.ascontiguousarray(x), np.ascontiguousarray(t),
                                   np.ascontiguousarray(lse).reshape(n), scale, reduction == "none",
                                   ignore_index, dx)
    if bad >= 0:
        raise _out_of_bounds(t, bad, c)
    return dx


# --- the general case ----------------------------------------------------------------------
def cross_entropy(x, t, w, *, cdim, reduction, ignore_index, label_smoothing, soft):
    """(loss, logsumexp of the rows) of ``-sum_c q_c log_softmax(x)_c`` with q from the target."""
    if _plain(x, t, w, cdim, label_smoothing, soft):
        r = _ce_fused(x, t, reduction, ignore_index)
        if r is None:
            r = _ce_plain(x, t, reduction, ignore_index)
        if r is not None:
            return r
    xf = _up(x)
    lse = _lse(xf, cdim)
    if soft:
        q = _soft_coeff(xf, t, w, cdim, label_smoothing)
        loss = np.sum(q * (lse - xf), axis=cdim)
        wt = None
    else:
        valid, tc, wt = _index_terms(xf, t, w, cdim, ignore_index)
        loss = wt * (lse - np.take_along_axis(xf, tc, cdim))
        if label_smoothing:
            c = xf.shape[cdim]
            if w is not None:
                wv = _wview(w, xf.ndim, cdim)
                smooth = lse * wv.sum() - np.sum(xf * wv, axis=cdim, keepdims=True)
            else:
                smooth = lse * c - np.sum(xf, axis=cdim, keepdims=True)
            loss = loss * (1 - label_smoothing) + smooth * (label_smoothing / c)
        loss = np.where(np.expand_dims(valid, cdim), loss, 0).squeeze(cdim)  # ignored: 0 even if x is nan
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        loss = loss.sum() / _denominator(xf, t, wt, cdim, soft)
    return np.asarray(loss).astype(x.dtype), lse


def cross_entropy_backward(g, x, t, w, lse, *, cdim, reduction, ignore_index, label_smoothing, soft):
    """d loss / d x = s * (Q softmax(x) - q) with q the target coefficients, Q their row sum and
    s the upstream gradient (per row for 'none'; divided by the denominator for 'mean')."""
    if _plain(x, t, w, cdim, label_smoothing, soft):
        dx = _ce_fused_backward(g, x, t, lse, reduction, ignore_index)
        if dx is not None:
            return dx
        if np.isfinite(lse).all():
            return _ce_plain_backward(g, x, t, lse, reduction, ignore_index)
    xf, s = _up(x), _up(g)
    sm = xf - lse
    np.exp(sm, out=sm)
    if soft:
        q = _soft_coeff(xf, t, w, cdim, label_smoothing)
        wt = None
    else:
        valid, tc, wt = _index_terms(xf, t, w, cdim, ignore_index)
    if reduction == "none":
        s = np.expand_dims(s, cdim)
    elif reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # every row ignored: masked below
            s = s / _denominator(xf, t, wt, cdim, soft)
    if soft:
        sm *= np.sum(q, axis=cdim, keepdims=True)
        sm -= q
        sm *= s
        return sm.astype(x.dtype, copy=False)
    ls, c = label_smoothing, xf.shape[cdim]
    sv = np.where(np.expand_dims(valid, cdim), s, 0)  # per-row scale, 0 on ignored rows (even if s is inf)
    total = (_up(w).sum() if w is not None else c) * (ls / c)
    sm *= (wt * (1 - ls) + total * np.expand_dims(valid, cdim)) * sv
    np.put_along_axis(sm, tc, np.take_along_axis(sm, tc, cdim) - sv * wt * (1 - ls), cdim)
    if ls:
        sm -= sv * (ls / c) * (_wview(w, xf.ndim, cdim) if w is not None else 1)
    return sm.astype(x.dtype, copy=False)
