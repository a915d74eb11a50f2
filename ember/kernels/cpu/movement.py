"""movement kernels."""
import numpy as np

from ._util import norm_axes, np_dtype  # noqa: F401

__all__ = []

__all__ += ["expand"]


def expand(x, shape):
    """Broadcast ``x`` to ``shape`` (a read-only view); -1 keeps a dim."""
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return np.broadcast_to(x, shape)
