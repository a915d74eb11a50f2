"""The one numba decorator every fused loop uses.

``error_model="numpy"``: division by zero gives inf/nan as in NumPy and PyTorch, and,
unlike the default Python error model, lets LLVM vectorize loops that divide.
``fastmath`` stays off: results must round like the NumPy code they replace.
"""
import functools

import numba

njit = functools.partial(numba.njit, cache=True, nogil=True, error_model="numpy")
