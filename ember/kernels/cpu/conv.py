"""Convolution kernels (any number of spatial dims, layout (N, C, *spatial)).

The NumPy forward is im2col + a batched GEMM: a strided view of every kernel window of
the padded input, copied once into an (N, groups, C/g * K, P) column matrix and multiplied
by the (groups, O/g, C/g * K) weight, which writes (N, O, P) = NCHW directly. The input
gradient is the adjoint: one batched GEMM to columns, then col2im adds each kernel
offset's slab into the gradient with one strided slice add (a loop over the K offsets,
never over pixels).

``padding`` is a tuple of (before, after) per spatial dim, so 'same' padding of even
kernels (asymmetric, as PyTorch) needs no extra pad op.

With numba (``jit.kernels("conv")``), float32/float64 convolutions of 1 to 3 spatial dims
(half precision once widened; any stride, padding, dilation, groups) take a compiled path
instead: channel-major columns (C * K, N * P), built by one loop straight from NCHW (no
padded copy), then per group ONE GEMM over the whole batch, whose (O, N * P) result is
NCHW up to a copy of P-long rows (OpenBLAS runs it ~1.4x faster than N per-sample
products); with few columns per output (C/g * K < 64, e.g. a first layer) or large maps,
per-sample GEMMs on strided views of the same columns, which write NCHW directly. The
input gradient is the same GEMM transposed and a compiled col2im loop, the weight gradient
one GEMM whose long contraction sums over the batch. 64x32x14x14 * 64x32x3x3 (2 threads):
forward 5.2 -> 3.5 ms, input gradient 4.4 -> 3.2 ms, weight gradient 4.5 -> 3.5 ms.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import jit
from ._parallel import parallel_for

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


# --- compiled path: channel-major columns -----------------------------------------------------
# One GEMM over the whole batch needs its (O, N * P) result (or the gradient) moved to or from
# NCHW: a copy that costs more than the GEMM when the contraction is short. Below this many
# weight columns per group (C/g * K), per-sample GEMMs on strided views of the same columns
# win (64x1x28x28 * 32x1x3x3: forward 2.4 -> 0.9 ms); above, one GEMM (64x32x14x14 * 64x32x3x3:
# per-sample 3.0 ms, one GEMM 1.9 ms plus a 0.2 ms copy).
_ONE_GEMM_MIN_COLUMNS = 64
# From this many output positions per sample, per-sample GEMMs are as fast as one GEMM (each is
# large), and the forward and input gradient then skip the copy and its buffer (16x3x112x112 *
# 64x3x7x7 stride 2: forward 6.8 -> 4.9 ms). The weight gradient's one GEMM stays faster.
_PER_SAMPLE_MIN_POSITIONS = 2048


def _one_gemm(rows, p):
    """Whether the forward and the input gradient run one GEMM over the batch (else per sample),
    for ``rows`` = C/g * K weight columns and ``p`` output positions per sample."""
    return rows >= _ONE_GEMM_MIN_COLUMNS and p < _PER_SAMPLE_MIN_POSITIONS


def _loops(dtype, nd):
    """The compiled loops if they take arrays of ``dtype`` (already widened) with ``nd`` spatial
    dims: float32/64, 1 to 3 dims."""
    if dtype.char not in "fd" or not 1 <= nd <= 3:
        return None
    return jit.kernels("conv")


def _three(t, fill):
    """A per-spatial-dim tuple padded on the left to 3 dims (the loops are 3-d)."""
    return (fill,) * (3 - len(t)) + tuple(t)


def _loop_args(stride, padding, dilation):
    return _three(stride, 1), _three(dilation, 1), _three([a for a, _ in padding], 0)


def _cm_columns(loops, x, ks, out, stride, padding, dilation, groups):
    """im2col of ``x`` (N, C, *S) as channel-major columns (G, C/g * K, N, P), rows (c, *k), for the
    leading outputs ``out`` (``x`` of a transposed conv's weight gradient allows more)."""
    n, c = x.shape[:2]
    rows, p = c * math.prod(ks), math.prod(out)
    cols = np.empty((c,) + _three(ks, 1) + (n,) + _three(out, 1), x.dtype)
    x = np.ascontiguousarray(x).reshape((n, c) + _three(x.shape[2:], 1))
    parallel_for(loops.im2col, c * math.prod(ks), x, cols, *_loop_args(stride, padding, dilation),
                 cost=n * p)
    return cols.reshape(groups, rows // groups, n, p)


def _cm_col2im(loops, cols, ks, out, spatial, stride, padding, dilation):
    """col2im of channel-major columns (G, C/g * K, N, P) into a new (N, C, *spatial); clobbers cols."""
    _, _, n, p = cols.shape
    c = cols.shape[0] * cols.shape[1] // math.prod(ks)
    acc = np.zeros((n, c) + _three(spatial, 1), cols.dtype)
    parallel_for(loops.col2im, n, cols.reshape((c,) + _three(ks, 1) + (n,) + _three(out, 1)), acc,
                 *_loop_args(stride, padding, dilation), cost=cols.size // max(n, 1))
    return acc.reshape((n, c) + tuple(spatial))


def _swap_leading(loops, a, bias=None):
    """(A, B, *rest) as a C-contiguous (B, A, *rest), plus ``bias`` (A,) if given."""
    (ra, rb), rest = a.shape[:2], math.prod(a.shape[2:])
    out = np.empty((rb, ra) + a.shape[2:], a.dtype)
    bias = np.empty(0, a.dtype) if bias is None else bias.astype(a.dtype, copy=False)
    parallel_for(loops.swap_leading, ra, np.ascontiguousarray(a).reshape(ra, rb, rest), bias,
                 out.reshape(rb, ra, rest), cost=rb * rest)
    return out


class _OneEntry:
    """One array kept from a kernel call for the next call that needs it for the same input
    (PyTorch's training convolutions keep such workspaces too): taken (and dropped) by that
    call, kept only up to ``MAX_BYTES``, found again only for the very same input array and
    geometry, so a hit always equals recomputing it."""
    MAX_BYTES = 32 << 20

    def __init__(self):
        self.entry = None

    def keep(self, x, key, value):
        self.entry = (x, key, value) if value.nbytes <= self.MAX_BYTES else None

    def take(self, x, key):
        e, self.entry = self.entry, None
        return e[2] if e is not None and e[0] is x and e[1] == key else None


# the forward's columns, for the weight gradient of the same input (rebuilding them cost ~1 ms
# of the bench CNN's 20 ms step); the gradient in (O, N * P) layout, made by the input gradient
# and needed again by the weight gradient of the same call
_COLUMNS, _SWAPPED_GRAD = _OneEntry(), _OneEntry()


def _conv_compiled(loops, x, w, b, stride, padding, dilation, groups):
    """Per group, the (O/g, C/g * K) weight times the (C/g * K, N * P) columns."""
    n, o, ks = x.shape[0], w.shape[0], w.shape[2:]
    out = out_shape(x.shape[2:], ks, stride, padding, dilation)
    cols = _cm_columns(loops, x, ks, out, stride, padding, dilation, groups)     # (G, Cg * K, N, P)
    _COLUMNS.keep(x, (tuple(ks), out, stride, padding, dilation, groups), cols)
    _, rows, _, p = cols.shape
    wm = w.reshape(groups, o // groups, rows)
    if _one_gemm(rows, p):
        y = np.matmul(wm, cols.reshape(groups, rows, n * p))                      # (O, N * P)
        return _swap_leading(loops, y.reshape((o, n) + out), b)
    y = np.matmul(wm, cols.transpose(2, 0, 1, 3)).reshape((n, o) + out)         # per sample: NCHW
    if b is not None:
        y += b.reshape((o,) + (1,) * len(out))
    return y


def _conv_backward_input_compiled(loops, g, w, spatial, stride, padding, dilation, groups):
    """Columns (G, C/g * K, N, P) = W^T g per group, then the col2im loop."""
    n, o, out = g.shape[0], g.shape[1], g.shape[2:]
    p, ks = math.prod(out), w.shape[2:]
    rows = w.shape[1] * math.prod(ks)
    wt = w.reshape(groups, o // groups, rows).transpose(0, 2, 1)                 # (G, Cg * K, O/g)
    if _one_gemm(rows, p):
        gm = _swap_leading(loops, g).reshape(groups, o // groups, n * p)         # (G, O/g, N * P)
        _SWAPPED_GRAD.keep(g, groups, gm)
        cols = np.matmul(wt, gm).reshape(groups, rows, n, p)
    else:  # per sample, written straight into the channel-major layout
        cols = np.empty((groups, rows, n, p), g.dtype)
        np.matmul(wt, g.reshape(n, groups, o // groups, p), out=cols.transpose(2, 0, 1, 3))
    return _cm_col2im(loops, cols, ks, out, spatial, stride, padding, dilation)


def _conv_backward_weight_compiled(loops, x, g, weight_shape, stride, padding, dilation, groups):
    """Per group, g (O/g, N * P) times the columns' transpose: the sum over samples is the GEMM's."""
    n, o, ks = g.shape[0], g.shape[1], tuple(weight_shape[2:])
    cols = _COLUMNS.take(x, (ks, tuple(g.shape[2:]), stride, padding, dilation, groups))
    if cols is None:
        cols = _cm_columns(loops, x, ks, g.shape[2:], stride, padding, dilation, groups)  # (G, Cg * K, N, P)
    _, rows, _, p = cols.shape
    if rows >= _ONE_GEMM_MIN_COLUMNS:
        gm = _SWAPPED_GRAD.take(g, groups)
        if gm is None:
            gm = _swap_leading(loops, g).reshape(groups, o // groups, n * p)
        # cols g^T rather than g cols^T: OpenBLAS is slower on a short-wide output with long K
        gw = np.matmul(cols.reshape(groups, rows, n * p), gm.transpose(0, 2, 1)).transpose(0, 2, 1)
    else:
        gw = np.matmul(g.reshape(n, groups, o // groups, p), cols.transpose(2, 0, 3, 1)).sum(0)
    return np.ascontiguousarray(gw).reshape(weight_shape)


# --- kernels ------------------------------------------------------------------------------------
def conv(x, w, b=None, *, stride, padding, dilation, groups):
    """Cross-correlation of ``x`` (N, C, *S) with ``w`` (O, C/groups, *K), plus ``b`` (O,)."""
    dtype = x.dtype
    x, w, b = _wide(x, w, b)
    loops = _loops(x.dtype, x.ndim - 2)
    if loops is not None:
        return _conv_compiled(loops, x, w, b, stride, padding, dilation, groups).astype(dtype, copy=False)
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
    loops = _loops(g.dtype, g.ndim - 2)
    if loops is not None:
        return _conv_backward_input_compiled(loops, g, w, tuple(input_shape[2:]), stride, padding, dilation,
                                             groups).astype(dtype, copy=False)
    n, o = g.shape[:2]
    out, ks, spatial = tuple(g.shape[2:]), tuple(w.shape[2:]), tuple(input_shape[2:])
    cg, k = w.shape[1], int(np.prod(w.shape[2:]))
    # weight rows ordered (offset, channel): each offset's columns are one contiguous block
    wk = w.reshape(groups, o // groups, cg, k).transpose(0, 3, 2, 1).reshape(groups, k * cg, o // groups)
    if k * cg > o // groups:
        # more columns than gradient values: the batch goes last, so that col2im's adds run over
        # (W * N)-long rows (conv 32->64 3x3 on 14x14: 6.4 -> 5.7 ms), at the price of moving
        # g's and the result's batch dim
        gt = np.ascontiguousarray(np.moveaxis(g, 0, -1)).reshape(groups, o // groups, math.prod(out) * n)
        cols = np.matmul(wk, gt).reshape((groups,) + ks + (cg,) + out + (n,))
        gx = col2im_add(cols, ks, out, spatial, padding, stride, dilation)         # (G, Cg, *S, N)
        gx = np.moveaxis(gx.reshape((groups * cg,) + spatial + (n,)), -1, 0)
        return np.ascontiguousarray(gx, dtype)
    cols = np.matmul(wk, g.reshape(n, groups, o // groups, math.prod(out)))        # (N, G, K * Cg, P)
    cols = cols.reshape((n * groups,) + ks + (cg,) + out + (1,))
    gx = col2im_add(cols, ks, out, spatial, padding, stride, dilation)             # (N * G, Cg, *S, 1)
    return gx.reshape((n, groups * cg) + spatial).astype(dtype, copy=False)


def conv_backward_weight(x, g, *, weight_shape, stride, padding, dilation, groups):
    """Gradient of ``conv`` w.r.t. its weight: sum over samples of cols g^T (one batched GEMM)."""
    dtype = x.dtype
    x, g = _wide(x, g)
    loops = _loops(x.dtype, x.ndim - 2)
    if loops is not None:
        return _conv_backward_weight_compiled(loops, x, g, weight_shape, stride, padding, dilation,
                                              groups).astype(dtype, copy=False)
    n, o = g.shape[:2]
    cols, _ = _columns(x, tuple(weight_shape[2:]), stride, padding, dilation, groups, g.shape[2:])
    # cols g^T rather than g cols^T: OpenBLAS is slower on a short-wide output with long K
    g = g.reshape(n, groups, o // groups, math.prod(g.shape[2:]))
    gw = np.matmul(cols, g.transpose(0, 1, 3, 2)).sum(0)  # (G, Cg*K, O/g)
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
    loops = _loops(cols.dtype, nd)
    if loops is not None:  # the channel-major copy is also the scratch col2im may clobber
        cm = _swap_leading(loops, cols).reshape(1, c * k, n, cols.shape[2])
        return _cm_col2im(loops, cm, ks, out, tuple(output_size), stride, padding, dilation)
    cols = cols.reshape((n, c) + ks + out + (1,))
    cols = cols.transpose((0,) + tuple(range(2, 2 + nd)) + (1,) + tuple(range(2 + nd, 3 + 2 * nd)))
    acc = col2im_add(cols, ks, out, tuple(output_size), padding, stride, dilation)   # (N, C, *S, 1)
    return acc.reshape((n, c) + tuple(output_size))
