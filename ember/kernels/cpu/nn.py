"""nn kernels: linear, dropout, embedding."""
import numpy as np

from ._util import norm_axes, np_dtype  # noqa: F401

__all__ = ["linear"]


def linear(x, w, b=None):
    """``x @ w.T (+ b)`` over the last dim; leading dims folded into one GEMM."""
    if x.ndim > 2:
        out = np.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
    else:
        out = np.matmul(x, w.T)
    if b is not None:
        out += b
    return out
