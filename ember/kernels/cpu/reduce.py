"""reduce kernels."""
import numpy as np

from ._util import norm_axes, np_dtype  # noqa: F401

__all__ = []

__all__ += ["sum_to_size"]


def sum_to_size(x, shape):
    """Sum ``x`` over the dims broadcasting added to reach its shape from ``shape``."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and x.shape[i + lead] != 1)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape)
