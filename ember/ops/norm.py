"""Normalization ops: layer_norm, rms_norm, batch_norm (group_norm and instance_norm are
built on them in ember.nn.functional).

Each forward op returns its statistics as extra outputs, which the fused backward op reads
(``*_backward``: dx, dw, db in a few array passes). The statistics are internal: their
gradients are ignored, and each backward op's own rule (double backward) recomputes them
from ``x`` with ops, so every order of derivative is exact.
"""
from . import registry as R
from .registry import register

_FLOAT = ("float16", "bfloat16", "float32", "float64")


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
