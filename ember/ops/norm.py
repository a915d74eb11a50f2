"""Normalization ops: layer_norm, rms_norm, batch_norm; group_norm and instance_norm are built
on them. The public functions (ember.layer_norm ..., re-exported by ember.nn.functional) follow.

Each forward op returns its statistics as extra outputs, which the fused backward op reads
(``*_backward``: dx, dw, db in a few array passes). The statistics are internal: their
gradients are ignored, and each backward op's own rule (double backward) recomputes them
from ``x`` with ops, so every order of derivative is exact.
"""
import numpy as _np

from . import registry as R
from .registry import register, export
from ..autograd.grad_mode import no_grad



def _mean(t, red):
    return t.mean(dim=red, keepdim=True)


def _norm_double_backward(g, x, wv, u, ggw, ggb, red, eps, center):
    """Gradients (wrt g, x, and the pre-sum weight term) of the normalization backward
    ``dx = r (a - mean(a) - xhat mean(a xhat))``, ``dw = sum(g xhat)``, ``db = sum(g)`` with
    ``a = g w``, ``xhat = (x - mean(x)) r``, ``r = 1/sqrt(var(x) + eps)`` (``center=False``:
    RMS norm, no mean subtracted), given the upstream grads ``u, ggw, ggb`` (None: unused)."""
    mu = _mean(x, red) if center else 0
    xc = x - mu if center else x
    r = (_mean(xc * xc, red) + eps).rsqrt()
    xhat = xc * r
    a = g * wv if wv is not None else g
    grad_g = h = grad_x = grad_w = None
    if u is not None:
        m2, mux = _mean(a * xhat, red), _mean(u * xhat, red)
        p = a - xhat * m2
        ua = u - xhat * mux
        if center:
            p = p - _mean(a, red)
            ua = ua - _mean(u, red)
        grad_a = ua * r
        h = -(u * m2 + a * mux) * r
        grad_x = -(xhat * (r * r)) * _mean(u * p, red)
        grad_g = grad_a * wv if wv is not None else grad_a
        grad_w = grad_a * g if wv is not None else None
    if ggw is not None:
        grad_g = ggw * xhat if grad_g is None else grad_g + ggw * xhat
        h = g * ggw if h is None else h + g * ggw
    if ggb is not None:
        grad_g = ggb if grad_g is None else grad_g + ggb
    if h is not None:
        hh = h - _mean(h, red) if center else h
        gx = (hh - xhat * _mean(h * xhat, red)) * r
        grad_x = gx if grad_x is None else grad_x + gx
    return grad_g, grad_x, grad_w


def _unused(ctx, out, i):
    return out if ctx.need[i] else None


# --- layer_norm -----------------------------------------------------------------------------
def _layer_norm_backward_backward(ctx, ggx, ggw, ggb):
    g, x, _, _, w = ctx.inputs
    k = ctx.normalized_ndim
    red = tuple(range(x.ndim - k, x.ndim))
    gg, gx, gw = _norm_double_backward(g, x, w, _unused(ctx, ggx, 0), _unused(ctx, ggw, 1),
                                       _unused(ctx, ggb, 2), red, ctx.eps, True)
    return gg, gx, None, None, gw  # gw is summed to w's shape by the engine


def _layer_norm_rule(ctx, g, _gmean, _grstd):
    x, w, b = ctx.inputs
    _, mean, rstd = ctx.outs
    need = (ctx.needs(0), ctx.needs(1), ctx.needs(2))
    dx, dw, db = R.apply(LAYER_NORM_BACKWARD, g, x, mean, rstd, w, normalized_ndim=ctx.normalized_ndim,
                         eps=ctx.eps, need=need)
    return dx if need[0] else None, dw if need[1] else None, db if need[2] else None


LAYER_NORM = register("layer_norm", _layer_norm_rule, save="io", skip=(2,))
LAYER_NORM_BACKWARD = register("layer_norm_backward", _layer_norm_backward_backward, skip=(2, 3))


# --- rms_norm -------------------------------------------------------------------------------
def _rms_norm_backward_backward(ctx, ggx, ggw):
    g, x, _, w = ctx.inputs
    k = ctx.normalized_ndim
    red = tuple(range(x.ndim - k, x.ndim))
    gg, gx, gw = _norm_double_backward(g, x, w, _unused(ctx, ggx, 0), _unused(ctx, ggw, 1), None,
                                       red, ctx.eps, False)
    return gg, gx, None, gw


def _rms_norm_rule(ctx, g, _grstd):
    x, w = ctx.inputs
    need = (ctx.needs(0), ctx.needs(1))
    dx, dw = R.apply(RMS_NORM_BACKWARD, g, x, ctx.outs[1], w, normalized_ndim=ctx.normalized_ndim,
                     eps=ctx.eps, need=need)
    return dx if need[0] else None, dw if need[1] else None


RMS_NORM = register("rms_norm", _rms_norm_rule, save="io")
RMS_NORM_BACKWARD = register("rms_norm_backward", _rms_norm_backward_backward, skip=(2,))


# --- batch_norm -----------------------------------------------------------------------------
def _channel_view(t, ndim):
    return None if t is None else t.reshape((-1,) + (1,) * (ndim - 2))


def _batch_norm_backward_backward(ctx, ggx, ggw, ggb):
    g, x, mean, var, w = ctx.inputs
    nd = x.ndim
    red = (0,) + tuple(range(2, nd))
    wv = _channel_view(w, nd)
    u, gw_, gb_ = (_unused(ctx, t, i) for i, t in enumerate((ggx, ggw, ggb)))
    gw_, gb_ = _channel_view(gw_, nd), _channel_view(gb_, nd)
    if ctx.training:
        gg, gx, gw = _norm_double_backward(g, x, wv, u, gw_, gb_, red, ctx.eps, True)
    else:  # dx = g r w, dw = sum(g xhat), db = sum(g) with constant statistics
        r = _channel_view((var + ctx.eps).rsqrt(), nd)
        gg = gx = gw = None
        if u is not None:
            gg = u * r * wv if wv is not None else u * r
            gw = u * g * r if wv is not None else None
        if gw_ is not None:
            xhat = (x - _channel_view(mean, nd)) * r
            gg = gw_ * xhat if gg is None else gg + gw_ * xhat
            gx = g * gw_ * r
        if gb_ is not None:
            gg = gb_ if gg is None else gg + gb_
    if gw is not None:
        gw = gw.sum(dim=red)
    return gg, gx, None, None, gw


def _batch_norm_rule(ctx, g, _gmean, _gvar):
    x, _, _, w, _ = ctx.inputs
    _, mean, var = ctx.outs
    need = (ctx.needs(0), ctx.needs(3), ctx.needs(4))
    dx, dw, db = R.apply(BATCH_NORM_BACKWARD, g, x, mean, var, w, training=ctx.training, eps=ctx.eps,
                         need=need)
    return dx if need[0] else None, None, None, dw if need[1] else None, db if need[2] else None


BATCH_NORM = register("batch_norm", _batch_norm_rule, save="io", skip=(1, 2, 4))
BATCH_NORM_BACKWARD = register("batch_norm_backward", _batch_norm_backward_backward)


# --- public functions -------------------------------------------------------------------------
def _check_input(input, name):
    if not hasattr(input, "_data"):
        raise TypeError(f"ember.nn.functional.{name}: expected input to be a Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"ember.nn.functional.{name}: expected a floating point input, got {input.dtype}")


def _check_param(t, what, shape, input, name):
    if t is None:
        return
    if tuple(t.shape) != tuple(shape):
        raise RuntimeError(f"ember.nn.functional.{name}: expected {what} of shape {tuple(shape)}, "
                           f"got {tuple(t.shape)}")
    if t.dtype != input.dtype:
        raise RuntimeError(f"ember.nn.functional.{name}: expected {what} of dtype {input.dtype} (the "
                           f"input's), got {t.dtype}")


def _normalized_shape(normalized_shape, input, name):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if not k or tuple(input.shape[input.ndim - k:]) != ns or input.ndim < k:
        raise RuntimeError(f"ember.nn.functional.{name}: given normalized_shape={list(ns)}, expected input "
                           f"with shape [*, {', '.join(map(str, ns))}], but got input of size "
                           f"{list(input.shape)}")
    return ns


@export
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    r""":math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} \gamma + \beta` over the last
    ``len(normalized_shape)`` dims (biased variance)."""
    _check_input(input, "layer_norm")
    ns = _normalized_shape(normalized_shape, input, "layer_norm")
    _check_param(weight, "weight", ns, input, "layer_norm")
    _check_param(bias, "bias", ns, input, "layer_norm")
    return R.apply(LAYER_NORM, input, weight, bias, normalized_ndim=len(ns), eps=float(eps))[0]


@export
def rms_norm(input, normalized_shape, weight=None, eps=None):
    r""":math:`y = \frac{x}{\sqrt{E[x^2] + \epsilon}} \gamma` over the last
    ``len(normalized_shape)`` dims; ``eps=None`` uses the dtype's machine epsilon."""
    _check_input(input, "rms_norm")
    ns = _normalized_shape(normalized_shape, input, "rms_norm")
    _check_param(weight, "weight", ns, input, "rms_norm")
    if eps is None:
        eps = 2.0 ** -7 if input.dtype.name == "bfloat16" else float(_np.finfo(input._data.dtype).eps)
    return R.apply(RMS_NORM, input, weight, normalized_ndim=len(ns), eps=float(eps))[0]


def _channels_count(input, name):
    if input.ndim < 2:
        raise ValueError(f"ember.nn.functional.{name}: expected an input with at least 2 dims (N, C, ...), "
                         f"got shape {tuple(input.shape)}")
    return input.shape[1]


def _update(running, value, momentum):
    """``running = (1 - momentum) * running + momentum * value``, in place."""
    with no_grad():
        running.copy_(running * (1 - momentum) + value.to(running.dtype) * momentum)


def functional_batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
                          momentum=0.1, eps=1e-5):
    r"""Per-channel (dim 1) :math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} \gamma + \beta`.

    ``training``: batch statistics (biased variance), and the running statistics (if given)
    are updated in place with ``momentum`` (the unbiased variance, as PyTorch). Otherwise
    the running statistics are used."""
    _check_input(input, "batch_norm")
    c = _channels_count(input, "batch_norm")
    if (running_mean is None) != (running_var is None):
        raise ValueError("ember.nn.functional.batch_norm: running_mean and running_var must either both be "
                         "None or neither be None")
    if eps < 0 or training and eps == 0:
        raise ValueError(f"ember.nn.functional.batch_norm: eps must be positive, got {eps}")
    for t, what in ((running_mean, "running_mean"), (running_var, "running_var")):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"ember.nn.functional.batch_norm: expected {what} of shape ({c},), got "
                               f"{tuple(t.shape)}")
    _check_param(weight, "weight", (c,), input, "batch_norm")
    _check_param(bias, "bias", (c,), input, "batch_norm")
    n = input.numel() // c if c else 0
    if training:
        if n <= 1:
            raise ValueError(f"ember.nn.functional.batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(input.shape)}")
    elif running_mean is None:
        raise RuntimeError("ember.nn.functional.batch_norm: running_mean and running_var must be given "
                           "when training=False")
    y, mean, var = R.apply(BATCH_NORM, input, running_mean, running_var, weight, bias,
                           training=bool(training), eps=float(eps))
    if training and running_mean is not None:
        _update(running_mean, mean.detach(), momentum)
        _update(running_var, var.detach() * (n / (n - 1)), momentum)
    return y


def _affine(y, weight, bias):
    """Per-channel (dim 1) ``y * weight + bias``."""
    shape = (-1,) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


@export
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """Normalise each of ``num_groups`` groups of channels (and all positions) per sample,
    then a per-channel affine map."""
    _check_input(input, "group_norm")
    c = _channels_count(input, "group_norm")
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"ember.nn.functional.group_norm: expected the number of channels ({c}) to be "
                           f"divisible by num_groups ({num_groups})")
    _check_param(weight, "weight", (c,), input, "group_norm")
    _check_param(bias, "bias", (c,), input, "group_norm")
    x = input.reshape(input.shape[0], num_groups, -1)
    y = R.apply(LAYER_NORM, x, None, None, normalized_ndim=1, eps=float(eps))[0]
    return _affine(y.reshape(input.shape), weight, bias)


def functional_instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                             use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its positions; with ``use_input_stats=False``
    the running statistics are used instead (as batch_norm in eval mode)."""
    _check_input(input, "instance_norm")
    c = _channels_count(input, "instance_norm")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("ember.nn.functional.instance_norm: expected running_mean and running_var "
                               "when use_input_stats=False")
        return functional_batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    _check_param(weight, "weight", (c,), input, "instance_norm")
    _check_param(bias, "bias", (c,), input, "instance_norm")
    L = input.numel() // max(input.shape[0] * c, 1)
    if L <= 1:
        raise ValueError(f"ember.nn.functional.instance_norm: expected more than 1 spatial element when "
                         f"training, got input of shape {tuple(input.shape)}")
    x = input.reshape(input.shape[0], c, -1)
    y = R.apply(LAYER_NORM, x, None, None, normalized_ndim=1, eps=float(eps))[0]
    if running_mean is not None or running_var is not None:
        with no_grad():
            xd = x.detach()
            if running_mean is not None:
                _update(running_mean, xd.mean(dim=2).mean(dim=0), momentum)
            if running_var is not None:
                _update(running_var, xd.var(dim=2, correction=1).mean(dim=0), momentum)
    return _affine(y.reshape(input.shape), weight, bias)


# torch.batch_norm / torch.instance_norm: the top-level forms (weight and bias first)
@export
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    return functional_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


@export
def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled=True):
    return functional_instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
