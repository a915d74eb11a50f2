"""nn kernels: linear, dropout, embedding."""
import numpy as np

from . import jit
from ._parallel import parallel_for
from ._util import norm_axes, np_dtype  # noqa: F401

__all__ = ["linear", "linear_relu", "dropout", "embedding", "embedding_backward", "embedding_bag_layout", "embedding_bag_max_index"]


def linear(x, w, b=None):
    """``x @ w.T (+ b)`` over the last dim; leading dims folded into one GEMM."""
    if x.ndim > 2:
        out = np.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
    else:
        out = np.matmul(x, w.T)
    if b is not None:
        out += b
    return out


def linear_relu(x, w, b=None):
    """``relu(x @ w.T + b)``: the GEMM, then bias and relu in one pass over its output (a
    feed-forward block's first layer; linear then relu would make two more passes)."""
    out = linear(x, w)
    k = jit.kernels("nn")
    rows = out.reshape(-1, out.shape[-1]) if out.ndim else out.reshape(1, 1)
    if k is not None and out.dtype.char in "fd" and (b is None or b.dtype == out.dtype) and rows.flags.c_contiguous:
        bias = np.empty(0, out.dtype) if b is None else np.ascontiguousarray(b).reshape(-1)
        if bias.size in (0, rows.shape[1]):
            parallel_for(k.bias_relu, rows.shape[0], rows, bias, cost=rows.shape[1])
            return out
    if b is not None:
        out += b
    return np.maximum(out, 0, out=out)


def dropout(x, mask, *, p):
    """``x * mask / (1 - p)`` with the (broadcastable, boolean) keep-mask; p == 1 gives ``x * 0``."""
    noise = mask.astype(x.dtype)
    if p < 1:
        noise /= np.asarray(1 - p, x.dtype)
    else:
        noise *= 0
    return x * noise


def embedding(weight, indices, *, padding_idx=-1, scale_grad_by_freq=False):
    """Rows of ``weight`` at ``indices``: shape indices.shape + (embedding_dim,). The attributes
    only shape the backward."""
    return np.take(weight, indices, axis=0)


def embedding_backward(g, indices, *, num_weights, padding_idx=-1, scale_grad_by_freq=False):
    """Rows of ``g`` summed into ``num_weights`` buckets by ``indices``: one stable sort and one
    ``np.add.reduceat`` (no scatter-add loop); the padding row gets none, and with
    ``scale_grad_by_freq`` each row is divided by how often its index occurs."""
    d = g.shape[-1]
    idx = indices.reshape(-1)
    rows = g.reshape(-1, d)
    out = np.zeros((num_weights, d), dtype=g.dtype)
    if idx.size == 0:
        return out
    k = jit.kernels("nn")
    if k is not None and g.dtype.char in "fd" and idx.dtype.kind in "iu" and not scale_grad_by_freq:
        bad = k.embedding_backward(np.ascontiguousarray(rows), idx.astype(np.int64, copy=False), out)
        if bad >= 0:
            raise IndexError(f"index {idx[bad]} is out of bounds for the {num_weights} embedding rows")
        if padding_idx >= 0:
            out[padding_idx] = 0
        return out
    order = np.argsort(idx, kind="stable")
    sidx = idx[order]
    starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]])
    uniq = sidx[starts]
    sums = np.add.reduceat(rows[order], starts, axis=0)
    if scale_grad_by_freq:
        counts = np.diff(np.r_[starts, sidx.size])
        sums /= counts[:, None].astype(g.dtype)
    out[uniq] = sums
    if padding_idx >= 0:
        out[padding_idx] = 0
    return out


def embedding_bag_layout(indices, offsets, *, padding_idx=-1, include_last_offset=False):
    """Bag structure of flat ``indices`` cut at ``offsets``: the bag of each entry, whether it
    counts (inside a bag and not padding), and each bag's count of such entries."""
    n = indices.size
    num_bags = max(offsets.size - 1, 0) if include_last_offset else offsets.size
    end = (offsets[num_bags] if include_last_offset else n) if num_bags else 0
    pos = np.arange(n)
    bag_of = np.searchsorted(offsets[:num_bags], pos, side="right") - 1
    np.clip(bag_of, 0, None, out=bag_of)
    valid = pos < end
    if padding_idx >= 0:
        valid &= indices != padding_idx
    count = np.bincount(bag_of[valid], minlength=num_bags).astype(np.int64)
    return bag_of.astype(np.int64), valid, count


def embedding_bag_max_index(rows, bag_of, valid, *, num_bags):
    """For each bag and feature, the position (into ``rows``) of the largest valid entry, and
    whether the bag has any valid entry. Entries are grouped by bag (``bag_of`` sorted)."""
    n, d = rows.shape
    pos = np.zeros((num_bags, d), dtype=np.int64)
    filled = np.zeros(num_bags, dtype=bool)
    keep = np.flatnonzero(valid)
    if keep.size == 0:
        return pos, filled
    r, b = rows[keep], bag_of[keep]
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    bags = b[starts]
    best = np.maximum.reduceat(r, starts, axis=0)
    # first position attaining the max (NaN counts as the max, as in PyTorch)
    hit = (r == np.repeat(best, np.diff(np.r_[starts, b.size]), axis=0)) | np.isnan(r)
    first = np.minimum.reduceat(np.where(hit, np.arange(keep.size)[:, None], keep.size), starts, axis=0)
    pos[bags] = keep[first]
    filled[bags] = True
    return pos, filled
