"""Pooling and resampling ops: max / avg / adaptive pooling, interpolation, pixel shuffle.

Ops work on (N, C, *spatial); the public functions accept unbatched (C, *spatial) inputs
where PyTorch does. Each backward is a registered op whose own backward is the forward
family again (avg_pool <-> avg_pool_backward, upsample <-> upsample_backward; the max
pool gradient is a scatter through the saved flat indices, its adjoint a gather), so
higher-order gradients work.
"""
import math

import numpy as np

from . import registry as R
from .registry import register, export, FUNCTIONS
from .conv import _tuple, _check_input
from ..kernels.cpu.pool import pool_out_shape

# --- ops -------------------------------------------------------------------------------------
_AVG = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
_UP = ("size", "mode", "align_corners", "scales")


def _max_backward(ctx, g, gi=None):
    # non-overlapping windows never pick a position twice: the scatter is an assignment
    unique = ctx.op is MAX_POOL and all(s >= d * (k - 1) + 1 for k, s, d in
                                        zip(ctx.kernel_size, ctx.stride, ctx.dilation))
    return R.apply(MAX_POOL_BACKWARD, g, ctx.outs[1], input_shape=ctx.shapes[0], unique=unique)


def _max_pool_backward_backward(ctx, h):
    idx = ctx.inputs[1]
    n, c = idx.shape[:2]
    flat_h, flat_i = h.reshape(n, c, math.prod(h.shape[2:])), idx.reshape(n, c, math.prod(idx.shape[2:]))
    return R.call("gather", flat_h, flat_i, dim=2).reshape(idx.shape), None


MAX_POOL = register("max_pool", _max_backward, save="o",
                    doc="(values, flat indices into each (N, C) plane) of the window maxima.")
ADAPTIVE_MAX_POOL = register("adaptive_max_pool", _max_backward, save="o",
                             doc="Maxima of adaptive windows [floor(i n / o), ceil((i + 1) n / o)), with indices.")
MAX_POOL_BACKWARD = register("max_pool_backward", _max_pool_backward_backward, skip=(0,),
                             doc="g scattered (summed) to the flat plane positions of the max indices.")
AVG_POOL = register("avg_pool", lambda ctx, g: R.apply(AVG_POOL_BACKWARD, g, input_shape=ctx.shapes[0],
                                                       **{k: getattr(ctx, k) for k in _AVG}),
                    save="", doc="Window means (PyTorch divisor rules: count_include_pad, divisor_override).")
AVG_POOL_BACKWARD = register("avg_pool_backward",
                             lambda ctx, g: R.apply(AVG_POOL, g, **{k: getattr(ctx, k) for k in _AVG}),
                             save="", doc="Adjoint of avg_pool: g / divisor added back at each kernel offset.")
UPSAMPLE = register("upsample", lambda ctx, g: R.apply(UPSAMPLE_BACKWARD, g, input_size=ctx.shapes[0][-len(ctx.size):],
                                                       **{k: getattr(ctx, k) for k in _UP}),
                    save="", doc="Separable resampling of the trailing dims: nearest, nearest-exact, linear, cubic.")
UPSAMPLE_BACKWARD = register("upsample_backward",
                             lambda ctx, g: R.apply(UPSAMPLE, g, **{k: getattr(ctx, k) for k in _UP}),
                             save="", doc="Adjoint of upsample.")


# --- shared parsing ----------------------------------------------------------------------------
def _batched(op, input, nd):
    unbatched = _check_input(op, input, nd)
    if any(n == 0 for n in input._data.shape[1 if unbatched else 2:]) or not unbatched and input._data.shape[1] == 0:
        raise RuntimeError(f"ember.{op}: expected input with non-zero channel and spatial sizes, got shape "
                           f"{tuple(input._data.shape)}")
    return (input.unsqueeze(0), True) if unbatched else (input, False)


def _window_args(op, nd, kernel_size, stride, padding, dilation):
    ks = _tuple(kernel_size, nd, op, "kernel_size", 1)
    stride = ks if stride is None or stride == [] or stride == () else _tuple(stride, nd, op, "stride", 1)
    padding = _tuple(padding, nd, op, "padding")
    dilation = _tuple(dilation, nd, op, "dilation", 1)
    for k, p in zip(ks, padding):
        if p > k // 2:  # PyTorch 2.13's bound (not half the dilated window: that could be all padding)
            raise RuntimeError(f"ember.{op}: pad should be at most half of kernel size, but got "
                               f"padding={padding}, kernel_size={ks}")
    return ks, stride, padding, dilation


def _check_out(op, x, out):
    if any(o < 1 for o in out):
        raise RuntimeError(f"ember.{op}: given input of shape {tuple(x._data.shape)}, the calculated output size "
                           f"{out} is too small")


# --- max pooling -------------------------------------------------------------------------------
def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched = _batched(op, input, nd)
    ks, stride, padding, dilation = _window_args(op, nd, kernel_size, stride, padding, dilation)
    _check_out(op, x, pool_out_shape(x._data.shape[2:], ks, stride, padding, dilation, bool(ceil_mode)))
    y, idx = R.apply(MAX_POOL, x, kernel_size=ks, stride=stride, padding=padding, dilation=dilation,
                     ceil_mode=bool(ceil_mode))
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


@export
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of (N, C, L) or (C, L); indices are flat positions in L."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@export
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of (N, C, H, W) or (C, H, W); indices are flat positions h * W + w."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@export
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    x, unbatched = _batched(op, input, nd)
    ks = _tuple(kernel_size, nd, op, "kernel_size", 1)
    stride = ks if stride is None else _tuple(stride, nd, op, "stride", 1)
    padding = _tuple(padding, nd, op, "padding")
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x._data.shape[2:], stride, padding, ks))
    if output_size is None:
        size = default
    else:
        size = tuple(int(s) for s in output_size)[-nd:]
        if len(size) != nd:
            raise RuntimeError(f"ember.{op}: output_size must have {nd} spatial sizes, got {output_size}")
        for s, d, st in zip(size, default, stride):
            if not d - st < s < d + st:
                raise RuntimeError(f"ember.{op}: invalid output_size {tuple(output_size)} (expected sizes "
                                   f"between {tuple(d - st + 1 for d, st in zip(default, stride))} and "
                                   f"{tuple(d + st - 1 for d, st in zip(default, stride))})")
    idx = indices.unsqueeze(0) if unbatched else indices
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"ember.{op}: expected indices of shape {tuple(input.shape)}, got {tuple(indices.shape)}")
    n, c = x._data.shape[:2]
    flat = FUNCTIONS["zeros"]((n, c, int(np.prod(size))), dtype=x.dtype)
    p = math.prod(x._data.shape[2:])
    y = FUNCTIONS["scatter"](flat, 2, idx.reshape(n, c, p), x.reshape(n, c, p))
    y = y.reshape((n, c) + size)
    return y.squeeze(0) if unbatched else y


@export(function=False)
def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: values written back at their indices, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


@export(function=False)
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: values written back at their indices, zeros elsewhere."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


@export(function=False)
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# --- average pooling ---------------------------------------------------------------------------
def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, unbatched = _batched(op, input, nd)
    ks, stride, padding, _ = _window_args(op, nd, kernel_size, stride, padding, 1)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError(f"ember.{op}: divisor must be not zero")
    _check_out(op, x, pool_out_shape(x._data.shape[2:], ks, stride, padding, (1,) * nd, bool(ceil_mode)))
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"ember.{op}: expected a floating point input, got {x.dtype}")
    y = R.apply(AVG_POOL, x, kernel_size=ks, stride=stride, padding=padding, ceil_mode=bool(ceil_mode),
                count_include_pad=bool(count_include_pad),
                divisor_override=None if divisor_override is None else int(divisor_override))
    return y.squeeze(0) if unbatched else y


@export
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over sliding windows of (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


@export(function=False)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) or (C, H, W)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


@export(function=False)
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _lp_pool(op, nd, input, norm_type, kernel_size, stride, ceil_mode):
    ks = _tuple(kernel_size, nd, op, "kernel_size", 1)
    if norm_type in (math.inf, -math.inf):  # the max (min) of |x| over each window
        sign = 1 if norm_type > 0 else -1
        return sign * _max_pool(op, nd, sign * input.abs(), ks, stride, 0, 1, ceil_mode, False)
    out = _avg_pool(op, nd, input.pow(norm_type), ks, stride, 0, ceil_mode, True, None)
    return (FUNCTIONS["sign"](out) * FUNCTIONS["relu"](FUNCTIONS["abs"](out))).mul(math.prod(ks)).pow(1.0 / norm_type)


@export(function=False)
def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over the window of x^p)^(1/p)."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


@export(function=False)
def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over 2-D windows: (sum of x^p)^(1/p)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


# --- adaptive pooling --------------------------------------------------------------------------
def _adaptive_size(op, nd, x, output_size):
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * nd
    if len(sizes) != nd:
        raise RuntimeError(f"ember.{op}: output_size must have {nd} elements, got {output_size!r}")
    spatial = x._data.shape[-nd:]
    sizes = tuple(n if s is None else int(s) for s, n in zip(sizes, spatial))
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"ember.{op}: output_size must be non-negative, got {output_size!r}")
    return sizes


def _window_means(n, o, dtype):
    """The (o, n) matrix averaging PyTorch's adaptive windows [floor(i n / o), ceil((i + 1) n / o))."""
    i = np.arange(o)
    s, e = i * n // o, -(-(i + 1) * n // o)
    j = np.arange(n)
    return ((j >= s[:, None]) & (j < e[:, None])) / (e - s)[:, None].astype(dtype)


def _adaptive_avg(op, nd, input, output_size):
    x, unbatched = _batched(op, input, nd)
    sizes = _adaptive_size(op, nd, x, output_size)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"ember.{op}: expected a floating point input, got {x.dtype}")
    spatial = x._data.shape[2:]
    if all(o == 1 for o in sizes):       # global average pooling
        y = x.mean(tuple(range(2, 2 + nd)), keepdim=True)
    elif all(o and n % o == 0 for n, o in zip(spatial, sizes)):   # equal windows: a plain avg_pool
        ks = tuple(n // o for n, o in zip(spatial, sizes))
        y = R.apply(AVG_POOL, x, kernel_size=ks, stride=ks, padding=(0,) * nd, ceil_mode=False,
                    count_include_pad=True, divisor_override=None)
    else:                                  # uneven windows: one averaging matrix per axis
        y = x
        for j, (n, o) in enumerate(zip(spatial, sizes)):
            m = FUNCTIONS["tensor"](_window_means(n, o, x._data.dtype).T.astype(x._data.dtype))
            y = (y.movedim(2 + j, -1) @ m).movedim(-1, 2 + j)
    return y.squeeze(0) if unbatched else y


@export
def adaptive_avg_pool1d(input, output_size):
    """Mean over PyTorch's adaptive windows so the output length is ``output_size``."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


@export(function=False)
def adaptive_avg_pool2d(input, output_size):
    """Mean over adaptive windows; ``output_size`` int or (H, W), None keeps that input size."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


@export(function=False)
def adaptive_avg_pool3d(input, output_size):
    """Mean over adaptive windows of (N, C, D, H, W)."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(op, nd, input, output_size, return_indices):
    x, unbatched = _batched(op, input, nd)
    sizes = _adaptive_size(op, nd, x, output_size)
    y, idx = R.apply(ADAPTIVE_MAX_POOL, x, output_size=sizes)
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


@export(function=False)
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over adaptive windows so the output length is ``output_size``."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


@export(function=False)
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows; ``output_size`` int or (H, W), None keeps that input size."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


@export(function=False)
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over adaptive windows of (N, C, D, H, W)."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# --- interpolation -----------------------------------------------------------------------------
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


@export(function=False)
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *S) to ``size`` or ``S * scale_factor``; modes nearest,
    nearest-exact, linear (3-D), bilinear / bicubic (4-D), trilinear (5-D), area."""
    if not hasattr(input, "_data"):
        raise TypeError(f"ember.interpolate: expected a Tensor, got {type(input).__name__}")
    nd = input._data.ndim - 2
    if nd < 1 or nd > 3:
        raise ValueError(f"ember.interpolate: expected a 3D, 4D or 5D input (N, C, *spatial), got shape "
                         f"{tuple(input.shape)}")
    modes = ("nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear")
    if mode not in modes:
        raise NotImplementedError(f"ember.interpolate: unsupported mode {mode!r}; expected one of {modes}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("ember.interpolate: align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    else:
        align_corners = bool(align_corners)
        if _MODE_DIMS[mode] != nd:
            raise NotImplementedError(f"ember.interpolate: got {nd + 2}D input, but {mode} mode needs "
                                      f"{_MODE_DIMS[mode] + 2}D input")
    if antialias:
        raise NotImplementedError("ember.interpolate: antialias=True is not supported")
    spatial = input._data.shape[2:]
    if size is not None and scale_factor is not None:
        raise ValueError("ember.interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("ember.interpolate: recompute_scale_factor is not meaningful with an explicit size")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(sizes) != nd:
            raise ValueError(f"ember.interpolate: input and output must have the same number of spatial "
                             f"dimensions, got input spatial shape {tuple(spatial)} and output size {size}")
        sizes, scales = tuple(int(s) for s in sizes), (None,) * nd
    elif scale_factor is not None:
        scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
        if len(scales) != nd:
            raise ValueError(f"ember.interpolate: input and scale_factor must have the same number of spatial "
                             f"dimensions, got input spatial shape {tuple(spatial)} and scale_factor {scale_factor}")
        scales = tuple(float(s) for s in scales)
        sizes = tuple(int(math.floor(float(n) * s)) for n, s in zip(spatial, scales))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * nd
    else:
        raise ValueError("ember.interpolate: either size or scale_factor should be defined")
    if any(s <= 0 for s in sizes):
        raise ValueError(f"ember.interpolate: output size {sizes} must be positive (input {tuple(input.shape)})")
    if mode == "area":
        return _adaptive_avg("interpolate", nd, input, sizes)
    kind = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    if kind != "nearest" and kind != "nearest-exact" and not input.dtype.is_floating_point:
        raise RuntimeError(f"ember.interpolate: {mode} mode expects a floating point input, got {input.dtype}")
    return R.apply(UPSAMPLE, input, size=sizes, mode=kind, align_corners=bool(align_corners), scales=scales)


# --- pixel shuffle -----------------------------------------------------------------------------
def _shuffle_check(op, input, r, what):
    if input._data.ndim < 3:
        raise RuntimeError(f"ember.{op}: expected input with at least 3 dims (*, C, H, W), got shape "
                           f"{tuple(input.shape)}")
    if int(r) < 1:
        raise RuntimeError(f"ember.{op}: {what} must be greater than 0, got {r}")
    return int(r)


@export
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    r = _shuffle_check("pixel_shuffle", input, upscale_factor, "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"ember.pixel_shuffle: expected the channel dimension {c} of input "
                           f"{tuple(input.shape)} to be divisible by upscale_factor^2 = {r * r}")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


@export
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = _shuffle_check("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"ember.pixel_unshuffle: expected height {h} and width {w} of input "
                           f"{tuple(input.shape)} to be divisible by downscale_factor {r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)
