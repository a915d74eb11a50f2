"""Activation kernels. float16/bfloat16 inputs are computed in float32 and rounded once,
as PyTorch does; formulas follow PyTorch's CPU kernels so results round alike."""
import numpy as np

from . import jit
from ._parallel import parallel_for, split_ufunc, worth_splitting
from .elementwise import _erf, _up, zero_where, keep_where, select

__all__ = ["relu", "relu_backward", "threshold_backward", "hardtanh", "hardtanh_backward",
           "leaky_relu", "leaky_relu_backward", "elu", "elu_backward", "gelu", "gelu_backward",
           "silu", "silu_backward", "softplus", "softplus_backward", "mish", "mish_backward",
           "hardsigmoid", "hardswish", "hardshrink", "softshrink", "logsigmoid", "threshold", "prelu"]

_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_K_BETA, _K_KAPPA = 0.7978845608028654, 0.044715  # sqrt(2/pi); tanh-gelu's cubic coefficient


def _float(fn):
    """Compute in float32 for float16/bfloat16 and return the input's dtype."""
    def kernel(x, *args, **kw):
        return fn(_up(x), *(_up(a) for a in args), **kw).astype(x.dtype, copy=False)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    kernel.__doc__ = fn.__doc__
    return kernel


def relu(x):
    k = jit.kernels("activation")
    if k is not None and x.dtype.char in "fd" and x.flags.c_contiguous:
        res = np.empty_like(x)
        parallel_for(k.relu, x.size, x.reshape(-1), res.reshape(-1))
        return res
    return _relu(x)


@_float
def _relu(x):
    if worth_splitting(x.size):
        return split_ufunc(np.maximum, x, x.dtype.type(0))
    return np.maximum(x, 0)


def relu_backward(g, out):
    """``g`` where ``out > 0``, else 0 (nan in ``out`` passes ``g``, as in PyTorch)."""
    k = jit.kernels("activation")
    if (k is not None and g.dtype.char in "fd" and out.dtype == g.dtype and g.shape == out.shape
            and g.flags.c_contiguous and out.flags.c_contiguous):
        res = np.empty_like(g)
        parallel_for(k.relu_backward, g.size, g.reshape(-1), out.reshape(-1), res.reshape(-1))
        return res
    return zero_where(g, np.less_equal(out, 0))


def threshold_backward(g, x, *, threshold):
    return zero_where(g, np.less_equal(x, threshold))


@_float
def hardtanh(x, *, min_val, max_val):
    return np.minimum(np.maximum(x, min_val), max_val)


def hardtanh_backward(g, out, *, min_val, max_val):
    """``g`` where ``min_val < out < max_val``, else 0 (also where ``out`` is nan, as PyTorch's
    vectorized kernel does)."""
    return keep_where(g, np.greater(out, min_val) & np.less(out, max_val))


@_float
def leaky_relu(x, *, negative_slope):
    return select(np.greater(x, 0), x, x * negative_slope)


@_float
def leaky_relu_backward(g, x, *, negative_slope):
    return select(np.greater(x, 0), g, g * negative_slope)


@_float
def elu(x, *, alpha, scale, input_scale):
    """elu, selu and celu: ``scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1))``."""
    return select(np.greater(x, 0), x * scale, np.expm1(x * input_scale) * (alpha * scale))


@_float
def elu_backward(g, x, *, alpha, scale, input_scale):
    return select(np.greater(x, 0), g * scale, g * (alpha * scale * input_scale) * np.exp(x * input_scale))


def _phi(x):
    """(Phi(x), phi(x)): the standard normal cdf (as erfc, accurate in the left tail) and pdf."""
    cdf = _erf(x * -_SQRT_HALF, complement=True)
    cdf *= 0.5
    return cdf, np.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _gelu_loops(*arrays, approximate):
    """The compiled exact-gelu loops for float32 C-contiguous arrays of one shape, else None."""
    if approximate != "none" or any(a.dtype != np.float32 or not a.flags.c_contiguous or a.shape != arrays[0].shape
                                    for a in arrays):
        return None
    return jit.kernels("activation")


def gelu(x, *, approximate):
    k = _gelu_loops(x, approximate=approximate)
    if k is not None:
        res = np.empty_like(x)
        parallel_for(k.gelu, x.size, x.reshape(-1), res.reshape(-1))
        return res
    return _gelu(x, approximate=approximate)


def gelu_backward(g, x, *, approximate):
    k = _gelu_loops(g, x, approximate=approximate)
    if k is not None:
        res = np.empty_like(x)
        parallel_for(k.gelu_backward, x.size, g.reshape(-1), x.reshape(-1), res.reshape(-1))
        return res
    return _gelu_backward(g, x, approximate=approximate)


@_float
def _gelu(x, *, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_K_BETA * (x + _K_KAPPA * x * x * x)))
    return x * _phi(x)[0]


@_float
def _gelu_backward(g, x, *, approximate):
    if approximate == "tanh":
        x2 = x * x
        t = np.tanh(_K_BETA * (x + _K_KAPPA * x2 * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _K_BETA * (1 + 3 * _K_KAPPA * x2))
    cdf, pdf = _phi(x)
    return g * (cdf + x * pdf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@_float
def silu(x):
    return x / (1 + np.exp(-x))


@_float
def silu_backward(g, x):
    s = _sigmoid(x)
    return g * s * (1 + x * (1 - s))


@_float
def softplus(x, *, beta, threshold):
    bx = x * beta
    return select(np.greater(bx, threshold), x, np.log1p(np.exp(bx)) / beta)


@_float
def softplus_backward(g, x, *, beta, threshold):
    z = np.exp(x * beta)
    return select(np.greater(x * beta, threshold), g, g * z / (z + 1))


@_float
def mish(x):
    return x * np.tanh(np.log1p(np.exp(x)))


@_float
def mish_backward(g, x):
    t = np.tanh(np.log1p(np.exp(x)))
    return g * (t + x * _sigmoid(x) * (1 - t * t))


@_float
def hardsigmoid(x):
    return np.minimum(np.maximum(x + 3, 0), 6) / 6


@_float
def hardswish(x):
    return x * np.minimum(np.maximum(x + 3, 0), 6) / 6


@_float
def hardshrink(x, *, lambd):
    return zero_where(x, np.greater_equal(x, -lambd) & np.less_equal(x, lambd))


@_float
def softshrink(x, *, lambd):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, x * 0))  # x * 0: nan stays


@_float
def logsigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


@_float
def threshold(x, *, threshold, value):
    return np.where(x <= threshold, value, x)


def _channel_weight(w, ndim):
    """prelu's weight, shaped to broadcast along dim 1 of an ``ndim``-d input."""
    return w.reshape((-1,) + (1,) * (ndim - 2)) if ndim >= 2 and w.size > 1 else w.reshape(())


@_float
def prelu(x, w):
    return select(np.greater(x, 0), x, _channel_weight(w, x.ndim) * x)
