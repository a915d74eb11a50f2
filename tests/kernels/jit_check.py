"""Compare a kernel's fused (numba) path with its NumPy fallback on the same inputs.

The op tests check the fused path against PyTorch (it is the default); these checks keep
the NumPy fallback (lite runtime, no numba, ``EMBER_JIT=0``) computing the same thing.
"""
import os

import numpy as np
import pytest

from ember.kernels.cpu import KERNELS, jit

needs_numba = pytest.mark.skipif(not jit.available() or os.environ.get("EMBER_JIT") == "0",
                                 reason="fused loops unavailable (numba not installed, or EMBER_JIT=0)")


def _copy(a):
    return a.copy(order="K") if isinstance(a, np.ndarray) else a


def both_paths(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with the fused loops, then with them disabled (on fresh copies of
    the array arguments, so in-place kernels see the same inputs); returns (fused, numpy)."""
    fused = fn(*[_copy(a) for a in args], **kwargs)
    with jit.disabled():
        plain = fn(*[_copy(a) for a in args], **kwargs)
    return fused, plain


def assert_same(fused, plain, rtol=1e-6, atol=1e-6, exact=False):
    """Outputs (arrays or tuples of arrays) agree in dtype, shape and value."""
    if isinstance(plain, (tuple, list)):
        assert isinstance(fused, (tuple, list)) and len(fused) == len(plain)
        for f, p in zip(fused, plain):
            assert_same(f, p, rtol, atol, exact)
        return
    if plain is None:
        assert fused is None
        return
    fused, plain = np.asarray(fused), np.asarray(plain)
    assert fused.dtype == plain.dtype and fused.shape == plain.shape
    if exact:
        np.testing.assert_array_equal(fused, plain)
    else:
        np.testing.assert_allclose(fused, plain, rtol=rtol, atol=atol)


def check_kernel(name, *args, rtol=1e-6, atol=1e-6, exact=False, **attrs):
    """The registered kernel ``name`` computes the same with and without its fused loops."""
    fused, plain = both_paths(KERNELS[name], *args, **attrs)
    assert_same(fused, plain, rtol, atol, exact)
    return fused
