"""ember.nn.functional: activations.

The elementwise activations are registered ops (ember/ops/activation.py) re-exported
from the registry; softmax-like functions add torch.nn.functional's ``dim=None`` and
``dtype`` handling; rrelu and gumbel_softmax draw from ember's default generator.
"""
import warnings

import numpy as np

from ... import creation as _c
from ..._tensor import _wrap
from ...ops import registry as R
from ...ops.registry import FUNCTIONS
from ...random import rng

_REEXPORTED = ["threshold", "threshold_", "relu", "relu_", "hardtanh", "hardtanh_", "relu6", "elu", "elu_",
               "selu", "selu_", "celu", "celu_", "leaky_relu", "leaky_relu_", "prelu", "glu", "gelu", "logsigmoid",
               "hardshrink", "tanhshrink", "softsign", "softplus", "softshrink", "tanh", "sigmoid", "hardsigmoid",
               "silu", "mish", "hardswish"]
__all__ = _REEXPORTED + ["softmax", "softmin", "log_softmax", "gumbel_softmax", "rrelu", "rrelu_"]


def _registered(name):
    """The registry's function, or (while its family is still being written) a stand-in that
    looks it up at call time."""
    fn = FUNCTIONS.get(name)
    if fn is not None:
        return fn

    def lazy(*args, **kwargs):
        return FUNCTIONS[name](*args, **kwargs)
    lazy.__name__ = lazy.__qualname__ = name
    return lazy


globals().update({_n: _registered(_n) for _n in _REEXPORTED})


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    r""":math:`\exp(x_i) / \sum_j \exp(x_j)` along ``dim`` (``dtype`` casts the input first)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return FUNCTIONS["softmax"](input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    r""":math:`x_i - \log \sum_j \exp(x_j)` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return FUNCTIONS["log_softmax"](input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    r"""``softmax(-x)``: :math:`\exp(-x_i) / \sum_j \exp(-x_j)` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return FUNCTIONS["softmax"](-input, dim)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1, *, generator=None):
    """Softmax of ``(logits + g) / tau`` with Gumbel(0, 1) noise ``g``; ``hard`` returns one-hot
    vectors whose gradient is the soft sample's (straight-through)."""
    g = -np.log(rng(generator).exponential(1.0, tuple(logits.shape)))
    y = FUNCTIONS["softmax"]((logits + _wrap(g.astype(logits._data.dtype))) / tau, dim)
    if not hard:
        return y
    one = _c.zeros_like(logits).scatter(dim, y.argmax(dim, keepdim=True), 1.0)
    return one - y.detach() + y


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, *, generator=None):
    """Randomized leaky ReLU: negative inputs scaled by a slope drawn from U(lower, upper) per
    element while training, by the mean slope (lower + upper) / 2 in eval."""
    if not training:
        return FUNCTIONS["leaky_relu"](input, (lower + upper) / 2, inplace)
    slope = _wrap(rng(generator).uniform(lower, upper, tuple(input.shape)).astype(input._data.dtype))
    out = FUNCTIONS["where"](input >= 0, input, input * slope)
    return R.commit_inplace(input, out, "rrelu_") if inplace else out


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, *, generator=None):
    return rrelu(input, lower, upper, training, True, generator=generator)
