"""movement kernels: reshapes and views, joins, pads, flips, triangles, windows.

View kernels (expand, reshape, permute, narrow, diagonal, unfold) return NumPy views
(writable where the input is), so in-place ops reach the base and `copy_slices` can
replay them on a copy.
"""
import numpy as np

from ._util import np_dtype

__all__ = ["expand", "reshape", "permute", "narrow", "split_with_sizes", "unbind", "diagonal", "diagonal_backward", "unfold",
           "unfold_backward", "view_dtype", "clone", "cat", "stack", "repeat",
           "repeat_interleave", "repeat_interleave_backward", "flip", "roll", "tril", "triu",
           "pad", "pad_backward"]

_sliding = np.lib.stride_tricks.sliding_window_view


def expand(x, shape):
    """Broadcast ``x`` to ``shape`` (a read-only view); -1 keeps a dim."""
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return np.broadcast_to(x, shape)


# --- views -------------------------------------------------------------------------
def reshape(x, shape):
    """``x`` in ``shape`` (fully specified): a view where the strides allow, else a copy."""
    return np.reshape(x, shape)


def permute(x, dims):
    return np.transpose(x, dims)


def narrow(x, dim, start, length):
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def split_with_sizes(x, dim, sizes):
    """Consecutive views of ``sizes`` entries along ``dim``."""
    lead, out, start = (slice(None),) * dim, [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


def unbind(x, dim):
    """Views of each index along ``dim``, the dim removed."""
    lead = (slice(None),) * dim
    return tuple(x[lead + (i, ...)] for i in range(x.shape[dim]))  # `...`: 0-d views, not scalars


def diagonal(x, offset, dim1, dim2):
    d = np.diagonal(x, offset, dim1, dim2)
    if x.flags.writeable:  # NumPy hands out diagonals read-only; torch's are writable views
        d.flags.writeable = True
    return d


def diagonal_backward(g, shape, offset, dim1, dim2):
    """Zeros of ``shape`` with ``g`` on the (offset, dim1, dim2) diagonal (also diag_embed)."""
    out = np.zeros(shape, g.dtype)
    diagonal(out, offset, dim1, dim2)[...] = g
    return out


def unfold(x, dim, size, step):
    """Windows of ``size`` every ``step`` along ``dim``, as a new last dim (a view)."""
    if x.ndim == 0:
        return x.reshape(1)
    w = _sliding(x, size, axis=dim, writeable=x.flags.writeable)
    return w[(slice(None),) * dim + (slice(None, None, step),)] if step != 1 else w


def unfold_backward(g, shape, dim, size, step):
    """Sum each window's gradient back into place: one strided add per window offset."""
    out = np.zeros(shape, g.dtype)
    if len(shape) == 0:
        return g.reshape(()).copy()
    n = g.shape[dim]
    if n == 0:
        return out
    for j in range(size):  # size is the (small) window length, not the data length
        idx = (slice(None),) * dim + (slice(j, j + step * (n - 1) + 1, step),)
        out[idx] += g[..., j]
    return out


def view_dtype(x, dtype):
    return x.view(np_dtype(dtype))


def clone(x, order):
    return np.array(x, order=order, copy=True)


# --- joins and repeats ---------------------------------------------------------------
def cat(*xs, dim):
    """Join along ``dim``; 1-d empty arrays are skipped (torch's legacy rule). The result is
    C-contiguous, as PyTorch's (NumPy's would copy the inputs' layout: a later reshape of
    a cat of transposed views would copy again)."""
    keep = [x for x in xs if x.shape != (0,)] or list(xs[:1])
    first = keep[0]
    axis = dim % first.ndim if first.ndim else 0
    shape = list(first.shape)
    shape[axis] = sum(x.shape[axis] for x in keep) if first.ndim else 0
    out = np.empty(shape, np.result_type(*keep))
    return np.concatenate(keep, axis=dim, out=out)


def stack(*xs, dim):
    """Join along a new dim ``dim``; C-contiguous like ``cat``."""
    shape = list(xs[0].shape)
    shape.insert(dim % (len(shape) + 1), len(xs))
    return np.stack(xs, axis=dim, out=np.empty(shape, np.result_type(*xs)))


def repeat(x, repeats):
    return np.tile(x, repeats)


def repeat_interleave(x, repeats, dim):
    return np.repeat(x, repeats, axis=dim)


def repeat_interleave_backward(g, repeats, dim):
    """Sum each run of repeated copies along ``dim`` (the adjoint of repeat_interleave)."""
    g = np.moveaxis(g, dim, 0)
    reps = np.asarray(repeats)
    out = np.zeros((reps.size,) + g.shape[1:], g.dtype)
    nz = reps > 0
    if g.shape[0]:
        starts = np.concatenate([[0], np.cumsum(reps)[:-1]])[nz]
        out[nz] = np.add.reduceat(g, starts, axis=0)
    return np.moveaxis(out, 0, dim)


# --- reorderings ---------------------------------------------------------------------
def flip(x, dims):
    return np.flip(x, dims).copy() if x.ndim else x.copy()


def roll(x, shifts, dims):
    return np.roll(x, shifts, dims if dims else None)


def tril(x, diagonal):
    return np.tril(x, diagonal)


def triu(x, diagonal):
    return np.triu(x, diagonal)


# --- padding -------------------------------------------------------------------------
_NP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _widths(pad, ndim):
    """torch's flat pad tuple (last dim first) as per-axis (before, after) pairs."""
    w = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        w[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return w


def pad(x, pad, mode, value):
    """torch.nn.functional.pad; constant mode also crops for negative widths."""
    w = _widths(pad, x.ndim)
    if mode != "constant":
        return np.pad(x, w, mode=_NP_MODE[mode])
    shape = tuple(max(n + a + b, 0) for n, (a, b) in zip(x.shape, w))
    out = np.full(shape, value, x.dtype)
    src = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(x.shape, w))
    dst = tuple(slice(max(a, 0), m - max(b, 0)) for m, (a, b) in zip(shape, w))
    if all(s.stop > s.start for s in src):
        out[dst] = x[src]
    return out


def pad_backward(g, pad, mode):
    """Adjoint of a reflect / replicate / circular pad: fold the border back in."""
    g = g.copy() if not any(pad) else g  # never hand back the input itself
    for axis, (a, b) in enumerate(_widths(pad, g.ndim)):
        if a == 0 and b == 0:
            continue
        g = np.moveaxis(g, axis, 0)
        n = g.shape[0] - a - b
        core = g[a:a + n].copy()
        left, right = g[:a], g[a + n:]
        if mode == "reflect":
            core[1:a + 1] += left[::-1]
            core[n - 1 - b:n - 1] += right[::-1]
        elif mode == "replicate":
            core[0] += left.sum(0)
            core[n - 1] += right.sum(0)
        else:  # circular
            core[n - a:] += left
            core[:b] += right
        g = np.moveaxis(core, 0, axis)
    return np.ascontiguousarray(g)
