"""Row primitives the row-wise loops (norm, softmax, loss) share: sums, a max, and an exp
that LLVM vectorizes.

Without fastmath a float sum is one dependent chain of adds, 4x slower than NumPy's SIMD
sums. The sums here carry ``fastmath={"reassoc"}`` and nothing else: LLVM may then keep
several partial sums in vector lanes, a summation order like NumPy's own (einsum and
``np.sum`` add in SIMD lanes or pairwise, never one element at a time). The flag stays on
these instructions when LLVM inlines them into a caller compiled without it.

``exp`` is a polynomial (< 1 ulp) instead of a call to libm, which LLVM cannot vectorize
(libm's expf in a loop: 5x slower than NumPy's SIMD exp; this float32 exp: 0.8x its time,
the float64 one 1.3x).

numba's on-disk cache does not notice an edit of this file in the cached loops that call
it (it checks only each loop's own file); ``jit.kernels`` bumps the callers' file times
when this file is newer, so they recompile.
"""
import math

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic, overload

from ._njit import njit


@njit(fastmath={"reassoc"})
def row_sum(a):
    """Sum of a 1-d array."""
    s = a.dtype.type(0)
    for j in range(a.size):
        s += a[j]
    return s


@njit(fastmath={"reassoc"})
def row_dot(a, b):
    """Sum of ``a * b`` (1-d arrays of one length)."""
    s = a.dtype.type(0)
    for j in range(a.size):
        s += a[j] * b[j]
    return s


@njit(fastmath={"reassoc"})
def row_sq_dev(a, c):
    """Sum of ``(a - c)**2``: a variance's numerator around the mean ``c``."""
    s = a.dtype.type(0)
    for j in range(a.size):
        d = a[j] - c
        s += d * d
    return s


@intrinsic
def _maxnum(typingctx, a, b):
    """LLVM's maxnum: the larger of two floats, the other one if one is nan. Unlike ``max`` or a
    compare-and-select, LLVM vectorizes its reductions without fastmath."""
    def codegen(context, builder, sig, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic("llvm.maxnum", [t], ir.FunctionType(t, [t, t]))
        return builder.call(fn, args)
    return a(a, a), codegen


@njit
def row_max(a):
    """Maximum of a non-empty 1-d array, nans skipped (every caller then sums ``exp(a - max)``
    over the row, which a nan element makes nan anyway)."""
    m = a[0]
    for j in range(a.size):  # (from 1, LLVM does not vectorize it: 4x slower)
        m = _maxnum(m, a[j])
    return m


# --- exp ----------------------------------------------------------------------------------------
_INT_OF = {types.float32: types.int32, types.float64: types.int64}
_FLOAT_OF = {v: k for k, v in _INT_OF.items()}


@intrinsic
def _bits(typingctx, f):
    """The bit pattern of the float32/64 ``f``, as an int32/64."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(sig.return_type))
    return _INT_OF[f](f), codegen


@intrinsic
def _from_bits(typingctx, i):
    """The float32/64 whose bit pattern is the int32/64 ``i``."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(sig.return_type))
    return _FLOAT_OF[i](i), codegen


# exp(x) = 2**n exp(r), n = round(x / ln 2), r = x - n ln 2 (ln 2 in two parts, the first exact
# times any n) in [-ln2/2, ln2/2]: exp(r) is a polynomial, here times 2 (its coefficients
# doubled: exact), and the result is that times 2**(n - 1): n goes to 128 just below FLT_MAX, one
# past the largest exponent. x + 1.5 * 2**(mantissa bits) rounds x to the integer n held in the
# low mantissa bits, so those bits shifted to the exponent field are n's. Arguments clamp to
# [log(2**-125.5), just above log(FLT_MAX)]: above, 2**(n - 1) times the polynomial overflows to
# inf; below, the result is set to 0 (subnormals cost a ~100-cycle microcode assist per vector
# lane, and masked attention rows are full of exp(-inf)). FMA ("contract") in the polynomial:
# fewer instructions, no less accurate.
_F, _D = np.float32, np.float64
_ROUND_F, _ROUND_D = _F(1.5 * 2**23), _D(1.5 * 2**52)
_LOW_F, _HIGH_F = _F(-125.5 * math.log(2)), _F(89.0)
_LOW_D, _HIGH_D = _D(-1021.5 * math.log(2)), _D(710.0)


@njit(fastmath={"contract"})
def _exp_float32(x):
    """exp of a float32 (< 1 ulp): Cephes' expf polynomial (degree 7)."""
    xc = min(max(x, _LOW_F), _HIGH_F)
    t = xc * _F(1.44269504088896341) + _ROUND_F
    n = t - _ROUND_F
    r = xc - n * _F(0.693359375)
    r = r - n * _F(-2.12194440e-4)
    p = _F(2 * 1.9875691500e-4)
    p = p * r + _F(2 * 1.3981999507e-3)
    p = p * r + _F(2 * 8.3334519073e-3)
    p = p * r + _F(2 * 4.1665795894e-2)
    p = p * r + _F(2 * 1.6666665459e-1)
    p = p * r + _F(2 * 5.0000001201e-1)
    p = p * (r * r) + (r + r) + _F(2.0)
    y = p * _from_bits(np.int32((_bits(t) << 23) + (126 << 23)))
    if x < _LOW_F:
        y = _F(0.0)
    if x != x:
        y = x
    return y


# 2/k! for k = 13 .. 0: the Taylor polynomial of degree 13 is within 1e-17 of exp on [-ln2/2, ln2/2]
_TAYLOR_D = tuple(_D(2 / math.factorial(k)) for k in range(13, -1, -1))


@njit(fastmath={"contract"})
def _exp_float64(x):
    """exp of a float64 (~1 ulp): fdlibm's split of ln 2, a degree-13 Taylor polynomial."""
    xc = min(max(x, _LOW_D), _HIGH_D)
    t = xc * _D(1.4426950408889634) + _ROUND_D
    n = t - _ROUND_D
    r = xc - n * _D(6.93147180369123816490e-01)
    r = r - n * _D(1.90821492927058770002e-10)
    p = _D(0.0)
    for c in _TAYLOR_D:
        p = p * r + c
    y = p * _from_bits((_bits(t) << 52) + (1022 << 52))
    if x < _LOW_D:
        y = _D(0.0)
    if x != x:
        y = x
    return y


def exp(x):
    """exp of a float32 or float64 scalar, in compiled code only."""
    raise NotImplementedError


@overload(exp)
def _exp_overload(x):
    return (lambda x: _exp_float32(x)) if x == types.float32 else (lambda x: _exp_float64(x))
