"""Convolution ops: conv (any number of spatial dims), its two backward ops, im2col / col2im.

``conv(x, w, b)`` is cross-correlation over the trailing dims of ``x`` (N, C, *S) with
``w`` (O, C/groups, *K). Its gradients are ops of their own, each the adjoint of the
conv in one argument, so every backward is again a conv-family op and higher-order
gradients close over {conv, conv_backward_input, conv_backward_weight}:

    <conv(x, w), g> = <x, conv_backward_input(g, w)> = <w, conv_backward_weight(x, g)>

A transposed convolution is ``conv_backward_input`` run forward.
"""
from . import registry as R
from .registry import register, export

_ATTRS = ("stride", "padding", "dilation", "groups")


def _attrs(ctx):
    return {k: getattr(ctx, k) for k in _ATTRS}


def _fit(y, shape):
    """``y`` cropped to ``shape``'s spatial size (a transposed conv with output_padding >= stride
    has inputs that a strided conv of its output never reaches)."""
    if tuple(y.shape) == tuple(shape):
        return y
    return y[(slice(None), slice(None)) + tuple(slice(0, n) for n in shape[2:])]


def _conv_backward(ctx, g):
    x, w = ctx.inputs[0], ctx.inputs[1]
    gx = R.apply(CONV_BACKWARD_INPUT, g, w, input_shape=ctx.shapes[0], **_attrs(ctx)) if ctx.needs(0) else None
    gw = R.apply(CONV_BACKWARD_WEIGHT, x, g, weight_shape=ctx.shapes[1], **_attrs(ctx)) if ctx.needs(1) else None
    gb = None
    if len(ctx.shapes) > 2 and ctx.needs(2):
        gb = g.sum((0,) + tuple(range(2, g.ndim)))
    return gx, gw, gb


def _conv_backward_input_backward(ctx, h):
    g, w = ctx.inputs
    gg = _fit(R.apply(CONV, h, w, **_attrs(ctx)), ctx.shapes[0]) if ctx.needs(0) else None
    gw = R.apply(CONV_BACKWARD_WEIGHT, h, g, weight_shape=ctx.shapes[1], **_attrs(ctx)) if ctx.needs(1) else None
    return gg, gw


def _conv_backward_weight_backward(ctx, h):
    x, g = ctx.inputs
    gx = R.apply(CONV_BACKWARD_INPUT, g, h, input_shape=ctx.shapes[0], **_attrs(ctx)) if ctx.needs(0) else None
    gg = _fit(R.apply(CONV, x, h, **_attrs(ctx)), ctx.shapes[1]) if ctx.needs(1) else None
    return gx, gg


CONV = register("conv", _conv_backward, skip=(2,),
                doc="Cross-correlation of x (N, C, *S) with w (O, C/groups, *K) plus bias b (O,); "
                    "padding is (before, after) per spatial dim.")
CONV_BACKWARD_INPUT = register("conv_backward_input", _conv_backward_input_backward,
                               doc="Gradient of conv w.r.t. x (col2im of W^T g); the transposed conv.")
CONV_BACKWARD_WEIGHT = register("conv_backward_weight", _conv_backward_weight_backward,
                                doc="Gradient of conv w.r.t. w (g times im2col(x)^T).")

IM2COL = register("im2col", lambda ctx, g: R.apply(COL2IM, g, output_size=ctx.shapes[0][2:], **_fold_attrs(ctx)),
                  save="", doc="F.unfold: (N, C, *S) -> (N, C * K, L) sliding blocks.")
COL2IM = register("col2im", lambda ctx, g: R.apply(IM2COL, g, **_fold_attrs(ctx)),
                  save="", doc="F.fold: (N, C * K, L) -> (N, C, *output_size), overlaps summed.")


def _fold_attrs(ctx):
    return {k: getattr(ctx, k) for k in ("kernel_size", "stride", "padding", "dilation")}


# --- argument parsing ------------------------------------------------------------------------
def _tuple(v, n, op, what, low=0):
    t = tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v),) * n
    if len(t) == 1 and n > 1:
        t = t * n
    if len(t) != n:
        raise RuntimeError(f"ember.{op}: expected {what} to be a single integer or a tuple of {n}, got {v!r}")
    if any(a < low for a in t):
        raise RuntimeError(f"ember.{op}: {what} must be {'non-negative' if low == 0 else 'positive'}, got {v!r}")
    return t


def _check_input(op, input, nd, unbatched_ok=True):
    if not hasattr(input, "_data"):
        raise TypeError(f"ember.{op}: expected input to be a Tensor, got {type(input).__name__}")
    ndim = input._data.ndim
    if ndim == nd + 2 or ndim == nd + 1 and unbatched_ok:
        return ndim == nd + 1
    what = f"{nd + 1}D (unbatched) or {nd + 2}D (batched)" if unbatched_ok else f"{nd + 2}D"
    raise RuntimeError(f"ember.{op}: expected {what} input, got input of shape {tuple(input._data.shape)}")


def _check_float(op, *tensors):
    dts = [t.dtype for t in tensors if t is not None]
    if not dts[0].is_floating_point:
        raise RuntimeError(f"ember.{op}: expected a floating point input, got {dts[0]}")
    if any(d != dts[0] for d in dts):
        raise RuntimeError(f"ember.{op}: input, weight and bias must have the same dtype, got "
                           + ", ".join(str(d) for d in dts))


def same_padding(kernel_size, dilation):
    """PyTorch's padding='same': total d*(k-1), the extra one (even kernels) after."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel_size, dilation))


def _prepare(op, nd, input, weight, bias, groups, layout):
    """Checks shared by conv and conv_transpose; returns (unbatched, batched x, x shape,
    weight shape, groups)."""
    unbatched = _check_input(op, input, nd)
    if not hasattr(weight, "_data") or weight._data.ndim != nd + 2:
        raise RuntimeError(f"ember.{op}: expected a {nd + 2}D weight ({layout}, *kernel_size), got shape "
                           f"{tuple(getattr(weight, 'shape', ()))}")
    _check_float(op, input, weight, bias)
    x = input.unsqueeze(0) if unbatched else input
    groups = int(groups)
    if groups < 1:
        raise RuntimeError(f"ember.{op}: groups must be positive, got {groups}")
    return unbatched, x, x._data.shape, weight._data.shape, groups


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    unbatched, x, xs, ws, groups = _prepare(op, nd, input, weight, bias, groups,
                                            "out_channels, in_channels/groups")
    if ws[0] % groups:
        raise RuntimeError(f"ember.{op}: given groups={groups}, expected weight {tuple(ws)} to be divisible "
                           f"by {groups} at dimension 0")
    if xs[1] != ws[1] * groups:
        raise RuntimeError(f"ember.{op}: given groups={groups} and weight of shape {tuple(ws)}, expected input "
                           f"{tuple(input.shape)} to have {ws[1] * groups} channels, got {xs[1]}")
    if bias is not None and tuple(bias._data.shape) != (ws[0],):
        raise RuntimeError(f"ember.{op}: expected bias of shape ({ws[0]},), got {tuple(bias._data.shape)}")
    stride = _tuple(stride, nd, op, "stride", 1)
    dilation = _tuple(dilation, nd, op, "dilation", 1)
    ks = tuple(ws[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"ember.{op}: padding='same' is not supported for strided convolutions")
            pads = same_padding(ks, dilation)
        else:
            raise RuntimeError(f"ember.{op}: invalid padding string {padding!r}, expected 'valid' or 'same'")
    else:
        pads = tuple((p, p) for p in _tuple(padding, nd, op, "padding"))
    padded = tuple(n + a + b for n, (a, b) in zip(xs[2:], pads))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(ks, dilation))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"ember.{op}: padded input size per channel {padded} is smaller than the "
                           f"(dilated) kernel size {eff}; the kernel can't be greater than the input "
                           f"(input {tuple(input.shape)}, weight {tuple(ws)})")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = R.apply(CONV, *args, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return y.squeeze(0) if unbatched else y


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation,
                    output_size=None):
    unbatched, x, xs, ws, groups = _prepare(op, nd, input, weight, bias, groups,
                                            "in_channels, out_channels/groups")
    if xs[1] != ws[0]:
        raise RuntimeError(f"ember.{op}: expected input {tuple(input.shape)} to have {ws[0]} channels "
                           f"(weight {tuple(ws)}), got {xs[1]}")
    if ws[0] % groups:
        raise RuntimeError(f"ember.{op}: given groups={groups}, expected weight {tuple(ws)} to be divisible "
                           f"by {groups} at dimension 0")
    cout = ws[1] * groups
    if bias is not None and tuple(bias._data.shape) != (cout,):
        raise RuntimeError(f"ember.{op}: expected bias of shape ({cout},), got {tuple(bias._data.shape)}")
    if isinstance(padding, str):
        raise RuntimeError(f"ember.{op}: padding must be an int or a tuple, got {padding!r}")
    stride = _tuple(stride, nd, op, "stride", 1)
    dilation = _tuple(dilation, nd, op, "dilation", 1)
    padding = _tuple(padding, nd, op, "padding")
    output_padding = _tuple(output_padding, nd, op, "output_padding")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise RuntimeError(f"ember.{op}: output padding {output_padding} must be smaller than either "
                               f"stride {stride} or dilation {dilation}")
    ks = ws[2:]
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1
                 for n, s, p, d, k, o in zip(xs[2:], stride, padding, dilation, ks, output_padding))
    if any(n <= 0 for n in size):
        raise RuntimeError(f"ember.{op}: output size {size} is too small (input {tuple(input.shape)}, "
                           f"weight {tuple(ws)})")
    y = R.apply(CONV_BACKWARD_INPUT, x, weight, input_shape=(xs[0], cout) + size, stride=stride,
                padding=tuple((p, p) for p in padding), dilation=dilation, groups=groups)
    if bias is not None:
        y = y + bias.reshape((cout,) + (1,) * nd)
    return y.squeeze(0) if unbatched else y


# --- public API --------------------------------------------------------------------------------
@export
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over (N, C, L) or (C, L); padding int, tuple, 'valid' or 'same'."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@export
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over (N, C, H, W) or (C, H, W); padding int, tuple, 'valid' or 'same'."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@export
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation over (N, C, D, H, W) or (C, D, H, W)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


@export
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d w.r.t. its input); weight (C_in, C_out/groups, K)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


@export
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution; weight (C_in, C_out/groups, kH, kW)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


@export
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution; weight (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def _fold_args(op, kernel_size, dilation, padding, stride):
    return dict(kernel_size=_tuple(kernel_size, 2, op, "kernel_size", 1),
                dilation=_tuple(dilation, 2, op, "dilation", 1),
                padding=tuple((p, p) for p in _tuple(padding, 2, op, "padding")),
                stride=_tuple(stride, 2, op, "stride", 1))


@export(function=False)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """F.unfold (im2col): sliding blocks of (N, C, H, W) as columns (N, C * kH * kW, L)."""
    unbatched = _check_input("unfold", input, 2)
    x = input.unsqueeze(0) if unbatched else input
    a = _fold_args("unfold", kernel_size, dilation, padding, stride)
    padded = tuple(n + 2 * p for n, (p, _) in zip(x._data.shape[2:], a["padding"]))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(a["kernel_size"], a["dilation"]))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"ember.unfold: padded input size {padded} is smaller than the (dilated) kernel "
                           f"size {eff} (input {tuple(input.shape)})")
    y = R.apply(IM2COL, x, **a)
    return y.squeeze(0) if unbatched else y


@export(function=False)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """F.fold (col2im): columns (N, C * kH * kW, L) summed back into (N, C, *output_size)."""
    if not hasattr(input, "_data") or input._data.ndim not in (2, 3):
        raise RuntimeError(f"ember.fold: expected 2D (unbatched) or 3D (batched) input, got shape "
                           f"{tuple(getattr(input, 'shape', ()))}")
    unbatched = input._data.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    a = _fold_args("fold", kernel_size, dilation, padding, stride)
    size = _tuple(output_size, 2, "fold", "output_size", 1)
    k = a["kernel_size"][0] * a["kernel_size"][1]
    if x._data.shape[1] % k:
        raise RuntimeError(f"ember.fold: expected size of input's dimension 1 ({x._data.shape[1]}) to be "
                           f"divisible by the product of kernel_size {a['kernel_size']}")
    blocks = tuple((n + 2 * p - d * (kk - 1) - 1) // s + 1 for n, (p, _), d, kk, s in
                   zip(size, a["padding"], a["dilation"], a["kernel_size"], a["stride"]))
    if any(b < 1 for b in blocks) or x._data.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"ember.fold: given output_size={size}, kernel_size={a['kernel_size']}, "
                           f"dilation={a['dilation']}, padding={tuple(p for p, _ in a['padding'])}, "
                           f"stride={a['stride']}, expected input's dimension 2 to be the number of sliding "
                           f"blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, got {x._data.shape[2]}")
    y = R.apply(COL2IM, x, output_size=size, **a)
    return y.squeeze(0) if unbatched else y

