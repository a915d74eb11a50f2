"""pool kernels."""
import numpy as np

from ._util import norm_axes, np_dtype  # noqa: F401

__all__ = []
