"""Normalization kernels: layer_norm, rms_norm, batch_norm (+ group/instance norm through it).

Every op saves its per-row statistics (mean, rstd) so its backward kernel makes a few array
passes without recomputing them. Half floats are computed in float32 and rounded once; the
statistics stay float32 for them, as in PyTorch. layer_norm and rms_norm of float32/64 run
the compiled loops of jit/norm.py (one pass over the rows, 3-4x faster on (16, 64, 128));
their NumPy code is the fallback.
"""
import numpy as np

from . import jit
from .elementwise import _up

__all__ = ["layer_norm", "layer_norm_backward", "rms_norm", "rms_norm_backward",
           "batch_norm", "batch_norm_backward"]

_EMPTY = np.zeros(0, np.float32)


def _rows(x, k):
    """``x`` as (rows, features) with the last ``k`` dims as features."""
    n = int(np.prod(x.shape[x.ndim - k:])) if k else 1
    return _up(x).reshape(-1, n) if n else _up(x).reshape(int(np.prod(x.shape[:x.ndim - k])), 0)


def _row_mean(x2):
    """Row means of a (rows, n) array, (rows, 1); einsum: faster than mean(axis=1), and
    single-threaded (a BLAS GEMV stalls on a busy machine waiting for its threads)."""
    n = x2.shape[1]
    if not n:
        return np.zeros((x2.shape[0], 1), x2.dtype)
    return np.einsum("ij->i", x2)[:, None] / n


def _stat_shape(x, k):
    return x.shape[:x.ndim - k] + (1,) * k


def _loops(x, *others):
    """The compiled norm loops (jit/norm.py) when they apply: a non-empty float32/64 ``x``,
    the other arrays (None: absent) of its dtype; else None."""
    if x.dtype.char not in "fd" or not x.size:
        return None
    for a in others:
        if a is not None and a.dtype != x.dtype:
            return None
    return jit.kernels("norm")


def _c_rows(a, n):
    """``a`` (None passes) as a C-contiguous (rows, n) array, copied only if it is not one."""
    return None if a is None else np.ascontiguousarray(a).reshape(-1, n)


def _c_flat(a):
    return None if a is None else np.ascontiguousarray(a).reshape(-1)


# --- layer_norm -----------------------------------------------------------------------------
def layer_norm(x, w, b, *, normalized_ndim, eps):
    """(y, mean, rstd) normalising over the last ``normalized_ndim`` dims."""
    k = _loops(x, w, b)
    if k is not None:
        x2 = _c_rows(x, int(np.prod(x.shape[x.ndim - normalized_ndim:])))
        y, mean, rstd = np.empty_like(x2), np.empty(len(x2), x.dtype), np.empty(len(x2), x.dtype)
        k.layer_norm(x2, _c_flat(w), _c_flat(b), x.dtype.type(eps), y, mean, rstd)
        ss = _stat_shape(x, normalized_ndim)
        return y.reshape(x.shape), mean.reshape(ss), rstd.reshape(ss)
    x2 = _rows(x, normalized_ndim)
    n = x2.shape[1]
    mean = _row_mean(x2)
    y = x2 - mean
    var = np.einsum("ij,ij->i", y, y)[:, None] / max(n, 1)
    rstd = 1 / np.sqrt(var + eps)
    y *= rstd
    if w is not None:
        y *= _up(w).reshape(-1)
    if b is not None:
        y += _up(b).reshape(-1)
    ss = _stat_shape(x, normalized_ndim)
    return y.reshape(x.shape).astype(x.dtype, copy=False), mean.reshape(ss), rstd.reshape(ss)


def layer_norm_backward(g, x, mean, rstd, w, *, normalized_ndim, eps, need):
    """(dx, dw, db) of layer_norm; outputs not in ``need`` are empty."""
    loops = _loops(x, g, mean, rstd, w)
    if loops is not None:
        return _fused_layer_norm_backward(loops, g, x, mean, rstd, w, normalized_ndim, need)
    k = normalized_ndim
    g2, x2 = _rows(g, k), _rows(x, k)
    rstd, n = rstd.reshape(-1, 1), x2.shape[1]
    xhat = x2 - mean.reshape(-1, 1)
    xhat *= rstd
    dw = np.einsum("ij,ij->j", g2, xhat).reshape(w.shape).astype(w.dtype) if need[1] else _EMPTY
    db = _EMPTY
    if need[2]:
        db = np.einsum("ij->j", g2).reshape(x.shape[x.ndim - k:])  # ~2x faster than sum(axis=0)
        db = db.astype(x.dtype if w is None else w.dtype)
    dx = _EMPTY
    if need[0]:
        a = g2 * _up(w).reshape(-1) if w is not None else g2.copy()
        m1 = _row_mean(a)
        m2 = np.einsum("ij,ij->i", a, xhat)[:, None] / max(n, 1)
        a -= m1
        xhat *= m2
        a -= xhat
        a *= rstd
        dx = a.reshape(x.shape).astype(x.dtype, copy=False)
    return dx, dw, db


def _fused_layer_norm_backward(loops, g, x, mean, rstd, w, k, need):
    feat = x.shape[x.ndim - k:]
    n = int(np.prod(feat))
    x2 = _c_rows(x, n)
    dx = np.empty((len(x2) if need[0] else 0, n), x.dtype)  # (an empty placeholder when not needed)
    dw, db = np.zeros(n if need[1] else 0, x.dtype), np.zeros(n if need[2] else 0, x.dtype)
    loops.layer_norm_backward(_c_rows(g, n), x2, _c_flat(mean), _c_flat(rstd), _c_flat(w), *need, dx, dw, db)
    return (dx.reshape(x.shape) if need[0] else _EMPTY, dw.reshape(feat) if need[1] else _EMPTY,
            db.reshape(feat) if need[2] else _EMPTY)


# --- rms_norm ------------------------------------------------------------------------------
def rms_norm(x, w, *, normalized_ndim, eps):
    """(y, rstd): ``x / sqrt(mean(x^2) + eps) * w`` over the last ``normalized_ndim`` dims."""
    k = _loops(x, w)
    if k is not None:
        x2 = _c_rows(x, int(np.prod(x.shape[x.ndim - normalized_ndim:])))
        y, rstd = np.empty_like(x2), np.empty(len(x2), x.dtype)
        k.rms_norm(x2, _c_flat(w), x.dtype.type(eps), y, rstd)
        return y.reshape(x.shape), rstd.reshape(_stat_shape(x, normalized_ndim))
    x2 = _rows(x, normalized_ndim)
    n = x2.shape[1]
    rstd = 1 / np.sqrt(np.einsum("ij,ij->i", x2, x2)[:, None] / max(n, 1) + eps)
    y = x2 * rstd
    if w is not None:
        y *= _up(w).reshape(-1)
    return y.reshape(x.shape).astype(x.dtype, copy=False), rstd.reshape(_stat_shape(x, normalized_ndim))


def rms_norm_backward(g, x, rstd, w, *, normalized_ndim, eps, need):
    """(dx, dw) of rms_norm; outputs not in ``need`` are empty."""
    loops = _loops(x, g, rstd, w)
    if loops is not None:
        return _fused_rms_norm_backward(loops, g, x, rstd, w, normalized_ndim, need)
    k = normalized_ndim
    g2, x2 = _rows(g, k), _rows(x, k)
    rstd, n = rstd.reshape(-1, 1), x2.shape[1]
    dw = np.einsum("ij,ij->j", g2, x2 * rstd).reshape(w.shape).astype(w.dtype) if need[1] else _EMPTY
    dx = _EMPTY
    if need[0]:
        a = g2 * _up(w).reshape(-1) if w is not None else g2
        m = np.einsum("ij,ij->i", a, x2)[:, None] * (rstd * rstd / max(n, 1))
        dx = ((a - x2 * m) * rstd).reshape(x.shape).astype(x.dtype, copy=False)
    return dx, dw


def _fused_rms_norm_backward(loops, g, x, rstd, w, k, need):
    feat = x.shape[x.ndim - k:]
    n = int(np.prod(feat))
    x2 = _c_rows(x, n)
    dx = np.empty((len(x2) if need[0] else 0, n), x.dtype)  # (an empty placeholder when not needed)
    dw = np.zeros(n if need[1] else 0, x.dtype)
    loops.rms_norm_backward(_c_rows(g, n), x2, _c_flat(rstd), _c_flat(w), *need, dx, dw)
    return dx.reshape(x.shape) if need[0] else _EMPTY, dw.reshape(feat) if need[1] else _EMPTY


# --- batch_norm ------------------------------------------------------------------------------
def _channels(x):
    """``x`` as (N, C, L): channel dim 1, everything after it flattened."""
    n, c = x.shape[0], x.shape[1]
    return _up(x).reshape(n, c, -1) if x.size else _up(x).reshape(n, c, int(np.prod(x.shape[2:])))


def batch_norm(x, mean, var, w, b, *, training, eps):
    """(y, mean, var) per channel (dim 1). Training: batch statistics (biased var); else the
    given running ``mean``/``var``. The statistics returned are the ones used, shape (C,)."""
    x3 = _channels(x)
    if training:
        m = x3.mean(axis=(0, 2))
        xc = x3 - m[:, None]
        v = np.einsum("ncl,ncl->c", xc, xc) / max(x3.shape[0] * x3.shape[2], 1)
    else:
        m, v = _up(mean), _up(var)
        xc = x3 - m[:, None]
    rstd = 1 / np.sqrt(v + eps)
    scale = rstd if w is None else rstd * _up(w)
    xc *= scale[:, None]
    if b is not None:
        xc += _up(b)[:, None]
    return xc.reshape(x.shape).astype(x.dtype, copy=False), m.copy(), np.asarray(v, m.dtype)


def batch_norm_backward(g, x, mean, var, w, *, training, eps, need):
    """(dx, dw, db) of batch_norm from the statistics it used; in eval mode they are constants."""
    g3, x3 = _channels(g), _channels(x)
    cnt = max(x3.shape[0] * x3.shape[2], 1)
    rstd = 1 / np.sqrt(_up(var) + eps)
    xhat = (x3 - _up(mean)[:, None]) * rstd[:, None]
    gsum = g3.sum(axis=(0, 2))
    gx = np.einsum("ncl,ncl->c", g3, xhat)
    dw = gx.astype(w.dtype) if need[1] else _EMPTY
    db = gsum.astype(w.dtype if w is not None else x.dtype) if need[2] else _EMPTY
    dx = _EMPTY
    if need[0]:
        scale = rstd if w is None else rstd * _up(w)
        if training:
            xhat *= (gx / cnt)[:, None]
            dx = g3 - xhat
            dx -= (gsum / cnt)[:, None]
            dx *= scale[:, None]
        else:
            dx = g3 * scale[:, None]
        dx = dx.reshape(x.shape).astype(x.dtype, copy=False)
    return dx, dw, db
