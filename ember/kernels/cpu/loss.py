"""Loss kernels: cross_entropy (log_softmax + nll in one kernel) and its fused backward.

Class dim ``cdim`` is 1 (batched, (N, C, d1, ...)) or 0 (unbatched (C,)). Targets are class
indices (int64, shape of the input without the class dim; ``ignore_index`` rows count for
nothing) or probabilities (``soft``: the input's shape). Half floats compute in float32.
"""
import numpy as np

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


def cross_entropy(x, t, w, *, cdim, reduction, ignore_index, label_smoothing, soft):
    """(loss, logsumexp of the rows) of ``-sum_c q_c log_softmax(x)_c`` with q from the target."""
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
            smooth *= np.expand_dims(valid, cdim)
            loss = loss * (1 - label_smoothing) + smooth * (label_smoothing / c)
        loss = loss.squeeze(cdim)
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        loss = loss.sum() / _denominator(xf, t, wt, cdim, soft)
    return np.asarray(loss).astype(x.dtype), lse


def cross_entropy_backward(g, x, t, w, lse, *, cdim, reduction, ignore_index, label_smoothing, soft):
    """d loss / d x = s * (Q softmax(x) - q) with q the target coefficients, Q their row sum and
    s the upstream gradient (per row for 'none'; divided by the denominator for 'mean')."""
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
        s = s / _denominator(xf, t, wt, cdim, soft)
    if soft:
        sm *= np.sum(q, axis=cdim, keepdims=True)
        sm -= q
        sm *= s
        return sm.astype(x.dtype, copy=False)
    ls, c = label_smoothing, xf.shape[cdim]
    sv = s * np.expand_dims(valid, cdim)  # per-row scale, 0 on ignored rows
    total = (_up(w).sum() if w is not None else c) * (ls / c)
    sm *= (wt * (1 - ls) + total * np.expand_dims(valid, cdim)) * sv
    np.put_along_axis(sm, tc, np.take_along_axis(sm, tc, cdim) - sv * wt * (1 - ls), cdim)
    if ls:
        sm -= sv * (ls / c) * (_wview(w, xf.ndim, cdim) if w is not None else 1)
    return sm.astype(x.dtype, copy=False)
