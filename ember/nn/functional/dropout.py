"""ember.nn.functional: dropout family.

Masks are drawn here from ember's generator (``ember.manual_seed`` makes them
reproducible) and passed to the registered "dropout" op; with ``training=False``,
``p == 0`` or an empty input the input itself is returned, as in PyTorch.
"""
import warnings

import numpy as np

from ..._tensor import _wrap
from ...ops import registry as R
from ...ops.nn import DROPOUT
from ...random import rng

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

_SELU_ALPHA_SCALED = 1.7580993408473766  # SELU's alpha * scale: the value dropped units take (negated)


def _check_p(name, p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"ember.{name}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, p, feature, name, generator):
    shape = tuple(input.shape)
    if feature:  # one draw per (sample, channel), broadcast over the rest
        if len(shape) < 2:
            raise RuntimeError(f"ember.{name}: feature dropout requires at least 2 dimensions in the input, "
                               f"got shape {shape}")
        shape = shape[:2] + (1,) * (len(shape) - 2)
    return rng(generator).random(shape) >= p


def _dropout(input, p, training, inplace, feature, name, generator):
    _check_p(name, p)
    if p == 0 or not training or input.numel() == 0:
        return input
    out = R.apply(DROPOUT, input, _wrap(_keep_mask(input, p, feature, name, generator)), p=float(p))
    return R.commit_inplace(input, out, name + "_") if inplace else out


def _alpha_dropout(input, p, training, inplace, feature, name, generator):
    """Keeps SELU's self-normalising mean and variance: dropped units are set to SELU's
    negative saturation value, then an affine map ``a * x + b`` restores the moments."""
    _check_p(name, p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        out = input * 0.0
    else:
        keep = _keep_mask(input, p, feature, name, generator)
        dt = input._data.dtype
        a = 1.0 / np.sqrt((_SELU_ALPHA_SCALED ** 2 * p + 1) * (1 - p))
        noise = keep.astype(dt) * dt.type(a)
        bias = (keep.astype(dt) - 1) * dt.type(_SELU_ALPHA_SCALED * a) + dt.type(_SELU_ALPHA_SCALED * a * p)
        out = input * _wrap(noise) + _wrap(bias)
    return R.commit_inplace(input, out, name + "_") if inplace else out


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    return _dropout(input, p, training, inplace, False, "dropout", generator)


def _batched(name, input, batched_dims, inplace, run):
    """Run ``run`` on ``input`` with a batch dim added when it has none."""
    if input.ndim == batched_dims:
        return run(input)
    out = run(input.unsqueeze(0))
    if inplace and out is not input:
        return input
    return out.squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p``."""
    _check_p("dropout1d", p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"ember.dropout1d: expected 2D or 3D input, but received a {input.ndim}D input "
                           f"of shape {tuple(input.shape)} (channel-wise dropout on inputs with 1 spatial dim, "
                           f"a channel dim and an optional batch dim)")
    return _batched("dropout1d", input, 3, inplace,
                    lambda x: _dropout(x, p, training, inplace, True, "dropout1d", generator))


def dropout2d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` (3-D inputs are read as
    (N, C, L), as PyTorch does for now)."""
    _check_p("dropout2d", p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this "
                      "warning, please use dropout instead. Note that dropout2d exists to provide channel-wise "
                      "dropout on inputs with 2 spatial dimensions, a channel dimension, and an optional batch "
                      "dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                      "dim. This behavior will change in a future release to interpret the input as one "
                      "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.", stacklevel=2)
    return _dropout(input, p, training, inplace, True, "dropout2d", generator)


def dropout3d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p``."""
    _check_p("dropout3d", p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this "
                      "warning, please use dropout instead. Note that dropout3d exists to provide channel-wise "
                      "dropout on inputs with 3 spatial dimensions, a channel dimension, and an optional batch "
                      "dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _batched("dropout3d", input, 5, inplace,
                    lambda x: _dropout(x, p, training, inplace, True, "dropout3d", generator))


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, generator=None):
    """Dropout for SELU networks: keeps zero mean and unit variance of the activations."""
    return _alpha_dropout(input, p, training, inplace, False, "alpha_dropout", generator)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, *, generator=None):
    """Alpha dropout of whole channels (dim 1)."""
    return _alpha_dropout(input, p, training, inplace, True, "feature_alpha_dropout", generator)
