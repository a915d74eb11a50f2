"""Convolution kernels (any number of spatial dims, layout (N, C, *spatial)).

The forward is im2col + one GEMM per group: a strided view of every kernel window of
the padded input, copied once into a (groups, C/g * K, N * P) column matrix and
multiplied by the (groups, O/g, C/g * K) weight. The input gradient is the adjoint:
one GEMM to columns, then col2im adds each kernel offset's slab into the padded
gradient with one strided slice add (a loop over the K offsets, never over pixels).

``padding`` is a tuple of (before, after) per spatial dim, so 'same' padding of even
kernels (asymmetric, as PyTorch) needs no extra pad op.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["conv", "conv_backward_input", "conv_backward_weight", "im2col", "col2im"]


def pad_spatial(x, padding, value=0):
    """``x`` (…, *spatial) with (before, after) widths on the trailing dims; no copy if all 0."""
    if not any(a or b for a, b in padding):
        return x
    nd = len(padding)
    lead = x.shape[:x.ndim - nd]
    shape = lead + tuple(n + a + b for n, (a, b) in zip(x.shape[-nd:], padding))
    out = np.full(shape, value, x.dtype)
    out[(Ellipsis,) + tuple(slice(a, a + n) for n, (a, _) in zip(x.shape[-nd:], padding))] = x
    return out


def windows(xp, ks, stride, dilation):
    """Strided view (…, *out, *ks) of every kernel window of the (already padded) ``xp``."""
    nd = len(ks)
    eff = tuple(d * (k - 1) + 1 for k, d in zip(ks, dilation))
    v = sliding_window_view(xp, eff, axis=tuple(range(xp.ndim - nd, xp.ndim)))
    return v[(Ellipsis,) + tuple(slice(None, None, s) for s in stride)
             + tuple(slice(None, None, d) for d in dilation)]


def out_shape(spatial, ks, stride, padding, dilation):
    return tuple((n + a + b - d * (k - 1) - 1) // s + 1
                 for n, k, s, (a, b), d in zip(spatial, ks, stride, padding, dilation))


def offset_slices(kidx, out, stride, dilation):
    """The strided slice of the padded input that kernel offset ``kidx`` reads for every output."""
    return tuple(slice(k * d, k * d + s * (o - 1) + 1, s) for k, o, s, d in zip(kidx, out, stride, dilation))


def col2im_add(cols, ks, out, padded, stride, dilation):
    """Sum ``cols`` (X, *ks, Y, *out) into a zero (X, Y, *padded): one strided add per offset."""
    acc = np.zeros(cols.shape[:1] + cols.shape[1 + len(ks):2 + len(ks)] + tuple(padded), cols.dtype)
    if acc.size == 0 or cols.size == 0:
        return acc
    for kidx in np.ndindex(*ks):
        acc[(slice(None), slice(None)) + offset_slices(kidx, out, stride, dilation)] += cols[(slice(None),) + kidx]
    return acc


def crop(xp, spatial, padding):
    return xp[(Ellipsis,) + tuple(slice(a, a + n) for n, (a, _) in zip(spatial, padding))]


def _columns(x, ks, stride, padding, dilation, groups, out=None):
    """im2col of ``x`` (N, C, *S) as a contiguous (groups, C/g * K, N * P) matrix, and the out shape
    (``out`` keeps only the leading outputs: a transposed conv's output_padding can exceed them)."""
    n, c = x.shape[:2]
    v = windows(pad_spatial(x, padding), ks, stride, dilation)  # (N, C, *out, *ks)
    if out is not None:
        v = v[(slice(None), slice(None)) + tuple(slice(0, o) for o in out)]
    out = v.shape[2:2 + len(ks)]
    nd = len(ks)
    v = v.reshape((n, groups, c // groups) + v.shape[2:])       # splits C: still a view
    # -> (G, Cg, *ks, N, *out)
    perm = (1, 2) + tuple(range(3 + nd, 3 + 2 * nd)) + (0,) + tuple(range(3, 3 + nd))
    cols = np.ascontiguousarray(v.transpose(perm))
    return cols.reshape(groups, (c // groups) * int(np.prod(ks)), n * int(np.prod(out))), out


def _grad_matrix(g, groups):
    """``g`` (N, O, *out) as (groups, O/g, N * P)."""
    n, o = g.shape[:2]
    p = int(np.prod(g.shape[2:]))
    return np.ascontiguousarray(g.reshape(n, groups, o // groups, p).transpose(1, 2, 0, 3)).reshape(
        groups, o // groups, n * p)


def _wide(*arrays):
    """Half-precision operands in float32 (NumPy has no half GEMM; PyTorch accumulates in float32)."""
    return tuple(a.astype(np.float32) if a is not None and a.dtype.itemsize == 2 else a for a in arrays)


def conv(x, w, b=None, *, stride, padding, dilation, groups):
    """Cross-correlation of ``x`` (N, C, *S) with ``w`` (O, C/groups, *K), plus ``b`` (O,)."""
    dtype = x.dtype
    x, w, b = _wide(x, w, b)
    n = x.shape[0]
    o, ks = w.shape[0], w.shape[2:]
    cols, out = _columns(x, ks, stride, padding, dilation, groups)
    y = np.matmul(w.reshape(groups, o // groups, -1), cols)      # (G, O/g, N * P)
    y = y.reshape(o, n, *out)
    if b is not None:
        y += b.reshape((o,) + (1,) * (len(ks) + 1))
    return np.ascontiguousarray(np.moveaxis(y, 1, 0), dtype)


def conv_backward_input(g, w, *, input_shape, stride, padding, dilation, groups):
    """Gradient of ``conv`` w.r.t. its input: columns = W^T g (one GEMM), then col2im."""
    dtype = g.dtype
    g, w = _wide(g, w)
    n, o = g.shape[:2]
    out, ks = g.shape[2:], w.shape[2:]
    cg = w.shape[1]
    spatial = tuple(input_shape[2:])
    cols = np.matmul(w.reshape(groups, o // groups, -1).transpose(0, 2, 1), _grad_matrix(g, groups))
    cols = cols.reshape((groups * cg,) + tuple(ks) + (n,) + tuple(out))   # (C, *ks, N, *out)
    padded = tuple(s + a + b for s, (a, b) in zip(spatial, padding))
    gx = crop(col2im_add(cols, ks, out, padded, stride, dilation), spatial, padding)  # (C, N, *S)
    return np.ascontiguousarray(np.moveaxis(gx, 0, 1), dtype)


def conv_backward_weight(x, g, *, weight_shape, stride, padding, dilation, groups):
    """Gradient of ``conv`` w.r.t. its weight: g x_cols^T, one GEMM per group over N * P."""
    dtype = x.dtype
    x, g = _wide(x, g)
    cols, _ = _columns(x, tuple(weight_shape[2:]), stride, padding, dilation, groups, g.shape[2:])
    # cols (g)^T rather than g cols^T: OpenBLAS is ~10x slower on a short-wide output with long K
    gw = np.matmul(cols, _grad_matrix(g, groups).transpose(0, 2, 1))     # (G, Cg * K, O/g)
    return np.ascontiguousarray(gw.transpose(0, 2, 1), dtype).reshape(weight_shape)


def im2col(x, *, kernel_size, stride, padding, dilation):
    """torch.nn.functional.unfold: (N, C, *S) -> (N, C * K, L), column order (c, *k)."""
    n, c = x.shape[:2]
    v = windows(pad_spatial(x, padding), kernel_size, stride, dilation)  # (N, C, *out, *ks)
    nd = len(kernel_size)
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    v = np.ascontiguousarray(v.transpose(perm))
    return v.reshape(n, c * int(np.prod(kernel_size)), int(np.prod(v.shape[2 + nd:])))


def col2im(cols, *, output_size, kernel_size, stride, padding, dilation):
    """torch.nn.functional.fold: (N, C * K, L) summed back into (N, C, *output_size)."""
    n = cols.shape[0]
    k = int(np.prod(kernel_size))
    c = cols.shape[1] // k
    out = out_shape(output_size, kernel_size, stride, padding, dilation)
    cols = cols.reshape((n * c,) + tuple(kernel_size) + (1,) + out)
    padded = tuple(s + a + b for s, (a, b) in zip(output_size, padding))
    acc = col2im_add(cols, kernel_size, out, padded, stride, dilation)   # (N * C, 1, *padded)
    return np.ascontiguousarray(crop(acc, output_size, padding)).reshape((n, c) + tuple(output_size))
