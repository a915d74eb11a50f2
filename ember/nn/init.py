"""Parameter initialisation (``torch.nn.init``): in-place fills under no_grad, drawing from
ember's default generator (or ``generator=``), with PyTorch's distributions and bounds."""
import math
import warnings

import numpy as np

from .._tensor import _wrap
from .._inplace import commit_inplace
from ..autograd.grad_mode import no_grad
from ..random import rng

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
           "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "sparse_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "sigmoid")


def _write(tensor, arr):
    """Overwrite ``tensor`` in place (a Parameter stays the same object) without recording."""
    with no_grad():
        return commit_inplace(tensor, _wrap(np.asarray(arr).astype(tensor._data.dtype)), "init")


def calculate_gain(nonlinearity, param=None):
    r"""Recommended gain for ``nonlinearity``: 1 (linear, conv, sigmoid), 5/3 (tanh),
    :math:`\sqrt2` (relu), :math:`\sqrt{2 / (1 + slope^2)}` (leaky_relu), 3/4 (selu)."""
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"ember.nn.init.calculate_gain: negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"ember.nn.init.calculate_gain: unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight laid out (out, in, *kernel) as PyTorch's."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError("ember.nn.init: fan in and fan out can not be computed for tensor with fewer "
                         f"than 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"ember.nn.init: mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with :math:`U(a, b)`."""
    return _write(tensor, rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with :math:`N(mean, std^2)`."""
    return _write(tensor, mean + std * rng(generator).standard_normal(tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with :math:`N(mean, std^2)` restricted to ``[a, b]`` (exact, by rejection: redraw
    the rejected entries only, a few vectorised rounds in expectation)."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    g, shape = rng(generator), tuple(tensor.shape)
    cdf = lambda x: (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0  # noqa: E731
    mass = cdf((b - mean) / std) - cdf((a - mean) / std)
    if mass > 0.3:  # plenty of mass inside: draw normals, redraw those outside
        out = mean + std * g.standard_normal(shape)
        bad = (out < a) | (out > b)
        while bad.any():
            out[bad] = mean + std * g.standard_normal(int(bad.sum()))
            bad = (out < a) | (out > b)
    else:  # a thin slice: uniform proposals on [a, b], accepted with the density ratio
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        out = np.empty(shape)
        pending = np.ones(shape, bool)
        while pending.any():
            n = int(pending.sum())
            cand = g.uniform(a, b, n)
            accept = np.log(g.random(n)) <= -0.5 * ((cand - mean) / std) ** 2 - log_peak
            idx = np.flatnonzero(pending)[accept]
            out.reshape(-1)[idx] = cand[accept]
            pending.reshape(-1)[idx] = False
    return _write(tensor, out)


def constant_(tensor, val):
    """Fill with the value ``val``."""
    return _write(tensor, np.full(tensor.shape, val))


def ones_(tensor):
    return _write(tensor, np.ones(tensor.shape))


def zeros_(tensor):
    return _write(tensor, np.zeros(tensor.shape))


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the main diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"ember.nn.init.eye_: only tensors with 2 dimensions are supported, got {tensor.ndim}")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D conv weight with the Dirac delta (identity conv), per group."""
    shape = tuple(tensor.shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError(f"ember.nn.init.dirac_: only tensors with 3, 4, or 5 dimensions are supported, got {shape}")
    if shape[0] % groups != 0:
        raise ValueError(f"ember.nn.init.dirac_: dim 0 ({shape[0]}) must be divisible by groups ({groups})")
    per_group = shape[0] // groups
    n = min(per_group, shape[1])
    out = np.zeros(shape)
    d = np.arange(n)
    rows = (np.arange(groups)[:, None] * per_group + d).reshape(-1)
    centre = tuple(s // 2 for s in shape[2:])
    out[(rows, np.tile(d, groups)) + centre] = 1
    return _write(tensor, out)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    r"""Glorot uniform: :math:`U(-a, a)`, :math:`a = gain \sqrt{6 / (fan_{in} + fan_{out})}`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    r"""Glorot normal: :math:`N(0, std^2)`, :math:`std = gain \sqrt{2 / (fan_{in} + fan_{out})}`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""He uniform: :math:`U(-b, b)`, :math:`b = gain \sqrt{3 / fan_{mode}}`."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""He normal: :math:`N(0, std^2)`, :math:`std = gain / \sqrt{fan_{mode}}`."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix (the trailing dims flattened): Q of the QR of a
    normal matrix, with signs fixed by R's diagonal so the draw is uniform (Haar)."""
    if tensor.ndim < 2:
        raise ValueError(f"ember.nn.init.orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tuple(tensor.shape)))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor from :math:`N(0, std^2)` with a ``sparsity`` fraction of each column zero."""
    if tensor.ndim != 2:
        raise ValueError(f"ember.nn.init.sparse_: only tensors with 2 dimensions are supported, got {tensor.ndim}")
    g = rng(generator)
    rows, cols = tensor.shape
    out = std * g.standard_normal((rows, cols))
    num_zeros = int(math.ceil(sparsity * rows))
    # an independent random permutation of the rows per column: argsort of uniform keys
    zero_rows = np.argsort(g.random((rows, cols)), axis=0)[:num_zeros]
    out[zero_rows, np.arange(cols)] = 0
    return _write(tensor, out)


def _deprecated(fn):
    def old(*args, **kwargs):
        warnings.warn(f"nn.init.{fn.__name__[:-1]} is now deprecated in favor of nn.init.{fn.__name__}.",
                      FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)
    old.__name__ = fn.__name__[:-1]
    return old


uniform, normal, constant, eye, dirac = (_deprecated(f) for f in (uniform_, normal_, constant_, eye_, dirac_))
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, sparse = _deprecated(orthogonal_), _deprecated(sparse_)
