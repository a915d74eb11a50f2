"""Array-level kernels, one module per backend. Only NumPy (and CuPy for CUDA)."""
from . import cpu  # noqa: F401
