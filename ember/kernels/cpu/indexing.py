"""Indexing kernels: basic and advanced getitem, index_put, gather/scatter, masks, take,
one_hot, nonzero.

Basic keys travel as plain data: a tuple of ("i", k) / ("s", start, stop, step) / ("n",)
/ ("e",). Advanced keys are index arrays plus ``pos``, the slot of each array in a key
whose other slots are full slices (a k-dim bool mask fills one slot and covers k dims).
Scatter-adds with possibly repeated indices use ``np.add.at`` on flat indices: on
NumPy 2.x it is as fast as ``np.bincount`` and accumulates in the array's own dtype.
"""
import numpy as np

__all__ = ["getitem", "getitem_backward", "index", "index_backward", "index_put", "gather",
           "scatter", "scatter_add", "scatter_reduce", "take", "take_backward", "masked_fill",
           "masked_scatter", "masked_scatter_backward", "one_hot", "nonzero"]

_FULL = slice(None)


def _basic_key(key):
    out = [k[1] if k[0] == "i" else slice(k[1], k[2], k[3]) if k[0] == "s" else
           None if k[0] == "n" else Ellipsis for k in key]
    if ("e",) not in key:
        out.append(Ellipsis)  # x[0, 0, ...] is a 0-d view where x[0, 0] would be a scalar copy
    return tuple(out)


def getitem(x, key):
    return x[_basic_key(key)]


def getitem_backward(g, shape, key):
    z = np.zeros(shape, g.dtype)
    z[_basic_key(key)] = g
    return z


def _adv_key(indices, pos):
    key = [_FULL] * (max(pos) + 1)
    for p, ix in zip(pos, indices):
        key[p] = ix
    return tuple(key)


def index(x, *indices, pos):
    return x[_adv_key(indices, pos)]


def _accumulate(out, indices, pos, values):
    """``out[key] += values`` where repeated positions add up."""
    values = np.asarray(values, dtype=out.dtype)
    if all(ix.dtype == np.bool_ for ix in indices):  # masks never repeat a position
        out[_adv_key(indices, pos)] += values
        return out
    flat_ix, flat_pos, shift = [], [], 0
    for p, ix in zip(pos, indices):  # a k-dim mask becomes k integer arrays in its slot
        parts = np.nonzero(ix) if ix.dtype == np.bool_ else (ix,)
        flat_ix += parts
        flat_pos += range(p + shift, p + shift + len(parts))
        shift += len(parts) - 1
    np.add.at(out, _adv_key(flat_ix, flat_pos), values)
    return out


def index_backward(g, *indices, shape, pos):
    return _accumulate(np.zeros(shape, g.dtype), indices, pos, g)


def index_put(x, values, *indices, pos, accumulate):
    out = x.copy()
    if accumulate:
        return _accumulate(out, indices, pos, values)
    out[_adv_key(indices, pos)] = values
    return out


# --- gather / scatter along a dim ------------------------------------------------------
def _region(a, shape):
    """The leading ``shape`` block of ``a`` (scatter reads only the index-shaped part of src)."""
    if a.shape == shape:
        return a
    return a[tuple(slice(0, n) for n in shape)]


def _scatter_lin(shape, index, dim):
    """Flat C-order positions, in an array of ``shape``, of each element of ``index``
    (its own coordinates, with the index value along ``dim``)."""
    if not shape:
        return index.astype(np.int64).reshape(-1)
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    lin = index.astype(np.int64) * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim and n > 1:
            lin += (np.arange(n) * strides[d]).reshape((n,) + (1,) * (index.ndim - d - 1))
    return lin.reshape(-1)


def gather(x, index, dim):
    if x.ndim == 0:
        return x.reshape(1)[index.reshape(-1)].reshape(index.shape)
    src = _region(x, tuple(n if d != dim else x.shape[d] for d, n in enumerate(index.shape)))
    return np.take_along_axis(src, index.astype(np.int64, copy=False), axis=dim)


def _scatter_src(src, index, dtype):
    if isinstance(src, np.ndarray) and src.ndim:
        return _region(src, index.shape).reshape(-1).astype(dtype, copy=False)
    return np.asarray(src, dtype=dtype)


def scatter(x, index, src, dim):
    out = x.copy()
    out.reshape(-1)[_scatter_lin(out.shape, index, dim)] = _scatter_src(src, index, out.dtype)
    return out


def scatter_add(x, index, src, dim):
    out = x.copy()
    np.add.at(out.reshape(-1), _scatter_lin(out.shape, index, dim), _scatter_src(src, index, out.dtype))
    return out


_REDUCE_AT = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
              "amin": np.minimum}


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else None
        return (info.min if reduce == "amax" else info.max) if info else reduce == "amin"
    return -np.inf if reduce == "amax" else np.inf


def scatter_reduce(x, index, src, dim, reduce, include_self):
    out = x.copy()
    flat = out.reshape(-1)
    lin = _scatter_lin(out.shape, index, dim)
    if not include_self:
        flat[lin] = _identity(reduce, out.dtype)
    _REDUCE_AT[reduce].at(flat, lin, _scatter_src(src, index, out.dtype))
    if reduce == "mean":
        n = np.bincount(lin, minlength=flat.size) + int(include_self)
        n = np.maximum(n, 1).astype(out.dtype)
        if out.dtype.kind in "iu":
            flat //= n  # PyTorch floors the integer mean
        else:
            flat /= n
    return out


# --- flat take ---------------------------------------------------------------------------
def take(x, index):
    return np.take(x.reshape(-1), index)


def take_backward(g, index, shape):
    z = np.zeros(int(np.prod(shape)), g.dtype)
    np.add.at(z, index.reshape(-1), g.reshape(-1))
    return z.reshape(shape)


# --- masks ---------------------------------------------------------------------------------
def masked_fill(x, mask, value):
    return np.where(mask, np.asarray(value).astype(x.dtype), x)


def masked_scatter(x, mask, source):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    out = np.array(np.broadcast_to(x, shape))
    m = np.broadcast_to(mask, shape)
    out[m] = source.reshape(-1)[:np.count_nonzero(m)]
    return out


def masked_scatter_backward(g, mask, shape):
    vals = g[np.broadcast_to(mask, g.shape)]
    z = np.zeros(int(np.prod(shape)), g.dtype)
    z[:vals.size] = vals
    return z.reshape(shape)


# --- integer outputs -------------------------------------------------------------------------
def one_hot(x, num_classes):
    return (x[..., None] == np.arange(num_classes)).astype(np.int64)


def nonzero(x):
    return np.argwhere(x)
