"""Sorting kernels: sort, argsort, topk, kthvalue, unique, searchsorted, bucketize, histc,
and the scatter/gather pair that carries their gradients."""
import numpy as np

__all__ = ["sort", "argsort", "topk", "kthvalue", "sorting_scatter", "sorting_gather",
           "unique", "unique_consecutive", "searchsorted", "bucketize", "histc"]


def _argsort(x, dim, descending, stable):
    """Indices sorting ``x`` along ``dim``; NaN counts as largest. A descending sort
    is an ascending sort of the flipped array, flipped back: ties keep their order."""
    kind = "stable" if stable else "quicksort"
    if not descending:
        return np.argsort(x, axis=dim, kind=kind)
    n = x.shape[dim]
    idx = np.argsort(np.flip(x, dim), axis=dim, kind=kind)
    return (n - 1) - np.flip(idx, dim)


def _as_1d(x):
    return x.reshape(1) if x.ndim == 0 else x


def sort(x, *, dim, descending, stable):
    xs = _as_1d(x)
    idx = _argsort(xs, dim, descending, stable)
    return np.take_along_axis(xs, idx, dim).reshape(x.shape), idx.reshape(x.shape)


def argsort(x, *, dim, descending, stable):
    return _argsort(_as_1d(x), dim, descending, stable).reshape(x.shape)


def topk(x, *, k, dim, largest, sorted):
    xs = _as_1d(x)
    n = xs.shape[dim]
    if k == n or k == 0:
        idx = np.argsort(xs, axis=dim, kind="stable")
    else:
        idx = np.argpartition(xs, n - k if largest else k - 1, axis=dim)
    idx = np.take(idx, np.arange(n - k, n) if largest else np.arange(k), axis=dim)
    if sorted and k > 1:
        order = _argsort(np.take_along_axis(xs, idx, dim), dim, largest, True)
        idx = np.take_along_axis(idx, order, dim)
    elif largest:
        idx = np.flip(idx, dim)
    vals = np.take_along_axis(xs, idx, dim)
    if x.ndim == 0:
        return vals.reshape(()), idx.reshape(())
    return vals, np.ascontiguousarray(idx)


def kthvalue(x, *, k, dim, keepdim):
    xs = _as_1d(x)
    idx = np.take(np.argpartition(xs, k - 1, axis=dim), [k - 1], axis=dim)
    vals = np.take_along_axis(xs, idx, dim)
    if x.ndim == 0:
        return vals.reshape(()), idx.reshape(())
    return (vals, idx) if keepdim else (vals.squeeze(dim), idx.squeeze(dim))


def sorting_scatter(g, idx, *, dim, shape):
    """Zeros of ``shape`` with ``g`` put at ``idx`` along ``dim`` (``idx`` may lack ``dim``)."""
    if len(shape) == 0:
        return g.copy()
    if idx.ndim < len(shape):
        idx, g = np.expand_dims(idx, dim), np.expand_dims(g, dim)
    out = np.zeros(shape, g.dtype)
    np.put_along_axis(out, idx, g, dim)
    return out


def sorting_gather(x, idx, *, dim):
    """``x`` taken at ``idx`` along ``dim`` (the reverse of sorting_scatter)."""
    if x.ndim == 0:
        return x.copy()
    if idx.ndim < x.ndim:
        return np.take_along_axis(x, np.expand_dims(idx, dim), dim).squeeze(dim)
    return np.take_along_axis(x, idx, dim)


def unique(x, *, return_inverse, return_counts, dim):
    if dim is None:
        vals, inv, counts = np.unique(x.reshape(-1), return_inverse=True, return_counts=True,
                                      equal_nan=False)
        inv = inv.reshape(x.shape)
    else:
        vals, inv, counts = np.unique(x, return_inverse=True, return_counts=True, axis=dim,
                                      equal_nan=False)
        inv = inv.reshape(-1)
    out = (vals,)
    if return_inverse:
        out += (inv.astype(np.int64),)
    if return_counts:
        out += (counts.astype(np.int64),)
    return out


def unique_consecutive(x, *, return_inverse, return_counts, dim):
    if dim is None:
        flat = x.reshape(-1)
        change = flat[1:] != flat[:-1]
    else:
        a = np.moveaxis(x, dim, 0)
        change = (a[1:] != a[:-1]).reshape(max(a.shape[0] - 1, 0), -1).any(axis=1)
    n = x.size if dim is None else x.shape[dim]
    starts = np.flatnonzero(np.concatenate([[n > 0], change]))
    vals = (x.reshape(-1) if dim is None else x).take(starts, axis=0 if dim is None else dim)
    out = (vals,)
    if return_inverse:
        inv = np.cumsum(np.concatenate([[0], change]).astype(np.int64)) if n else np.zeros(0, np.int64)
        out += (inv.reshape(x.shape) if dim is None else inv,)
    if return_counts:
        out += (np.diff(np.append(starts, n)).astype(np.int64),)
    return out


def searchsorted(seq, values, sorter=None, *, right, out_int32):
    values = np.asarray(values)
    side = "right" if right else "left"
    dt = np.int32 if out_int32 else np.int64
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter, -1)
    if seq.ndim == 1:
        return np.searchsorted(seq, values, side=side).astype(dt)
    # one search per row of the batched sequence (a loop over rows, not elements)
    rows = seq.reshape(-1, seq.shape[-1])
    vals = values.reshape(rows.shape[0], -1)
    out = np.empty(vals.shape, dt)
    for r in range(rows.shape[0]):
        out[r] = np.searchsorted(rows[r], vals[r], side=side)
    return out.reshape(values.shape)


def bucketize(x, boundaries, *, right, out_int32):
    return np.asarray(np.searchsorted(boundaries, x, side="right" if right else "left"),
                      np.int32 if out_int32 else np.int64)


def histc(x, *, bins, min, max):
    lo, hi = float(min), float(max)
    flat = x.reshape(-1)
    if lo == hi and flat.size:
        lo, hi = float(flat.min()), float(flat.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    keep = flat[(flat >= lo) & (flat <= hi)]
    pos = ((keep.astype(np.float64) - lo) * bins / (hi - lo)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)  # x == max lands in the last bin
    return np.bincount(pos, minlength=bins).astype(x.dtype)
