"""Activation ops (PyTorch's torch.nn.functional names; nn.functional re-exports them).

gelu, silu, softplus, mish and elu/selu/celu have dedicated backward ops (one fused
kernel instead of a chain of elementwise ops) whose own backward rules are written
with ops, so double backward works.
"""
import math

from . import registry as R
from .define import inplace
from .registry import register, export, METHODS, FUNCTIONS
from .elementwise import where, sigmoid, tanh, exp, abs as _abs

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_K_BETA, _K_KAPPA = math.sqrt(2 / math.pi), 0.044715
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _maybe_inplace(input, out, inplace, name):
    return R.commit_inplace(input, out, name + "_") if inplace else out


def _x(ctx):
    return ctx.inputs[0]


# --- piecewise-linear -----------------------------------------------------------------
# Their backward ops are linear in g and piecewise constant in the other input: the grad of
# g is the same op applied to gg, the other input's is zeros (as in PyTorch).
def _masked_backward_op(name, **kw):
    def rule(ctx, gg):
        return (R.apply(op, gg, ctx.inputs[1], **ctx.attrs) if ctx.needs(0) else None,
                FUNCTIONS["zeros"](ctx.shapes[1], dtype=gg.dtype) if ctx.needs(1) else None)
    op = register(name, rule, promote="common", skip=(0,), fusion="elementwise", **kw)
    return op


RELU_BACKWARD = _masked_backward_op("relu_backward", doc="g where out > 0, else 0.")
THRESHOLD_BACKWARD = _masked_backward_op("threshold_backward", doc="g where x > threshold, else 0.")
HARDTANH_BACKWARD = _masked_backward_op("hardtanh_backward", doc="g where min_val < out < max_val, else 0.")
LEAKY_RELU_BACKWARD = _masked_backward_op("leaky_relu_backward", doc="g where x > 0, else g * negative_slope.")

RELU = register("relu", lambda ctx, g: R.apply(RELU_BACKWARD, g, ctx.out), promote="common", save="o",
                fusion="elementwise")
# hardtanh saves its (clamped) output: at a bound exactly where the input was, and hardtanh_ stays cheap
HARDTANH = register("hardtanh", lambda ctx, g: R.apply(HARDTANH_BACKWARD, g, ctx.out, min_val=ctx.min_val,
                                                       max_val=ctx.max_val),
                    promote="common", save="o", fusion="elementwise")
LEAKY_RELU = register("leaky_relu", lambda ctx, g: R.apply(LEAKY_RELU_BACKWARD, g, _x(ctx),
                                                           negative_slope=ctx.negative_slope),
                      promote="float", fusion="elementwise")
THRESHOLD = register("threshold", lambda ctx, g: R.apply(THRESHOLD_BACKWARD, g, _x(ctx), threshold=ctx.threshold),
                     promote="common", fusion="elementwise")


def _shrink_backward(ctx, g):
    x, lambd = _x(ctx), ctx.lambd
    return where((x >= -lambd) & (x <= lambd), 0, g)


HARDSHRINK = register("hardshrink", _shrink_backward, promote="float", fusion="elementwise")
SOFTSHRINK = register("softshrink", _shrink_backward, promote="float", fusion="elementwise")


def _hardsigmoid_backward(ctx, g):
    x = _x(ctx)
    return where((x > -3) & (x < 3), g / 6, 0)


def _hardswish_backward(ctx, g):
    x = _x(ctx)
    return where(x < -3, 0, where(x <= 3, g * (x / 3 + 0.5), g))


HARDSIGMOID = register("hardsigmoid", _hardsigmoid_backward, promote="float", fusion="elementwise")
HARDSWISH = register("hardswish", _hardswish_backward, promote="float", fusion="elementwise")


@export(method=True)
def relu(input, inplace=False):
    return _maybe_inplace(input, R.apply(RELU, input), inplace, "relu")


@export
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(f"ember.hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    out = R.apply(HARDTANH, input, min_val=min_val, max_val=max_val)
    return _maybe_inplace(input, out, inplace, "hardtanh")


@export
def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


@export
def leaky_relu(input, negative_slope=0.01, inplace=False):
    out = R.apply(LEAKY_RELU, input, negative_slope=float(negative_slope))
    return _maybe_inplace(input, out, inplace, "leaky_relu")


@export
def threshold(input, threshold, value, inplace=False):
    """``input`` where ``input > threshold``, else ``value``."""
    out = R.apply(THRESHOLD, input, threshold=threshold, value=value)
    return _maybe_inplace(input, out, inplace, "threshold")


@export(method=True)
def hardshrink(input, lambd=0.5):
    return R.apply(HARDSHRINK, input, lambd=float(lambd))


@export
def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise ValueError(f"ember.softshrink: lambd must be >= 0, got {lambd}")
    return R.apply(SOFTSHRINK, input, lambd=float(lambd))


@export
def hardsigmoid(input, inplace=False):
    return _maybe_inplace(input, R.apply(HARDSIGMOID, input), inplace, "hardsigmoid")


@export
def hardswish(input, inplace=False):
    return _maybe_inplace(input, R.apply(HARDSWISH, input), inplace, "hardswish")


# --- smooth, with fused backward ops ---------------------------------------------------------
def _gelu2(x, approximate):
    """gelu''(x)."""
    if approximate == "tanh":
        x2 = x * x
        du = (x2 * (3 * _K_KAPPA) + 1) * _K_BETA
        t = tanh((x + x2 * x * _K_KAPPA) * _K_BETA)
        return (1 - t * t) * (du - x * t * du * du + x * x * (3 * _K_KAPPA * _K_BETA))
    return exp(x * x * -0.5) * _INV_SQRT_2PI * (2 - x * x)


def _silu2(x):
    s = sigmoid(x)
    return s * (1 - s) * (2 + x * (1 - 2 * s))


def _softplus2(x, beta, threshold):
    s = sigmoid(x * beta)
    return where(x * beta > threshold, 0, s * (1 - s) * beta)


def _mish2(x):
    s = sigmoid(x)
    t = tanh(R.apply(SOFTPLUS, x, beta=1.0, threshold=20.0))
    return s * (1 - t * t) * (2 + x * (1 - s - 2 * t * s))


def _elu2(x, alpha, scale, input_scale):
    return where(x > 0, 0, exp(x * input_scale) * (alpha * scale * input_scale * input_scale))


def _fused_backward_op(name, second):
    """``name_backward(g, x, **attrs) = g * f'(x)``; its own grads: (f'(x) gg, g f''(x) gg)."""
    def rule(ctx, gg):
        g, x = ctx.inputs
        attrs = ctx.attrs
        return (R.apply(op, gg, x, **attrs) if ctx.needs(0) else None,
                gg * g * second(x, **attrs) if ctx.needs(1) else None)
    op = register(name + "_backward", rule, promote="common", fusion="elementwise")
    fwd_rule = lambda ctx, g: R.apply(op, g, _x(ctx), **ctx.attrs)  # noqa: E731
    return register(name, fwd_rule, promote="float", fusion="elementwise"), op


GELU, GELU_BACKWARD = _fused_backward_op("gelu", _gelu2)
SILU, SILU_BACKWARD = _fused_backward_op("silu", _silu2)
SOFTPLUS, SOFTPLUS_BACKWARD = _fused_backward_op("softplus", _softplus2)
MISH, MISH_BACKWARD = _fused_backward_op("mish", _mish2)
ELU, ELU_BACKWARD = _fused_backward_op("elu", _elu2)


@export
def gelu(input, approximate="none"):
    """``x * Phi(x)``; ``approximate='tanh'`` uses the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"ember.gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return R.apply(GELU, input, approximate=approximate)


@export
def silu(input, inplace=False):
    return _maybe_inplace(input, R.apply(SILU, input), inplace, "silu")


@export
def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return R.apply(SOFTPLUS, input, beta=float(beta), threshold=float(threshold))


@export
def mish(input, inplace=False):
    return _maybe_inplace(input, R.apply(MISH, input), inplace, "mish")


def _elu(input, alpha, scale, input_scale, inplace, name):
    out = R.apply(ELU, input, alpha=float(alpha), scale=float(scale), input_scale=float(input_scale))
    return _maybe_inplace(input, out, inplace, name)


@export
def elu(input, alpha=1.0, inplace=False):
    return _elu(input, alpha, 1.0, 1.0, inplace, "elu")


@export
def selu(input, inplace=False):
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace, "selu")


@export
def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise ValueError("ember.celu: alpha must not be 0")
    return _elu(input, alpha, 1.0, 1.0 / alpha, inplace, "celu")


LOGSIGMOID = register("logsigmoid", lambda ctx, g: g * sigmoid(-_x(ctx)), promote="float",
                      fusion="elementwise")


@export
def logsigmoid(input):
    """``log(sigmoid(x))``, computed without overflow."""
    return R.apply(LOGSIGMOID, input)


# --- compositions ----------------------------------------------------------------------
@export
def tanhshrink(input):
    return input - tanh(input)


@export
def softsign(input):
    return input / (_abs(input) + 1)


@export
def glu(input, dim=-1):
    """``a * sigmoid(b)`` with ``a, b`` the halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("ember.glu: does not support scalars (0-d tensors)")
    n = input.shape[dim if -input.ndim <= dim < input.ndim else _bad_dim("glu", dim, input.ndim)]
    if n % 2:
        raise RuntimeError(f"ember.glu: halving dimension must be even, but dimension {dim} is size {n}")
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


def _bad_dim(name, dim, ndim):
    raise IndexError(f"ember.{name}: dimension out of range (expected to be in range of "
                     f"[{-ndim}, {ndim - 1}], but got {dim})")


def _prelu_backward(ctx, g):
    x, w = ctx.inputs
    wb = w.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim >= 2 and w.numel() > 1 else w.reshape(())
    gx = where(x > 0, g, g * wb) if ctx.needs(0) else None
    gw = None
    if ctx.needs(1):
        gw = where(x > 0, 0, g * x)
        gw = gw.sum_to_size(tuple(wb.shape) if wb.ndim else (1,) * x.ndim).reshape(w.shape)
    return gx, gw


PRELU = register("prelu", _prelu_backward, promote="common", fusion="elementwise")


@export(method=True)
def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)``, one weight per channel (dim 1) or a single one."""
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels) or weight.ndim > 1:
        raise RuntimeError(f"ember.prelu: weight of shape {tuple(weight.shape)} does not match the "
                           f"{channels} channels of an input of shape {tuple(input.shape)}")
    return R.apply(PRELU, input, weight)


# in-place forms: F.relu_ (also torch.relu_ and Tensor.relu_), F.elu_ ...
for _name in ("relu", "hardtanh", "leaky_relu", "threshold", "elu", "selu", "celu"):
    FUNCTIONS[_name + "_"] = inplace(FUNCTIONS[_name], _name + "_")
METHODS["relu_"] = FUNCTIONS["relu_"]
