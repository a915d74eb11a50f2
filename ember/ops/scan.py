"""Ops along one dim: cumsum cumprod cummax cummin logcumsumexp, and softmax / log_softmax
with their dedicated backward ops (one NumPy kernel each, double-differentiable)."""
from . import registry as R
from .define import inplace
from .registry import register, export, METHODS, FUNCTIONS, call
from .reduce import SUM, SELECT_ALONG_BACKWARD, dim1, check_float, cummax_ret, cummin_ret, _cast

# the most negative finite value per dtype: log(0) stand-in that keeps double-backward finite
_LOWEST = {"float16": -65504.0, "bfloat16": -3.3895313892515355e38, "float32": -3.4028234663852886e38,
           "float64": -1.7976931348623157e308}


def _axes(t, dim):
    return (dim,) if t._data.ndim else ()


# --- scans ---------------------------------------------------------------------------------------------
def _cumprod_backward(ctx, g):
    # grad_i = sum_{k>=i} g_k prod_{j<=k, j!=i} x_j: revcumsum(g * out) / x_i before the first zero
    # of x; at the first zero, the same sum with that zero replaced by 1; 0 after it
    x, out, d = ctx.inputs[0], ctx.out, ctx.dim
    z = (x == 0).to(g.dtype)
    seen = R.apply(CUMSUM, z, dim=d, reverse=False)
    before, first = (seen == 0).to(g.dtype), z * (seen == 1).to(g.dtype)
    grad = R.apply(CUMSUM, g * out, dim=d, reverse=True) / (x + z) * before
    x1 = x * (1 - first) + first
    return grad + first * R.apply(CUMSUM, g * R.apply(CUMPROD, x1, dim=d), dim=d, reverse=True)


def _logcumsumexp_backward(ctx, g):
    # grad_i = sum_{k>=i} g_k exp(x_i - out_k), split by the sign of g to stay in log space
    x, out, d = ctx.inputs[0], ctx.out, ctx.dim
    where, lowest = FUNCTIONS["where"], _LOWEST[g.dtype.name]
    log_abs = call("log", call("abs", g))
    pos, neg = where(g > 0, log_abs, lowest), where(g < 0, log_abs, lowest)
    rev = not ctx.reverse
    return (call("exp", R.apply(LOGCUMSUMEXP, pos - out, dim=d, reverse=rev) + x)
            - call("exp", R.apply(LOGCUMSUMEXP, neg - out, dim=d, reverse=rev) + x))


def _cum_extremum_backward(ctx, g, _):
    return R.apply(SELECT_ALONG_BACKWARD, g, ctx.outs[1], shape=ctx.shapes[0], dim=ctx.dim, keepdim=True)


CUMSUM = register("cumsum", lambda ctx, g: R.apply(CUMSUM, g, dim=ctx.dim, reverse=not ctx.reverse),
                  save="")
CUMPROD = register("cumprod", _cumprod_backward, save="io")
LOGCUMSUMEXP = register("logcumsumexp", _logcumsumexp_backward, promote="float", save="io")
CUMMAX = register("cummax", _cum_extremum_backward, save="o")
CUMMIN = register("cummin", _cum_extremum_backward, save="o")


@export(method=True)
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``; ints and bools accumulate in int64."""
    return R.apply(CUMSUM, _cast(input, dtype), dim=dim1(input, dim, "cumsum"), reverse=False)


@export(method=True)
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim`` (its gradient handles zeros)."""
    return R.apply(CUMPROD, _cast(input, dtype), dim=dim1(input, dim, "cumprod"))


@export(method=True)
def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, computed stably."""
    return R.apply(LOGCUMSUMEXP, input, dim=dim1(input, dim, "logcumsumexp"), reverse=False)


@export(method=True)
def cummax(input, dim):
    """(values, indices) of the running maximum along ``dim``."""
    return cummax_ret(*R.apply(CUMMAX, input, dim=dim1(input, dim, "cummax")))


@export(method=True)
def cummin(input, dim):
    """(values, indices) of the running minimum along ``dim``."""
    return cummin_ret(*R.apply(CUMMIN, input, dim=dim1(input, dim, "cummin")))


METHODS["cumsum_"] = inplace(cumsum, "cumsum_")
METHODS["cumprod_"] = inplace(cumprod, "cumprod_")


# --- softmax -------------------------------------------------------------------------------------------
def _softmax_vjp_backward(ctx, gg, dim):
    # out = y * (g - s), s = sum(g * y): d/dg = y * (gg - sum(gg * y)); d/dy = gg * (g - s) - sum(gg * y) * g
    g, y = ctx.inputs
    ax = _axes(g, dim)
    ggy = R.apply(SUM, gg * y, dim=ax, keepdim=True)
    dg = y * (gg - ggy) if ctx.needs(0) else None
    dy = gg * (g - R.apply(SUM, g * y, dim=ax, keepdim=True)) - ggy * g if ctx.needs(1) else None
    return dg, dy


def _softmax_backward_backward(ctx, gg):
    return _softmax_vjp_backward(ctx, gg, ctx.dim)


def _scaled_softmax_backward_backward(ctx, gg):
    # scaled_softmax_backward is softmax_backward (last dim) times scale: linear in its incoming gradient
    return _softmax_vjp_backward(ctx, gg * ctx.scale, len(ctx.shapes[0]) - 1)


def _log_softmax_backward_backward(ctx, gg):
    # out = g - exp(y) * sum(g): d/dg = gg - sum(gg * exp(y)); d/dy = -gg * exp(y) * sum(g)
    g, y = ctx.inputs
    ax = _axes(g, ctx.dim)
    e = call("exp", y)
    dg = gg - R.apply(SUM, gg * e, dim=ax, keepdim=True) if ctx.needs(0) else None
    dy = -(gg * e) * R.apply(SUM, g, dim=ax, keepdim=True) if ctx.needs(1) else None
    return dg, dy


SOFTMAX = register("softmax", lambda ctx, g: R.apply(SOFTMAX_BACKWARD, g, ctx.out, dim=ctx.dim), save="o")
LOG_SOFTMAX = register("log_softmax", lambda ctx, g: R.apply(LOG_SOFTMAX_BACKWARD, g, ctx.out, dim=ctx.dim),
                       save="o")
SOFTMAX_BACKWARD = register("softmax_backward", _softmax_backward_backward, promote="common")
SCALED_SOFTMAX = register(
    "scaled_softmax",
    lambda ctx, g: (R.apply(SCALED_SOFTMAX_BACKWARD, g, ctx.out, scale=ctx.scale), None),
    save="o", promote="common",
    doc="softmax(x * scale + bias) along the last dim, bias a constant broadcast against x (no gradient): "
        "the scaled, masked attention scores in one pass.")
SCALED_SOFTMAX_BACKWARD = register(
    "scaled_softmax_backward", _scaled_softmax_backward_backward, promote="common",
    doc="softmax_backward along the last dim, times scale: the gradient of scaled_softmax in one pass.")
LOG_SOFTMAX_BACKWARD = register("log_softmax_backward", _log_softmax_backward_backward, promote="common")


def _softmax_fn(name, op):
    def fn(input, dim, dtype=None):
        d = dim1(input, dim, name)
        input = _cast(input, dtype)
        check_float(input, name)
        return R.apply(op, input, dim=d)
    fn.__name__ = fn.__qualname__ = name
    FUNCTIONS[name] = METHODS[name] = fn
    return fn


softmax = _softmax_fn("softmax", SOFTMAX)
softmax.__doc__ = "``exp(x) / sum(exp(x))`` along ``dim``, computed stably (``dtype`` casts the input first)."
log_softmax = _softmax_fn("log_softmax", LOG_SOFTMAX)
log_softmax.__doc__ = "``x - logsumexp(x)`` along ``dim`` (``dtype`` casts the input first)."
