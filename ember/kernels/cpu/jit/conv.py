"""im2col / col2im loops for convolutions, in the channel-major column layout.

Spatial dims are always three (D, H, W): 1-d and 2-d convolutions arrive with leading
dims of size 1 (kernel 1, stride 1, no padding), which costs the loops nothing.
Columns are laid out (C, KD, KH, KW, N, OD, OH, OW): as a (C * K, N * P) matrix, one
GEMM with the (O, C * K) weight gives (O, N, P), which is NCHW up to a copy of whole
P-long rows (``swap_leading``); no element-wise transpose is needed anywhere.

Per (channel, kernel offset, sample, output depth) a column block (OH, OW) is a shifted
window of one input plane, zero where it reaches into the padding: rows [hlo, hhi) and
columns [wlo, whi) of the block are inside the input. Rows are short (14 values on a
14x14 map) and the per-row work costs as much as the copy, so when the row strides agree
(stride 1 and output width == input width, e.g. 'same' padding) the valid rows are moved
as ONE run, and the values that wrapped around a row edge are fixed up (1.3-1.4x faster).

Inner loops index views from 0 (``dst[j]``, never ``cf[r + j]``): numba wraps negative
indices, and with an offset of unknown sign that check blocks vectorization (3x slower).
"""
import numpy as np

from ._njit import njit


@njit
def _valid(off, s, size, n_out):
    """The range [lo, hi) of outputs o whose input position o * s + off lies in [0, size)."""
    lo = 0 if off >= 0 else (-off + s - 1) // s
    hi = (size - 1 - off) // s + 1 if size - 1 - off >= 0 else 0
    return lo, max(lo, min(hi, n_out))


@njit
def _zero(a):
    for j in range(a.size):
        a[j] = 0


@njit
def _zero_row_edges(blk, ow_, hlo, hhi, wlo, whi):
    """Zero columns [0, wlo) and [whi, ow_) of rows [hlo, hhi) of the flat (OH, OW) block."""
    for oh in range(hlo, hhi):
        for j in range(oh * ow_, oh * ow_ + wlo):
            blk[j] = 0
        for j in range(oh * ow_ + whi, (oh + 1) * ow_):
            blk[j] = 0


@njit
def _windows(x_shape, cols_shape, stride, dilation, pad):
    """Per column row (c, kd, kh, kw), flattened: the channel c, the input offsets (d, h, w)
    (output o reads input o * stride + offset) and the ranges [lo, hi) of outputs inside the
    input along d, h, w; an int64 array (C * K, 10)."""
    _, c_, d_, h_, w_ = x_shape
    kd_, kh_, kw_, _, od_, oh_, ow_ = cols_shape[1:]
    geo = np.empty((c_ * kd_ * kh_ * kw_, 10), np.int64)
    for row in range(geo.shape[0]):
        c, kd, kh, kw = row // (kd_ * kh_ * kw_), row // (kh_ * kw_) % kd_, row // kw_ % kh_, row % kw_
        offd, offh, offw = kd * dilation[0] - pad[0], kh * dilation[1] - pad[1], kw * dilation[2] - pad[2]
        dlo, dhi = _valid(offd, stride[0], d_, od_)
        hlo, hhi = _valid(offh, stride[1], h_, oh_)
        wlo, whi = _valid(offw, stride[2], w_, ow_)
        geo[row] = (c, offd, offh, offw, dlo, dhi, hlo, hhi, wlo, whi)
    return geo


@njit
def im2col(x, cols, stride, dilation, pad, lo, hi):
    """``cols[c, kd, kh, kw, n, od, oh, ow] = x[n, c, id, ih, iw]``, ``i* = o* * s* + k* * d* - p*``
    (``pad``: the before-padding), 0 where that position lies outside ``x``.

    ``x`` (N, C, D, H, W) and ``cols`` (C, KD, KH, KW, N, OD, OH, OW) are C-contiguous. Writing
    ``cols`` in order keeps the N planes of one channel in cache for all K offsets. Only the
    column rows (channel, kernel offset) ``lo:hi`` are written (parallel_for splits them)."""
    n_, c_, d_, h_, w_ = x.shape
    od_, oh_, ow_ = cols.shape[5:]
    sd, sh, sw = stride
    xf, cf = x.reshape(-1), cols.reshape(-1)
    one_run = sh == 1 and sw == 1 and w_ == ow_
    block = oh_ * ow_
    geo = _windows(x.shape, cols.shape, stride, dilation, pad)
    r = lo * n_ * od_ * block
    for row in range(lo, hi):
        c, offd, offh, offw, dlo, dhi, hlo, hhi, wlo, whi = geo[row]
        for n in range(n_):
            for od in range(od_):
                blk = cf[r:r + block]
                r += block
                if od < dlo or od >= dhi or hlo == hhi or wlo == whi:
                    _zero(blk)
                    continue
                plane = ((n * c_ + c) * d_ + od * sd + offd) * h_ * w_
                _zero(blk[:hlo * ow_])
                _zero(blk[hhi * ow_:])
                if one_run:
                    first, last = hlo * ow_ + wlo, (hhi - 1) * ow_ + whi
                    src = xf[plane + (hlo + offh) * w_ + wlo + offw:]
                    dst = blk[first:last]
                    for j in range(last - first):
                        dst[j] = src[j]
                else:
                    for oh in range(hlo, hhi):
                        src = xf[plane + (oh * sh + offh) * w_ + wlo * sw + offw:]
                        dst = blk[oh * ow_ + wlo:oh * ow_ + whi]
                        if sw == 1:
                            for j in range(whi - wlo):
                                dst[j] = src[j]
                        elif sw == 2:  # a constant step vectorizes (stride-2 convs: 1.4x faster)
                            for j in range(whi - wlo):
                                dst[j] = src[2 * j]
                        else:
                            for j in range(whi - wlo):
                                dst[j] = src[j * sw]
                _zero_row_edges(blk, ow_, hlo, hhi, wlo, whi)


@njit
def col2im(cols, x, stride, dilation, pad, lo, hi):
    """The adjoint of ``im2col``: ``x[n, c, id, ih, iw] += cols[c, kd, kh, kw, n, od, oh, ow]`` for
    every window that reads that position; ``x`` comes in zeroed. Each position sums its
    terms in kernel-offset order, and the plane of ``x`` stays in L1 meanwhile.

    Clobbers ``cols``: for the one-run add (module doc) the values that belong to padding
    positions are zeroed first, so that adding them where they wrap to changes nothing.
    Only samples ``lo:hi`` are summed (each writes its own planes: parallel_for splits them)."""
    n_, c_, d_, h_, w_ = x.shape
    od_, oh_, ow_ = cols.shape[5:]
    sd, sh, sw = stride
    xf, cf = x.reshape(-1), cols.reshape(-1)
    one_run = sh == 1 and sw == 1 and w_ == ow_
    block = oh_ * ow_
    geo = _windows(x.shape, cols.shape, stride, dilation, pad)
    for n in range(lo, hi):
        for row in range(geo.shape[0]):
            c, offd, offh, offw, dlo, dhi, hlo, hhi, wlo, whi = geo[row]
            if hlo == hhi or wlo == whi:
                continue
            r = (row * n_ + n) * od_ * block
            for od in range(dlo, dhi):
                blk = cf[r + od * block:r + (od + 1) * block]
                plane = ((n * c_ + c) * d_ + od * sd + offd) * h_ * w_
                if one_run:
                    _zero_row_edges(blk, ow_, hlo, hhi, wlo, whi)
                    first, last = hlo * ow_ + wlo, (hhi - 1) * ow_ + whi
                    src = blk[first:last]
                    dst = xf[plane + (hlo + offh) * w_ + wlo + offw:]
                    for j in range(last - first):
                        dst[j] += src[j]
                else:
                    for oh in range(hlo, hhi):
                        src = blk[oh * ow_ + wlo:oh * ow_ + whi]
                        dst = xf[plane + (oh * sh + offh) * w_ + wlo * sw + offw:]
                        if sw == 1:
                            for j in range(whi - wlo):
                                dst[j] += src[j]
                        elif sw == 2:
                            for j in range(whi - wlo):
                                dst[2 * j] += src[j]
                        else:
                            for j in range(whi - wlo):
                                dst[j * sw] += src[j]


@njit
def swap_leading(src, bias, dst, lo, hi):
    """``dst[j, i, :] = src[i, j, :] (+ bias[i])`` for ``i`` in ``lo:hi``: the (O, N, P) GEMM result
    as NCHW, one P-long row at a time (``bias`` empty: none). Both arrays C-contiguous."""
    a, b, p = src.shape
    for i in range(lo, hi):
        for j in range(b):
            s, d = src[i, j], dst[j, i]
            if bias.size:
                bi = bias[i]
                for q in range(p):
                    d[q] = s[q] + bi
            else:
                for q in range(p):
                    d[q] = s[q]
