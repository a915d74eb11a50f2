"""Reduction kernels: sums, products, extrema, statistics, norms, logic, scans, softmax.

``dim`` is a tuple of non-negative axes for reductions over several dims (``()`` on 0-d
inputs) and a non-negative int for single-dim ops; 0-d inputs are handled here.
Half floats accumulate in float32 and integer sums/products in int64, as PyTorch does.
"""
import numpy as np

from . import jit
from ._util import np_dtype

__all__ = ["sum_to_size", "reduce_grad", "sum", "mean", "prod", "nansum", "nanmean",
           "amax", "amin", "max_dim", "min_dim", "argmax", "argmin", "select_along",
           "select_along_backward", "var_mean", "std_mean", "logsumexp", "norm", "all", "any",
           "count_nonzero", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp",
           "softmax", "log_softmax", "softmax_backward", "log_softmax_backward", "scaled_softmax",
           "scaled_softmax_backward", "median", "median_dim"]

_HALF = frozenset((np.dtype(np.float16), np_dtype("bfloat16")))  # a set: `in` hashes, no == chain
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_SMALL = 4096  # reduce_grad copies outputs up to this size: ~5x cheaper than broadcast_to


def _up(x):
    """Half floats widened to float32 for accumulation."""
    return x.astype(np.float32) if x.dtype in _HALF else x


def _acc(x):
    """The dtype a sum or product of ``x`` accumulates (and returns) in."""
    return np.int64 if x.dtype.kind in "biu" else (np.float32 if x.dtype in _HALF else None)


def _like(r, x):
    """``r`` cast back to ``x``'s dtype (after accumulating a half float in float32)."""
    return r.astype(x.dtype) if x.dtype in _HALF else r


def _count(shape, dim):
    n = 1
    for d in dim:
        n *= shape[d]
    return n


_ONES = {}


def _ones(n, dt):
    """A read-only ones vector of length ``n`` (a view of one cached buffer per dtype)."""
    o = _ONES.get(dt)
    if o is None or o.size < n:
        o = _ONES[dt] = np.ones(max(n, 4096), dt)
        o.flags.writeable = False
    return o[:n]


def _fsum(x, dim, keepdim):
    """Sum of a float32/64 array over the sorted axes ``dim``. On a large contiguous array, a
    leading and/or trailing block of axes reduces as a GEMV with a ones vector: 2-5x faster than
    ufunc.reduce (bias gradients: (1024, 512) over dim 0, 69 -> 35 us; NCHW over (0, 2, 3)).
    Full reductions keep NumPy's pairwise sum (more accurate over many elements)."""
    n, nd = len(dim), x.ndim
    if x.size < 4096 or not n or n == nd or not x.flags.c_contiguous:
        return x.sum(dim, None, None, keepdim)
    lead = 0
    while lead < n and dim[lead] == lead:
        lead += 1
    if lead < n and dim[lead] != nd - (n - lead):  # a reduced axis in the middle
        return x.sum(dim, None, None, keepdim)
    shape, r = x.shape, x
    if lead:
        m = _count(shape, range(lead))
        r = _ones(m, x.dtype) @ x.reshape(m, -1)
    if lead < n:
        k = _count(shape, range(lead + nd - n, nd))
        r = r.reshape(-1, k) @ _ones(k, x.dtype)
    return r.reshape(tuple(1 if i in dim else s for i, s in enumerate(shape)) if keepdim else
                     tuple(s for i, s in enumerate(shape) if i not in dim))


def sum_to_size(x, shape):
    """Sum ``x`` over the dims broadcasting added to reach its shape from ``shape``."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and x.shape[i + lead] != 1)
    if not axes:
        return x.reshape(shape)
    dt = x.dtype
    out = _fsum(x, axes, True) if dt is _F32 or dt is _F64 else x.sum(axis=axes, keepdims=True)
    return out.reshape(shape)


def reduce_grad(g, *, shape, dim, keepdim):
    """A reduced ``g`` broadcast back to the input ``shape`` (a read-only view; a copy when small)."""
    if not keepdim and g.ndim:
        g = g.reshape(tuple(1 if i in dim else n for i, n in enumerate(shape)))
    if _count(shape, range(len(shape))) <= _SMALL:
        out = np.empty(shape, g.dtype)
        out[...] = g
        return out
    return np.broadcast_to(g, shape)


# --- sums and products ---------------------------------------------------------------
def sum(x, *, dim, keepdim):
    dt = x.dtype
    if dt is _F32 or dt is _F64:
        return _fsum(x, dim, keepdim)
    return _like(x.sum(dim, _acc(x), None, keepdim), x)


def nansum(x, *, dim, keepdim):
    return _like(np.nansum(x, axis=dim, keepdims=keepdim, dtype=_acc(x)), x)


def prod(x, *, dim, keepdim):
    return _like(np.prod(x, axis=dim, keepdims=keepdim, dtype=_acc(x)), x)


def mean(x, *, dim, keepdim):
    n = _count(x.shape, dim)
    dt = x.dtype
    s = _fsum(x, dim, keepdim) if dt is _F32 or dt is _F64 else _up(x).sum(dim, None, None, keepdim)
    if n:
        return _like(s / n, x)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty: 0/0 = nan
        return _like(np.true_divide(s, n), x)


def nanmean(x, *, dim, keepdim):
    n = np.sum(~np.isnan(x), axis=dim, keepdims=keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.true_divide(np.nansum(_up(x), axis=dim, keepdims=keepdim), n)).astype(x.dtype)


# --- extrema --------------------------------------------------------------------------
def amax(x, *, dim, keepdim):
    return np.amax(x, axis=dim, keepdims=keepdim)


def amin(x, *, dim, keepdim):
    return np.amin(x, axis=dim, keepdims=keepdim)


def _select(x, dim, keepdim, argfn):
    """(values, indices) of a value-selecting reduction; NumPy's argmax/argmin return the
    first occurrence and treat nan as the extreme, as PyTorch."""
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int64)
    idx = argfn(x, axis=dim, keepdims=True)
    vals = np.take_along_axis(x, idx, dim)
    if not keepdim:
        idx, vals = idx.squeeze(dim), vals.squeeze(dim)
    return vals, idx.astype(np.int64, copy=False)


def max_dim(x, *, dim, keepdim):
    return _select(x, dim, keepdim, np.argmax)


def min_dim(x, *, dim, keepdim):
    return _select(x, dim, keepdim, np.argmin)


def _arg(x, dim, keepdim, argfn):
    if dim is None:  # over the flattened input
        return np.full((1,) * x.ndim if keepdim else (), argfn(x.reshape(-1)), np.int64)
    if x.ndim == 0:
        return np.zeros((), np.int64)
    return argfn(x, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)


def argmax(x, *, dim, keepdim):
    return _arg(x, dim, keepdim, np.argmax)


def argmin(x, *, dim, keepdim):
    return _arg(x, dim, keepdim, np.argmin)


def select_along(x, idx, *, dim, keepdim):
    """``x`` at ``idx`` along ``dim`` (``idx`` lacks ``dim`` unless ``keepdim``)."""
    if x.ndim == 0:
        return x.copy()
    if not keepdim:
        idx = np.expand_dims(idx, dim)
    r = np.take_along_axis(x, idx, dim)
    return r if keepdim else r.squeeze(dim)


def select_along_backward(g, idx, *, shape, dim, keepdim):
    """Zeros of ``shape`` with ``g`` added at ``idx`` along ``dim`` (the adjoint of select_along)."""
    if len(shape) == 0:
        return g.copy()
    if not keepdim:
        g, idx = np.expand_dims(g, dim), np.expand_dims(idx, dim)
    if idx.shape[dim] == 1:  # one index per slice: no collisions
        out = np.zeros(shape, g.dtype)
        np.put_along_axis(out, idx, g, dim)
        return out
    # several indices per slice (cummax) may collide: scatter-add by flat position
    pos = list(np.indices(idx.shape, sparse=True))
    pos[dim] = idx
    flat = np.ravel_multi_index(np.broadcast_arrays(*pos), shape).reshape(-1)
    out = np.bincount(flat, weights=g.reshape(-1).astype(np.float64), minlength=_count(shape, range(len(shape))))
    return out.reshape(shape).astype(g.dtype)


# --- statistics ---------------------------------------------------------------------------
def var_mean(x, *, dim, correction, keepdim):
    xf = _up(x)
    n = _count(x.shape, dim)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.sum(xf, axis=dim, keepdims=True) / n
        d = xf - m
        d *= d
        v = np.sum(d, axis=dim, keepdims=keepdim) / max(n - correction, 0)
    if not keepdim:
        m = m.squeeze(dim)
    return _like(np.asarray(v), x), _like(m, x)


def std_mean(x, *, dim, correction, keepdim):
    v, m = var_mean(x, dim=dim, correction=correction, keepdim=keepdim)
    return np.sqrt(v), m


def logsumexp(x, *, dim, keepdim):
    if x.ndim == 0:
        return logsumexp(x.reshape(1), dim=(0,), keepdim=False)
    xf = _up(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if _count(x.shape, dim) == 0:  # log(0) = -inf
            return _like(np.log(np.sum(np.exp(xf), axis=dim, keepdims=keepdim)), x)
        m = np.amax(xf, axis=dim, keepdims=True)
        m[~np.isfinite(m)] = 0  # all -inf (or an inf): no shift, exp gives the right answer
        e = xf - m
        np.exp(e, out=e)
        r = np.log(np.sum(e, axis=dim, keepdims=True)) + m
    return _like(r if keepdim else r.squeeze(dim), x)


def norm(x, *, ord, dim, keepdim):
    xf = _up(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if ord == 2:
            r = np.sqrt(np.sum(xf * xf, axis=dim, keepdims=keepdim))
        elif ord == 1:
            r = np.sum(np.abs(xf), axis=dim, keepdims=keepdim)
        elif ord == float("inf"):
            r = np.amax(np.abs(xf), axis=dim, keepdims=keepdim)
        elif ord == float("-inf"):
            r = np.amin(np.abs(xf), axis=dim, keepdims=keepdim)
        elif ord == 0:
            r = np.sum(xf != 0, axis=dim, keepdims=keepdim, dtype=xf.dtype)
        else:
            r = np.sum(np.abs(xf) ** ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)
    return _like(np.asarray(r), x)


# --- logic ------------------------------------------------------------------------------------
def all(x, *, dim, keepdim):
    r = np.all(x, axis=dim, keepdims=keepdim)
    return r.astype(np.uint8) if x.dtype == np.uint8 else r  # PyTorch keeps uint8


def any(x, *, dim, keepdim):
    r = np.any(x, axis=dim, keepdims=keepdim)
    return r.astype(np.uint8) if x.dtype == np.uint8 else r


def count_nonzero(x, *, dim):
    return np.asarray(np.count_nonzero(x, axis=dim) if dim else (x != 0).astype(np.int64), np.int64)


# --- scans: a reverse scan writes through a flipped view of its output, in one pass -----------------
def _scan(x, dim, reverse, fn, dtype):
    if x.ndim == 0:
        return x.astype(dtype or x.dtype)
    if not reverse:
        return fn(x, axis=dim, dtype=dtype)
    out = np.empty(x.shape, dtype or x.dtype)
    fn(np.flip(x, dim), axis=dim, dtype=dtype, out=np.flip(out, dim))
    return out


def cumsum(x, *, dim, reverse=False):
    return _like(_scan(x, dim, reverse, np.cumsum, _acc(x)), x)


def cumprod(x, *, dim):
    return _like(_scan(x, dim, False, np.cumprod, _acc(x)), x)


def logcumsumexp(x, *, dim, reverse=False):
    with np.errstate(invalid="ignore", over="ignore"):
        return _like(_scan(_up(x), dim, reverse, np.logaddexp.accumulate, None), x)


def _cum_extremum(x, dim, ufunc):
    """Running extremum and the index where it was last attained (ties and nans update it)."""
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int64)
    v = ufunc.accumulate(x, axis=dim)
    hit = (x == v) | (x != x)
    pos = np.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - dim - 1))
    return v, np.maximum.accumulate(np.where(hit, pos, 0), axis=dim)


def cummax(x, *, dim):
    return _cum_extremum(x, dim, np.maximum)


def cummin(x, *, dim):
    return _cum_extremum(x, dim, np.minimum)


# --- softmax ---------------------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _sum_along(dim, *arrays):
    """Sum of the product of ``arrays`` along ``dim``, keepdims. einsum: several times faster than
    np.sum over short rows, in one pass even for a product."""
    a = arrays[0]
    if a.ndim > len(_LETTERS) or a.shape[dim] > 65536:  # long rows: NumPy's pairwise sum is more accurate
        p = arrays[0] if len(arrays) == 1 else np.multiply(*arrays)
        return np.sum(p, axis=dim, keepdims=True)
    sub = _LETTERS[:a.ndim]
    r = np.einsum(",".join([sub] * len(arrays)) + "->" + sub.replace(sub[dim], ""), *arrays)
    return np.expand_dims(r, dim)


# exp(x) needs no max subtraction when it cannot overflow and no row sum underflows: a global
# max is ~30x cheaper than a max along a short last dim (a row-by-row NumPy reduction)
_EXP_MAX = 80.0
_FUSED_ROW_MAX = 65536  # longer rows: NumPy's pairwise sums, more accurate than the loops' lanes


def _fused(name, dim, *arrays, extra=()):
    """The compiled loop ``name`` (jit/softmax.py: 1.2-3x faster on the attention's (16, 4, 64, 64))
    over the rows of ``arrays`` (then the ``extra`` arguments), or None where it does not apply:
    float32/64 arrays of one dtype and shape, ``dim`` the last dim, rows of 1 to
    _FUSED_ROW_MAX elements. The output is C-contiguous, of the arrays' shape."""
    a = arrays[0]
    if a.dtype not in (_F32, _F64) or dim % a.ndim != a.ndim - 1 or not a.size or a.shape[dim] > _FUSED_ROW_MAX:
        return None
    for b in arrays[1:]:  # (this module's `any` is the kernel)
        if b.dtype != a.dtype or b.shape != a.shape:
            return None
    k = jit.kernels("softmax")
    if k is None:
        return None
    rows = [np.ascontiguousarray(b).reshape(-1, a.shape[dim]) for b in arrays]
    out = np.empty_like(rows[0])
    getattr(k, name)(*rows, *extra, out)
    return out.reshape(a.shape)


def softmax(x, *, dim):
    if x.ndim == 0:
        return softmax(x.reshape(1), dim=0).reshape(())
    if x.size == 0:
        return x.copy()
    r = _fused("softmax", dim, x)
    if r is not None:
        return r
    xf = _up(x)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if xf.max() < _EXP_MAX - np.log(xf.shape[dim]):  # (false for nan)
            e = np.exp(xf, out=xf if xf is not x else None)
            s = _sum_along(dim, e)
            if s.min() >= 1e-9:  # rows whose max is far below 0 lose precision in subnormals
                e *= np.reciprocal(s, out=s)
                return _like(e, x)
        e = np.subtract(xf, np.amax(xf, axis=dim, keepdims=True), out=xf if xf is not x else None)
        np.exp(e, out=e)
        s = _sum_along(dim, e)
        e *= np.reciprocal(s, out=s)
    return _like(e, x)


def log_softmax(x, *, dim):
    if x.ndim == 0:
        return log_softmax(x.reshape(1), dim=0).reshape(())
    if x.size == 0:
        return x.copy()
    r = _fused("log_softmax", dim, x)
    if r is not None:
        return r
    xf = _up(x)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        s = np.subtract(xf, np.amax(xf, axis=dim, keepdims=True), out=xf if xf is not x else None)
        s -= np.log(_sum_along(dim, np.exp(s)))
    return _like(s, x)


def softmax_backward(g, y, *, dim):
    """``y * (g - sum(g * y))``, the gradient of softmax with output ``y``."""
    if g.ndim == 0:
        return softmax_backward(g.reshape(1), y.reshape(1), dim=0).reshape(())
    if g.size == 0:
        return np.zeros(g.shape, g.dtype)
    r = _fused("softmax_backward", dim, g, y)
    if r is not None:
        return r
    gf, yf = _up(g), _up(y)
    t = np.subtract(gf, _sum_along(dim, gf, yf), out=gf if gf is not g else None)
    t *= yf
    return _like(t, g)


def scaled_softmax(x, bias, *, scale):
    """``softmax(x * scale + bias)`` along the last dim; ``bias`` broadcasts against ``x`` (the
    scaled, masked attention scores). Fused: rows of ``x`` with a bias of the last two dims."""
    n, t = x.shape[-1], x.dtype.type
    b2 = bias.reshape(-1, n) if bias.ndim >= 1 and bias.shape[-1] == n and x.ndim >= 2 else None
    if b2 is not None and bias.dtype == x.dtype and b2.shape[0] in (1, x.shape[-2]) and bias.ndim <= x.ndim:
        # bias rows: one, or one per row of x's last two dims
        r = _fused("scaled_softmax", x.ndim - 1, x, extra=(np.ascontiguousarray(b2), t(scale)))
        if r is not None:
            return r
    return softmax(np.add(np.multiply(x, t(scale)), bias.astype(x.dtype, copy=False)), dim=x.ndim - 1)


def scaled_softmax_backward(g, y, *, scale):
    """``softmax_backward`` along the last dim times ``scale``: the gradient of ``scaled_softmax``
    with output ``y`` w.r.t. its scores, in one pass."""
    if g.ndim and g.size:
        r = _fused("scaled_softmax_backward", g.ndim - 1, g, y, extra=(g.dtype.type(scale),))
        if r is not None:
            return r
    r = softmax_backward(g, y, dim=g.ndim - 1 if g.ndim else 0)
    return np.multiply(r, r.dtype.type(scale), out=r if r.ndim else None)


def log_softmax_backward(g, y, *, dim):
    """``g - exp(y) * sum(g)``, the gradient of log_softmax with output ``y``."""
    if g.ndim == 0:
        return log_softmax_backward(g.reshape(1), y.reshape(1), dim=0).reshape(())
    if g.size == 0:
        return np.zeros(g.shape, g.dtype)
    r = _fused("log_softmax_backward", dim, g, y)
    if r is not None:
        return r
    gf = _up(g)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(_up(y))
        e *= _sum_along(dim, gf)
        np.subtract(gf, e, out=e)
    return _like(e, g)


# --- median -------------------------------------------------------------------------------------
def median(x):
    """The lower median of all elements (nan if any is nan, or if empty)."""
    flat = x.reshape(-1)
    if flat.size == 0:
        return np.array(np.nan, x.dtype)
    if x.dtype.kind not in "biu" and np.isnan(flat).any():
        return np.array(np.nan, x.dtype)
    k = (flat.size - 1) // 2
    return np.partition(flat, k)[k]


def median_dim(x, *, dim, keepdim):
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int64)
    k = (x.shape[dim] - 1) // 2
    idx = np.take(np.argpartition(x, k, axis=dim), [k], axis=dim)  # nan sorts last
    if x.dtype.kind not in "biu":
        nan = x != x
        has = nan.any(axis=dim, keepdims=True)
        if has.any():  # a slice with a nan has median nan, at its first nan
            idx = np.where(has, np.argmax(nan, axis=dim, keepdims=True), idx)
    vals = np.take_along_axis(x, idx, dim)
    if not keepdim:
        idx, vals = idx.squeeze(dim), vals.squeeze(dim)
    return vals, idx.astype(np.int64, copy=False)


__all__ += ["mode"]


def mode(x, *, dim, keepdim):
    """The most frequent value along ``dim`` (the smallest among ties) and the index of its
    last occurrence, as torch.mode."""
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int64)
    moved = np.moveaxis(x, dim, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    r, n = rows.shape
    order = np.argsort(rows, axis=1, kind="stable")
    s = np.take_along_axis(rows, order, 1)
    starts = np.ones((r, n), bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    run = np.cumsum(starts, axis=1) + (np.arange(r) * n)[:, None]   # a global id per run
    count = np.bincount(run.ravel(), minlength=r * n + 1)[run]
    best = np.argmax(count, axis=1)                                  # first = smallest value
    last = best + count[np.arange(r), best] - 1                      # stable sort: last occurrence
    values = s[np.arange(r), last]
    indices = order[np.arange(r), last].astype(np.int64)
    shape = moved.shape[:-1]
    values, indices = values.reshape(shape), indices.reshape(shape)
    if keepdim:
        values, indices = np.expand_dims(values, dim), np.expand_dims(indices, dim)
    return values, indices
