"""Pooling and resampling kernels, layout (N, C, *spatial), any number of spatial dims.

Window ops pad the input so that every window lies inside it. float32/float64 then go to
the compiled loops of ``jit/pool.py``, which visit each window once (max and argmax in one
pass; each gradient one scatter). The NumPy fallback (other dtypes, no numba) loops over
the K kernel offsets, each one strided slice of the padded input covering every output at
once (never over pixels). Max pooling returns PyTorch's flat indices into each (N, C)
plane; the NumPy gradient scatters through them with one bincount.
Interpolation is separable: each spatial axis is resampled by a banded matrix built from a
few "taps" (an index and a weight per output position) and applied as one gather per band
diagonal; the adjoint is the transposed band, applied the same way (no scatter).
"""
import functools
import math

import numpy as np

from . import jit
from ._parallel import parallel_for
from .conv import pad_spatial, offset_slices, crop

__all__ = ["max_pool", "max_pool_backward", "avg_pool", "avg_pool_backward", "adaptive_max_pool",
           "upsample", "upsample_backward"]


def pool_out_shape(spatial, ks, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output size; with ceil_mode the last window must start inside the input
    or its left padding."""
    out = []
    for n, k, s, p, d in zip(spatial, ks, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out.append(o)
    return tuple(out)


def _pads(spatial, out, ks, stride, padding, dilation):
    """(before, after) widths so that every window of the ``out`` outputs lies in the padded input."""
    return tuple((p, max(0, (o - 1) * s + d * (k - 1) + 1 - n - p))
                 for n, o, k, s, p, d in zip(spatial, out, ks, stride, padding, dilation))


def _flat_index(pos, spatial):
    """Flat index in the plane of per-dim positions ``pos`` (broadcastable int arrays)."""
    flat = 0
    for p, n in zip(pos, spatial):
        flat = flat * n + p
    return flat


def _planes(a, nd):
    """Contiguous (N*C, D, H, W) view (or copy) of ``a`` (N, C, *spatial), 1-d and 2-d spatial shapes
    promoted to 3-d by leading unit dims, the layout of the compiled loops."""
    a = np.ascontiguousarray(a)
    spatial = a.shape[a.ndim - nd:]
    return a.reshape((math.prod(a.shape[:a.ndim - nd]),) + (1,) * (3 - nd) + spatial)


def _as_3d(params, fill=1):
    """A per-dim tuple promoted to 3-d like ``_planes``'s shapes (leading ``fill``: a unit window)."""
    return (fill,) * (3 - len(params)) + tuple(int(v) for v in params)


# windows up to this size reach the compiled loops as tuples: numba compiles a loop per size,
# fully unrolled (15% faster on 2x2); larger ones as an array (compiling 400 unrolled steps takes 8 s)
_UNROLL = 16


def _window_offsets(ks, dilation, spatial):
    """Flat offsets of a window's elements from its corner in a plane of shape ``spatial``, in
    window order."""
    offsets = tuple(int(_flat_index([k * d for k, d in zip(kidx, dilation)], spatial)) for kidx in np.ndindex(*ks))
    return offsets if len(offsets) <= _UNROLL else np.array(offsets, np.int64)


def _grid(j, nd, n):
    """arange(n) shaped to broadcast along spatial dim ``j`` of an (…, *out) array."""
    return np.arange(n).reshape((n,) + (1,) * (nd - 1 - j))


# --- max pooling -------------------------------------------------------------------------------
def _lowest(dtype):
    return -np.inf if dtype.kind == "f" or dtype.name == "bfloat16" else np.iinfo(dtype).min


@functools.cache
def _max_returns_second(dtype):
    """Whether np.maximum returns its second operand on ties (+0 vs -0): it depends on the dtype's
    loop (float16's scalar loop returns the first, float32's SIMD one the second)."""
    if dtype.kind != "f" and dtype.name != "bfloat16":
        return True
    return all(not np.signbit(np.maximum(np.full(n, -0.0, dtype), np.zeros(n, dtype))).any() for n in (1, 67))


def _count_leading(flags):
    """Per element, the number of leading arrays in ``flags`` (bool arrays, consumed) that are
    true: the first false position, branch-free (a running AND summed in uint8)."""
    run = flags[0]
    count = run.astype(np.uint8 if len(flags) < 256 else np.int32)
    for f in flags[1:]:
        count += np.logical_and(run, f, out=run).view(np.uint8)
    return count


def _max_pool_planes(loop, xs, vs, js, rest, lo, hi):
    """The compiled max_pool on planes ``lo:hi`` (planes are independent: parallel_for splits them)."""
    loop(xs[lo:hi], vs[lo:hi], js[lo:hi], *rest)


def _scatter_planes(loop, g, indices, gx, lo, hi):
    loop(g[lo:hi], indices[lo:hi], gx[lo:hi])


def max_pool(x, *, kernel_size, stride, padding, dilation, ceil_mode):
    """(values, flat indices) of the window maxima, PyTorch's: the first maximum, or the last nan.

    The maxima are a chain of np.maximum over the K strided slices (one per kernel offset);
    the winning offset is the number of leading slices that differ from the maximum (slices
    in the padding never match), so no per-element branches."""
    nd = len(kernel_size)
    spatial = x.shape[-nd:]
    out = pool_out_shape(spatial, kernel_size, stride, padding, dilation, ceil_mode)
    xp = pad_spatial(x, _pads(spatial, out, kernel_size, stride, padding, dilation), _lowest(x.dtype))
    k = jit.kernels("pool")
    if k is not None and x.dtype.char in "fd":
        values = np.empty(x.shape[:-nd] + out, x.dtype)
        indices = np.empty(values.shape, np.int64)
        xs, vs, js = _planes(xp, nd), _planes(values, nd), _planes(indices, nd)
        rest = (_as_3d(spatial), _as_3d(stride), _as_3d(padding, 0), _as_3d(dilation),
                _window_offsets(kernel_size, dilation, xp.shape[-nd:]), _window_offsets(kernel_size, dilation, spatial))
        parallel_for(_max_pool_planes, xs.shape[0], k.max_pool, xs, vs, js, rest, cost=math.prod(xs.shape[1:]))
        return values, indices
    offsets = list(np.ndindex(*kernel_size))
    vs = [xp[(Ellipsis,) + offset_slices(k, out, stride, dilation)] for k in offsets]
    # on ties keep ``best``, the first (sign of 0 included, as in PyTorch)
    second = _max_returns_second(x.dtype)
    best = vs[0].copy() if len(vs) == 1 else np.maximum(vs[1], vs[0]) if second else np.maximum(vs[0], vs[1])
    for v in vs[2:]:
        np.maximum(v, best, out=best) if second else np.maximum(best, v, out=best)
    # real positions o * s - p + k * d of each offset, per dim; outside the input: padding
    grids = [_grid(j, nd, out[j]) * stride[j] - padding[j] for j in range(nd)]
    if len(vs) == 1:
        arg = np.zeros(best.shape, np.uint8)
    else:
        flags = []
        for k, v in zip(offsets, vs[:-1]):
            ne = np.not_equal(v, best)
            pad = _in_padding(grids, k, dilation, spatial)
            flags.append(ne if pad is None else np.logical_or(ne, pad, out=ne))
        arg = _count_leading(flags)
        if (best.dtype.kind == "f" or best.dtype.name == "bfloat16") and np.isnan(best.sum()):
            # windows with nan: PyTorch updates on every nan, so the last one wins
            last = len(vs) - 1 - _count_leading([~np.isnan(v) for v in vs[:0:-1]])
            np.copyto(arg, last.astype(arg.dtype), where=np.isnan(best))
    # flat index = base (window start) + the winning offset's displacement in the plane
    offs = np.asarray(_window_offsets(kernel_size, dilation, spatial), np.int64)
    idx = np.take(offs, arg)
    idx += _flat_index(grids, spatial)
    return best, idx


def _in_padding(grids, k, dilation, spatial):
    """Bool (*out) mask of outputs whose kernel offset ``k`` reads padding, or None if none does."""
    pad = None
    for g, kj, d, n in zip(grids, k, dilation, spatial):
        pos = g + kj * d
        if pos.min() < 0 or pos.max() >= n:
            outside = (pos < 0) | (pos >= n)
            pad = outside if pad is None else pad | outside
    return pad


def max_pool_backward(g, indices, *, input_shape, unique=False):
    """Scatter-add ``g`` (N, C, *out) to the flat plane positions ``indices``. Compiled: one
    accumulating pass (correct whether or not positions repeat). NumPy: one bincount, or with
    ``unique`` (non-overlapping windows: no position twice in a plane) one assignment."""
    planes = int(np.prod(input_shape[:2]))
    size = int(np.prod(input_shape[2:]))
    outs = int(np.prod(indices.shape[2:]))
    k = jit.kernels("pool")
    if k is not None and g.dtype.char in "fd" and indices.dtype == np.int64:
        gx = np.empty(tuple(input_shape), g.dtype)
        parallel_for(_scatter_planes, planes, k.max_pool_backward, np.ascontiguousarray(g).reshape(planes, outs),
                     np.ascontiguousarray(indices).reshape(planes, outs), gx.reshape(planes, size), cost=size)
        return gx
    flat = indices.reshape(planes, outs) + np.arange(planes).reshape(-1, 1) * size
    if unique:
        gx = np.zeros(tuple(input_shape), g.dtype)
        gx.reshape(-1)[flat.reshape(-1)] = g.reshape(-1)
        return gx
    gx = np.bincount(flat.ravel(), weights=g.ravel(), minlength=planes * size)
    return gx.astype(g.dtype).reshape(input_shape)


def adaptive_max_pool(x, *, output_size):
    """Maxima of PyTorch's adaptive windows [floor(i n / o), ceil((i + 1) n / o)), and flat indices.

    Windows differ in length; each is gathered at the longest length with its last element
    repeated (a repeat never changes the max or its first position)."""
    nd = len(output_size)
    lead, spatial = x.shape[:-nd], x.shape[-nd:]
    index, starts = [], []
    for j, (n, o) in enumerate(zip(spatial, output_size)):
        i = np.arange(o)
        s, e = i * n // o, -(-(i + 1) * n // o)
        L = int((e - s).max()) if o else 1
        idx = np.minimum(s[:, None] + np.arange(L), e[:, None] - 1)            # (o, L)
        shape = [1] * (2 * nd)
        shape[2 * j], shape[2 * j + 1] = o, L
        index.append(idx.reshape(shape))
        starts.append(s)
    w = x[(Ellipsis,) + tuple(index)]                                           # (…, o1, L1, o2, L2, …)
    k = len(lead)
    w = w.transpose(tuple(range(k)) + tuple(k + 2 * j for j in range(nd)) + tuple(k + 2 * j + 1 for j in range(nd)))
    lens = w.shape[k + nd:]
    w = w.reshape(w.shape[:k + nd] + (int(np.prod(lens)),))
    arg = np.argmax(w, axis=-1)
    best = np.take_along_axis(w, arg[..., None], -1)[..., 0]
    pos = []
    for j in range(nd):
        l = arg // int(np.prod(lens[j + 1:])) % lens[j]
        pos.append(np.minimum(starts[j].reshape((-1,) + (1,) * (nd - 1 - j)) + l, spatial[j] - 1))
    return best, _flat_index(pos, spatial).astype(np.int64)


# --- average pooling ---------------------------------------------------------------------------
def _divisor(spatial, out, ks, stride, padding, count_include_pad, divisor_override, dtype):
    """Per-output divisor, PyTorch's rule: windows clipped to the padded input (count_include_pad)
    or to the input itself."""
    if divisor_override:
        return np.asarray(divisor_override, dtype)
    div = 1
    nd = len(ks)
    for j, (n, o, k, s, p) in enumerate(zip(spatial, out, ks, stride, padding)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        size = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        div = div * size.reshape((o,) + (1,) * (nd - 1 - j))
    return np.asarray(div, dtype)


def _per_output(div, out):
    """The divisor (broadcastable to the spatial ``out`` shape) as one flat value per output."""
    return np.ascontiguousarray(np.broadcast_to(div, out)).reshape(-1)


def avg_pool(x, *, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    nd = len(kernel_size)
    spatial = x.shape[-nd:]
    ones = (1,) * nd
    out = pool_out_shape(spatial, kernel_size, stride, padding, ones, ceil_mode)
    xp = pad_spatial(x, _pads(spatial, out, kernel_size, stride, padding, ones))
    div = _divisor(spatial, out, kernel_size, stride, padding, count_include_pad, divisor_override, x.dtype)
    k = jit.kernels("pool")
    if k is not None and x.dtype.char in "fd":
        acc = np.empty(x.shape[:-nd] + out, x.dtype)
        k.avg_pool(_planes(xp, nd), _planes(acc, nd), _per_output(div, out), _as_3d(stride),
                   _window_offsets(kernel_size, ones, xp.shape[-nd:]))
        return acc
    acc = None
    for kidx in np.ndindex(*kernel_size):
        v = xp[(Ellipsis,) + offset_slices(kidx, out, stride, ones)]
        if acc is None:
            acc = v.copy()
        else:
            acc += v
    acc /= div
    return acc


def avg_pool_backward(g, *, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                      divisor_override):
    """Adjoint of avg_pool: ``g / divisor`` added back at every kernel offset."""
    nd = len(kernel_size)
    spatial = tuple(input_shape[-nd:])
    ones = (1,) * nd
    out = g.shape[-nd:]
    pads = _pads(spatial, out, kernel_size, stride, padding, ones)
    div = _divisor(spatial, out, kernel_size, stride, padding, count_include_pad, divisor_override, g.dtype)
    gx = np.zeros(tuple(input_shape[:-nd]) + tuple(n + a + b for n, (a, b) in zip(spatial, pads)), g.dtype)
    k = jit.kernels("pool")
    if k is not None and g.dtype.char in "fd":
        k.avg_pool_backward(_planes(g, nd), _per_output(div, out), _planes(gx, nd), _as_3d(stride),
                            _window_offsets(kernel_size, ones, gx.shape[-nd:]))
    else:
        gs = g / div
        for kidx in np.ndindex(*kernel_size):
            gx[(Ellipsis,) + offset_slices(kidx, out, stride, ones)] += gs
    return np.ascontiguousarray(crop(gx, spatial, pads))


# --- interpolation -----------------------------------------------------------------------------
def _cubic_weights(t, A=-0.75):
    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):   # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _taps(n, o, mode, align_corners, scale, dtype):
    """[(source index (o,), weight (o,) or None)] of each tap resampling a length-n axis to o,
    with PyTorch's index arithmetic (float32 for nearest; the input's precision otherwise)."""
    if mode in ("nearest", "nearest-exact"):
        if mode == "nearest" and o == n:
            return [(np.arange(o), None)]
        if mode == "nearest" and o == 2 * n:
            return [(np.arange(o) >> 1, None)]
        s = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(o)
        dst = np.arange(o, dtype=np.float32) + (np.float32(0.5) if mode == "nearest-exact" else 0)
        return [(np.minimum(np.floor(dst * s).astype(np.int64), n - 1), None)]
    ft = np.float64 if dtype == np.float64 else np.float32
    if align_corners:
        s = ft(n - 1) / ft(o - 1) if o > 1 else ft(0)
    else:
        s = ft(1.0 / scale) if scale else ft(n) / ft(o)
    dst = np.arange(o, dtype=ft)
    src = s * dst if align_corners else s * (dst + ft(0.5)) - ft(0.5)
    if mode == "linear":
        if o == n:
            return [(np.arange(o), None)]
        src = np.maximum(src, 0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
        l1 = np.clip(src - i0, 0, 1).astype(ft)
        i1 = i0 + (i0 < n - 1)
        return [(i0, 1 - l1), (i1, l1)]
    # cubic: four taps around floor(src), clamped to the border
    i0 = np.floor(src).astype(np.int64)
    t = (src - i0).astype(ft)
    return [(np.clip(i0 - 1 + k, 0, n - 1), w.astype(ft)) for k, w in enumerate(_cubic_weights(t))]


def _band(rows, cols, vals, n_rows):
    """A sparse (n_rows x ·) matrix with monotone rows as a band: first column ``c`` (n_rows,)
    and weights ``W`` (n_rows, R) with ``M[i, c_i + r] = W[i, r]``."""
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    u, first = np.unique(rows, return_index=True)
    last = np.append(first[1:], len(rows)) - 1
    c = np.zeros(n_rows, np.int64)
    c[u] = cols[first]
    width = int((cols[last] - cols[first]).max()) + 1 if len(u) else 1
    w = np.bincount(rows * width + cols - c[rows], weights=vals, minlength=n_rows * width)
    return c, w.reshape(n_rows, width)


def _resample_axis(x, taps, n_out, axis, transpose):
    """``M x`` (or ``M^T x``) along ``axis``, M the (n_out x n) matrix of ``taps``: a few gathers of
    the band's diagonals, each weighted per position (a gather form also for the adjoint)."""
    o = len(taps[0][0])
    rows = np.tile(np.arange(o), len(taps))
    cols = np.concatenate([idx for idx, _ in taps])
    vals = np.concatenate([np.ones(o) if w is None else w.astype(np.float64) for _, w in taps])
    if transpose:
        rows, cols = cols, rows
    c, W = _band(rows, cols, vals, n_out)
    n = x.shape[axis]
    y = None
    for r in range(W.shape[1]):
        v = np.take(x, np.minimum(c + r, n - 1), axis=axis)
        if not np.all(W[:, r] == 1):
            v *= W[:, r].astype(v.dtype).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
        y = v if y is None else y + v
    return y


def upsample(x, *, size, mode, align_corners, scales):
    """Resample the trailing len(size) dims of ``x`` to ``size``; mode nearest, nearest-exact,
    linear (n-linear) or cubic."""
    nd = len(size)
    for j in range(nd):
        axis = x.ndim - nd + j
        x = _resample_axis(x, _taps(x.shape[axis], size[j], mode, align_corners, scales[j], x.dtype),
                           size[j], axis, False)
    return x


def upsample_backward(g, *, input_size, size, mode, align_corners, scales):
    """Adjoint of ``upsample``: the transposed resampling, axes in reverse order."""
    nd = len(size)
    for j in reversed(range(nd)):
        axis = g.ndim - nd + j
        n = input_size[j]
        g = _resample_axis(g, _taps(n, size[j], mode, align_corners, scales[j], g.dtype), n, axis, True)
    return g
