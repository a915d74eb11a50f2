"""Convolution kernels (any number of spatial dims, layout (N, C, *spatial)).

The forward is im2col + a batched GEMM: a strided view of every kernel window of the
padded input, copied once into an (N, groups, C/g * K, P) column matrix and multiplied
by the (groups, O/g, C/g * K) weight, which writes (N, O, P) = NCHW directly. The input
gradient is the adjoint: one batched GEMM to columns, then col2im adds each kernel
offset's slab into the gradient with one strided slice add (a loop over the K offsets,
never over pixels).

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


def crop(xp, spatial, padding):
    return xp[(Ellipsis,) + tuple(slice(a, a + n) for n, (a, _) in zip(spatial, padding))]


def _columns(x, ks, stride, padding, dilation, groups, out=None):
    """im2col of ``x`` (N, C, *S) as a contiguous (N, groups, C/g * K, P) matrix, and the out shape
    (``out`` keeps only the leading outputs: a transposed conv's output_padding can exceed them).
    Per-sample columns make the forward GEMM write NCHW directly, and OpenBLAS runs the N small
    (O, C*K) x (C*K, P) products faster than one with a (C*K, N*P) operand."""
    n, c = x.shape[:2]
    nd = len(ks)
    v = windows(pad_spatial(x, padding), ks, stride, dilation)  # (N, C, *out, *ks)
    if out is not None:
        v = v[(slice(None), slice(None)) + tuple(slice(0, o) for o in out)]
    out = v.shape[2:2 + nd]
    cols = np.ascontiguousarray(v.transpose((0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))))
    return cols.reshape(n, groups, (c // groups) * int(np.prod(ks)), int(np.prod(out))), out


def _wide(*arrays):
    """Half-precision operands in float32 (NumPy has no half GEMM; PyTorch accumulates in float32)."""
    return tuple(a.astype(np.float32) if a is not None and a.dtype.itemsize == 2 else a for a in arrays)


def conv(x, w, b=None, *, stride, padding, dilation, groups):
    """Cross-correlation of ``x`` (N, C, *S) with ``w`` (O, C/groups, *K), plus ``b`` (O,)."""
    dtype = x.dtype
    x, w, b = _wide(x, w, b)
    n, o, ks = x.shape[0], w.shape[0], w.shape[2:]
    cols, out = _columns(x, ks, stride, padding, dilation, groups)
    y = np.matmul(w.reshape(groups, o // groups, -1), cols).reshape((n, o) + out)  # (N, G, O/g, P): NCHW
    if b is not None:
        y += b.reshape((o,) + (1,) * len(ks))
    return y.astype(dtype, copy=False)


def col2im_add(cols, ks, out, spatial, padding, stride, dilation):
    """Sum ``cols`` (A, *ks, B, *out, R) into zeros (A, B, *spatial, R): one strided add per kernel
    offset, straight into the unpadded result (positions in the padding are skipped). With the
    batch as R, each add runs over rows of (W * N) contiguous values, not W (4x fewer rows)."""
    nd = len(ks)
    acc = np.zeros(cols.shape[:1] + cols.shape[1 + nd:2 + nd] + tuple(spatial) + cols.shape[-1:], cols.dtype)
    if acc.size == 0 or cols.size == 0:
        return acc
    for kidx in np.ndindex(*ks):
        dst, src = [], []
        for k, o, s, d, (a, _), m in zip(kidx, out, stride, dilation, padding, spatial):
            off = k * d - a  # output o reads input position o * s + off
            lo, hi = max(0, (s - 1 - off) // s), min(o, (m - 1 - off) // s + 1) if m > off else 0
            if hi <= lo:
                break
            dst.append(slice(lo * s + off, (hi - 1) * s + off + 1, s))
            src.append(slice(lo, hi))
        else:
            acc[(slice(None), slice(None)) + tuple(dst)] += cols[(slice(None),) + kidx + (slice(None),) + tuple(src)]
    return acc


def conv_backward_input(g, w, *, input_shape, stride, padding, dilation, groups):
    """Gradient of ``conv`` w.r.t. its input: columns = W^T g (GEMMs), then col2im."""
    dtype = g.dtype
    g, w = _wide(g, w)
    n, o = g.shape[:2]
    out, ks, spatial = tuple(g.shape[2:]), tuple(w.shape[2:]), tuple(input_shape[2:])
    cg, k = w.shape[1], int(np.prod(w.shape[2:]))
    # weight rows ordered (offset, channel): each offset's columns are one contiguous block
    wk = w.reshape(groups, o // groups, cg, k).transpose(0, 3, 2, 1).reshape(groups, k * cg, o // groups)
    if k * cg > o // groups:
        # more columns than gradient values: the batch goes last, so that col2im's adds run over
        # (W * N)-long rows (conv 32->64 3x3 on 14x14: 6.4 -> 5.7 ms), at the price of moving
        # g's and the result's batch dim
        gt = np.ascontiguousarray(np.moveaxis(g, 0, -1)).reshape(groups, o // groups, -1)
        cols = np.matmul(wk, gt).reshape((groups,) + ks + (cg,) + out + (n,))
        gx = col2im_add(cols, ks, out, spatial, padding, stride, dilation)         # (G, Cg, *S, N)
        gx = np.moveaxis(gx.reshape((groups * cg,) + spatial + (n,)), -1, 0)
        return np.ascontiguousarray(gx, dtype)
    cols = np.matmul(wk, g.reshape(n, groups, o // groups, -1))                    # (N, G, K * Cg, P)
    cols = cols.reshape((n * groups,) + ks + (cg,) + out + (1,))
    gx = col2im_add(cols, ks, out, spatial, padding, stride, dilation)             # (N * G, Cg, *S, 1)
    return gx.reshape((n, groups * cg) + spatial).astype(dtype, copy=False)


def conv_backward_weight(x, g, *, weight_shape, stride, padding, dilation, groups):
    """Gradient of ``conv`` w.r.t. its weight: sum over samples of cols g^T (one batched GEMM)."""
    dtype = x.dtype
    x, g = _wide(x, g)
    n, o = g.shape[:2]
    cols, _ = _columns(x, tuple(weight_shape[2:]), stride, padding, dilation, groups, g.shape[2:])
    # cols g^T rather than g cols^T: OpenBLAS is slower on a short-wide output with long K
    gw = np.matmul(cols, g.reshape(n, groups, o // groups, -1).transpose(0, 1, 3, 2)).sum(0)  # (G, Cg*K, O/g)
    return np.ascontiguousarray(gw.transpose(0, 2, 1), dtype).reshape(weight_shape)


def im2col(x, *, kernel_size, stride, padding, dilation):
    """torch.nn.functional.unfold: (N, C, *S) -> (N, C * K, L), column order (c, *k)."""
    cols, _ = _columns(x, tuple(kernel_size), stride, padding, dilation, 1)
    return cols[:, 0]


def col2im(cols, *, output_size, kernel_size, stride, padding, dilation):
    """torch.nn.functional.fold: (N, C * K, L) summed back into (N, C, *output_size)."""
    n, ks = cols.shape[0], tuple(kernel_size)
    k, nd = int(np.prod(ks)), len(ks)
    c = cols.shape[1] // k
    out = out_shape(output_size, ks, stride, padding, dilation)
    cols = cols.reshape((n, c) + ks + out + (1,))
    cols = cols.transpose((0,) + tuple(range(2, 2 + nd)) + (1,) + tuple(range(2 + nd, 3 + 2 * nd)))
    acc = col2im_add(cols, ks, out, tuple(output_size), padding, stride, dilation)   # (N, C, *S, 1)
    return acc.reshape((n, c) + tuple(output_size))
