"""Elementwise kernels: arithmetic, math functions, comparisons, logic."""
import numpy as np

from . import _parallel
from ._parallel import split_ufunc
from ._util import np_dtype

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "cast",
           "eq", "ne", "lt", "le", "gt", "ge"]


def _split(a, b):
    """Whether ``a`` op ``b`` is a float loop big enough to split over threads (see _parallel).
    The first test is cheap and fails fast: most calls are on small arrays."""
    if a.__class__ is not np.ndarray or a.size < _parallel._min_split or a.dtype.kind != "f":
        return False
    return not isinstance(b, np.ndarray) or b.dtype == a.dtype


def add(a, b):
    return split_ufunc(np.add, a, b) if _split(a, b) else np.add(a, b)


def sub(a, b):
    return split_ufunc(np.subtract, a, b) if _split(a, b) else np.subtract(a, b)


def mul(a, b):
    return split_ufunc(np.multiply, a, b) if _split(a, b) else np.multiply(a, b)


def div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return split_ufunc(np.true_divide, a, b) if _split(a, b) else np.true_divide(a, b)


def neg(x):
    return np.negative(x)


def pow(a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if isinstance(b, np.ndarray) and b.dtype.kind in "iu" and np.asarray(a).dtype.kind in "iu":
            if (b < 0).any():
                raise ValueError("integers to negative integer powers are not allowed")
        return np.power(a, b)


def cast(x, dtype):
    return x.astype(np_dtype(dtype))


def eq(a, b):
    return np.equal(a, b)


def ne(a, b):
    return np.not_equal(a, b)


def lt(a, b):
    return np.less(a, b)


def le(a, b):
    return np.less_equal(a, b)


def gt(a, b):
    return np.greater(a, b)


def ge(a, b):
    return np.greater_equal(a, b)


# --- math functions -----------------------------------------------------------------
_LOW = (np.dtype(np.float16), np_dtype("bfloat16"))


def _up(x):
    """float16/bfloat16 computed in float32 and rounded once at the end, as PyTorch's opmath."""
    return x.astype(np.float32) if x.dtype in _LOW else x


def _int_copy(f):
    """Rounding functions leave integer and bool tensors unchanged (a copy, like PyTorch)."""
    def kernel(x):
        return x.copy() if x.dtype.kind in "biu" else f(x)
    kernel.__name__ = f.__name__
    return kernel


def _ufunc_kernel(name, f):
    # a Python frame in this module, so the kernels' warnings filter (kernels/cpu/__init__) applies
    def kernel(*args):
        return f(*args)
    kernel.__name__ = kernel.__qualname__ = name
    return kernel


def _ufunc_kernels():
    table = dict(abs=np.abs, sqrt=np.sqrt, square=np.square, exp=np.exp, exp2=np.exp2,
                 expm1=np.expm1, log=np.log, log2=np.log2, log10=np.log10, log1p=np.log1p,
                 sin=np.sin, cos=np.cos, tan=np.tan, asin=np.arcsin, acos=np.arccos, atan=np.arctan,
                 sinh=np.sinh, cosh=np.cosh, tanh=np.tanh, asinh=np.arcsinh, acosh=np.arccosh,
                 atanh=np.arctanh, bitwise_not=np.invert, logical_not=np.logical_not,
                 isnan=np.isnan, isinf=np.isinf, isfinite=np.isfinite, signbit=np.signbit,
                 floor=_int_copy(np.floor), ceil=_int_copy(np.ceil), trunc=_int_copy(np.trunc),
                 atan2=np.arctan2, hypot=np.hypot, logaddexp=np.logaddexp, logaddexp2=np.logaddexp2,
                 minimum=np.minimum, maximum=np.maximum, fmin=np.fmin, fmax=np.fmax,
                 logical_and=np.logical_and, logical_or=np.logical_or,
                 logical_xor=np.logical_xor, copysign=np.copysign)
    return {k: _ufunc_kernel(k, v) for k, v in table.items()}


_UFUNC_KERNELS = _ufunc_kernels()
globals().update(_UFUNC_KERNELS)
__all__ += list(_UFUNC_KERNELS)
__all__ += ["sign", "rsqrt", "reciprocal", "round", "frac", "sigmoid", "logit", "erf", "erfc",
            "erfinv", "remainder", "fmod", "floor_divide", "trunc_divide", "clamp", "where", "lerp",
            "addcmul", "addcdiv", "xlogy", "bitwise_and", "bitwise_or", "bitwise_xor",
            "isposinf", "isneginf", "nan_to_num", "isclose"]


def sign(x):
    if x.dtype.kind == "b":
        return x.copy()
    out = np.asarray(np.sign(x))
    if x.dtype.kind == "f" or x.dtype in _LOW:
        out[np.isnan(out)] = 0  # PyTorch: sign(nan) = 0
    return out


def rsqrt(x):
    return (1 / np.sqrt(_up(x))).astype(x.dtype, copy=False)


def reciprocal(x):
    return np.reciprocal(x)


def round(x, *, decimals=0):
    if x.dtype.kind in "biu":
        return x.copy()
    if decimals == 0:
        return np.rint(x)
    s = 10.0 ** abs(decimals)  # PyTorch's formula: scale, round half to even, unscale
    xu = _up(x)
    r = np.rint(xu * s) / s if decimals > 0 else np.rint(xu / s) * s
    return r.astype(x.dtype, copy=False)


def frac(x):
    if x.dtype.kind in "biu":
        raise TypeError(f"frac is not implemented for integer tensors ({x.dtype})")
    return x - np.trunc(x)


def sigmoid(x):
    return (1 / (1 + np.exp(-_up(x)))).astype(x.dtype, copy=False)


def logit(x, *, eps=None):
    xu = _up(x)
    if eps is not None:
        xu = np.minimum(np.maximum(xu, eps), 1 - eps)
    return np.log(xu / (1 - xu)).astype(x.dtype, copy=False)


# erf/erfc: W. J. Cody's rational Chebyshev approximations (Math. Comp. 1969, netlib
# specfun CALERF), accurate to float64 rounding; scipy is not a dependency.
_CODY_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
           3.20937758913846947e03, 1.85777706184603153e-1)
_CODY_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
           2.84423683343917062e03)
_CODY_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
           2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
           2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_CODY_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
           1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
           3.43936767414372164e03, 1.23033935480374942e03)
_CODY_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
           1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_CODY_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
           6.05183413124413191e-2, 2.33520497626869185e-3)
_SQRPI = 0.56418958354775628695  # 1/sqrt(pi)


def _ratio(z, num, den, n):
    """Cody's Horner loop, in place: (((num[n] z + num[0]) z + ...) z + num[n-1]) / ((z + den[0]) z ... + den[n-1])."""
    xnum, xden = z * num[n], z.copy()
    for i in range(n - 1):
        xnum += num[i]
        xnum *= z
        xden += den[i]
        xden *= z
    xnum += num[n - 1]
    xden += den[n - 1]
    xnum /= xden
    return xnum


def _erf_cody(x, complement=False):
    """erf(x), or erfc(x), of a float64 array to rounding; each of Cody's three ranges is
    evaluated only on its own elements."""
    y = np.abs(x)
    out = np.empty_like(x)
    small = y <= 0.46875
    if small.any():
        xs = x[small]
        r = _ratio(xs * xs, _CODY_A, _CODY_B, 4)
        r *= xs
        out[small] = 1 - r if complement else r
    big = ~small  # includes nan
    if not big.any():
        return out
    yb = y[big]
    mid = yb <= 4.0
    if mid.all():
        r = _ratio(yb, _CODY_C, _CODY_D, 8)  # erfc(|x|)
    else:
        r = np.empty_like(yb)
        r[mid] = _ratio(yb[mid], _CODY_C, _CODY_D, 8)
        yt = yb[~mid]
        z = 1 / (yt * yt)
        rt = _ratio(z, _CODY_P, _CODY_Q, 5)
        rt *= z
        r[~mid] = (_SQRPI - rt) / yt
    hi = np.trunc(yb * 16)  # exp(-y*y) = exp(-hi*hi) exp(-(y-hi)(y+hi)), hi*hi exact
    hi /= 16
    lo = yb - hi
    lo *= yb + hi
    hi *= hi
    r *= np.exp(np.negative(hi, out=hi), out=hi)
    r *= np.exp(np.negative(lo, out=lo), out=lo)
    if not mid.all():
        r[yb >= 26.543] = 0.0  # erfc underflows (and inf - inf above would be nan)
    xb = x[big]
    if complement:
        out[big] = np.where(xb < 0, 2 - r, r)
    else:
        np.subtract(0.5, r, out=r)
        r += 0.5
        out[big] = np.copysign(r, xb, out=r)
    return out


# float32 (also for float16/bfloat16): Numerical Recipes' erfcc, one Chebyshev-fitted formula with
# fractional error < 1.2e-7 everywhere -- branch-free, as masked NumPy code is slow.
_NR = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
       1.48851587, -0.82215223, 0.17087277)


def _erfc_abs32(y):
    """erfc(y) of a float32 array y >= 0."""
    y = np.minimum(y, 10.5)  # erfc underflows float32 beyond; keeps inf out of inf - inf
    t = y * 0.5
    t += 1
    np.reciprocal(t, out=t)
    p = t * _NR[9]
    for c in _NR[8:0:-1]:
        p += c
        p *= t
    p += _NR[0]
    hi = np.trunc(y * 16)  # y*y = hi*hi + lo with hi*hi exact, for an accurate exp(-y*y)
    hi /= 16
    lo = y - hi
    lo *= y + hi
    p -= lo
    hi *= hi
    np.negative(hi, out=hi)
    p = np.exp(p, out=p)
    p *= np.exp(hi, out=hi)
    p *= t
    return p


def _erf(x, complement=False):
    """erf(x), or erfc(x), computed in x's dtype: float64 (Cody) or float32 (erfcc)."""
    if x.ndim == 0:  # ufuncs return scalars for 0-d arrays, which `out=` cannot take
        return _erf(x.reshape(1), complement).reshape(())
    if x.dtype == np.float64:
        return _erf_cody(x, complement)
    r = _erfc_abs32(np.abs(x))
    if complement:  # erfc(x) = 2 - erfc(-x) for x < 0, blended arithmetically (no masks)
        flip = np.signbit(x).astype(np.float32)
        flip *= 2 - 2 * r
        r += flip
        return r
    np.subtract(1, r, out=r)
    np.copysign(r, x, out=r)
    # near 0, 1 - erfc loses erf's relative accuracy: Cody's small-range approximation there
    xs = np.minimum(np.maximum(x, -0.46875), 0.46875)
    small = _ratio(xs * xs, _CODY_A, _CODY_B, 4)
    small *= xs
    inside = np.abs(x) <= 0.46875
    small *= inside
    r *= ~inside
    r += small
    return r


def _opmath(x):
    """float32 for float16/bfloat16 (and float32) inputs, else float64: the dtype to compute in."""
    return x.astype(np.float32) if x.dtype in _LOW else x


def erf(x):
    return _erf(_opmath(x)).astype(x.dtype, copy=False)


def erfc(x):
    return _erf(_opmath(x), complement=True).astype(x.dtype, copy=False)


def erfinv(x):
    """PyTorch's rational first guess, then Newton steps: on erf in the centre (two, as
    PyTorch), on erfc in the tails (three), where erf(x) - y would cancel."""
    y = x.astype(np.float64)
    a = np.abs(y)
    out = np.full_like(y, np.nan)  # |y| > 1 and nan stay nan
    c = a <= 0.7
    if c.any():
        yc = y[c]
        z = yc * yc
        r = yc * (((-0.140543331 * z + 0.914624893) * z - 1.645349621) * z + 0.886226899) / \
            ((((0.012229801 * z - 0.329097515) * z + 1.442710462) * z - 2.118377725) * z + 1.0)
        for _ in range(2):
            r -= (_erf(r) - yc) / (2 * _SQRPI * np.exp(-r * r))
        out[c] = r
    t = (a > 0.7) & (a < 1.0)
    if t.any():
        q = 1.0 - a[t]  # exact
        s = np.sqrt(-np.log(q / 2.0))
        r = (((1.641345311 * s + 3.429567803) * s - 1.624906493) * s - 1.970840454) / \
            ((1.637067800 * s + 3.543889200) * s + 1.0)
        for _ in range(3):
            r += (_erf(r, complement=True) - q) / (2 * _SQRPI * np.exp(-r * r))
        out[t] = np.copysign(r, y[t])
    one = a == 1.0
    out[one] = np.copysign(np.inf, y[one])
    return out.astype(x.dtype, copy=False)


def _check_int_div(b, name):
    if isinstance(b, np.ndarray) and b.dtype.kind in "iu" and not b.all() \
            or isinstance(b, (int, np.integer)) and b == 0:
        raise RuntimeError(f"ember.{name}: ZeroDivisionError (integer division by zero)")


def remainder(a, b):
    _check_int_div(b, "remainder")
    return np.remainder(a, b)


def fmod(a, b):
    _check_int_div(b, "fmod")
    return np.fmod(a, b)


def floor_divide(a, b):
    _check_int_div(b, "floor_divide")
    return np.floor_divide(a, b)


def trunc_divide(a, b):
    _check_int_div(b, "div")
    if np.result_type(a, b).kind in "biu":
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0)))
    return np.trunc(np.true_divide(a, b))


def clamp(x, lo, hi):
    """min(max(x, lo), hi), nan-propagating; lo/hi None for no bound."""
    out = x if lo is None else np.maximum(x, lo)
    out = out if hi is None else np.minimum(out, hi)
    return out.astype(x.dtype, copy=False) if out is not x else out.copy()


def where(cond, a, b, *, dtype):
    d = np_dtype(dtype)  # cast first: NumPy has no common type for e.g. int16 and bfloat16
    a = a.astype(d, copy=False) if isinstance(a, np.ndarray) else np.asarray(a, d)
    b = b.astype(d, copy=False) if isinstance(b, np.ndarray) else np.asarray(b, d)
    return select(cond, a, b)


# np.where mispredicts a branch per element on irregular masks (~10x slower than arithmetic):
# these select through integer views instead, bit-exact (nan, inf and -0 included)
_SIGNED = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}


def zero_where(x, drop):
    """``x`` with 0 where the bool array ``drop`` is true. ``drop`` must be a fresh array (it is
    overwritten): ``x & (drop - 1)`` on integer views, the uint8 mask sign-extended by the ufunc."""
    it = _SIGNED.get(x.dtype.itemsize)
    if it is None:
        return np.where(drop, np.zeros((), x.dtype), x)
    m = np.asarray(drop).view(np.uint8)
    m -= 1  # True -> 0, False -> 0xff (int8 -1)
    return np.bitwise_and(x.view(it), m.view(np.int8)).view(x.dtype)


def keep_where(x, keep):
    """``x`` where the bool array ``keep`` is true, else 0; ``keep`` must be fresh (overwritten)."""
    it = _SIGNED.get(x.dtype.itemsize)
    if it is None:
        return np.where(keep, x, np.zeros((), x.dtype))
    m = np.asarray(keep).view(np.int8)
    np.negative(m, out=m)  # True -> -1 (all bits), False -> 0
    return np.bitwise_and(x.view(it), m).view(x.dtype)


def select(keep, a, b):
    """``np.where(keep, a, b)`` for arrays ``a``, ``b`` of one dtype: ``b ^ ((a ^ b) & -keep)``."""
    it = _SIGNED.get(a.dtype.itemsize)
    if it is None or keep.dtype != np.bool_ or max(keep.size, a.size, b.size) < 2048:  # small: np.where
        return np.where(keep, a, b)
    m = np.negative(np.asarray(keep).view(np.int8))  # True -> -1 (all bits), False -> 0
    bi = b.view(it)
    r = np.bitwise_xor(a.view(it), bi)
    r = np.bitwise_and(r, m, out=r if r.shape == m.shape else None)
    return np.bitwise_xor(r, bi, out=r).view(a.dtype)


def lerp(a, b, w):
    # PyTorch's two-sided formula, exact at both ends
    return np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w)).astype(a.dtype, copy=False)


def addcmul(x, t1, t2, *, value=1):
    return (x + value * t1 * t2).astype(np.result_type(x, t1, t2), copy=False)


def addcdiv(x, t1, t2, *, value=1):
    return (x + value * t1 / t2).astype(np.result_type(x, t1, t2), copy=False)


def xlogy(x, y):
    out = np.where(x == 0, 0, x * np.log(y))
    return np.where(np.isnan(y), np.nan, out).astype(np.result_type(x, y), copy=False)


def _bitwise(f, name):
    def kernel(a, b):
        for v in (a, b):
            if isinstance(v, np.ndarray) and v.dtype.kind not in "biu" or isinstance(v, float):
                raise TypeError(f"ember.{name}: expected integer or bool tensors, got {np.result_type(v)}")
        return f(a, b)
    kernel.__name__ = name
    return kernel


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def isposinf(x):
    return np.isposinf(x) if x.dtype.kind == "f" or x.dtype in _LOW else np.zeros(x.shape, bool)


def isneginf(x):
    return np.isneginf(x) if x.dtype.kind == "f" or x.dtype in _LOW else np.zeros(x.shape, bool)


def nan_to_num(x, *, nan=0.0, posinf=None, neginf=None):
    if x.dtype.kind in "biu":
        return x.copy()
    info = np.finfo(x.dtype) if x.dtype.kind == "f" else __import__("ml_dtypes").finfo(x.dtype)
    with np.errstate(all="ignore"):
        out = np.where(np.isnan(x), x.dtype.type(nan), x)
        out = np.where(np.isposinf(x), x.dtype.type(info.max if posinf is None else posinf), out)
        return np.where(np.isneginf(x), x.dtype.type(info.min if neginf is None else neginf), out)


def isclose(a, b, *, rtol, atol, equal_nan):
    if a.dtype.kind == "b":
        return np.equal(a, b)
    with np.errstate(all="ignore"):
        au, bu = _up(a), _up(b)
        return np.isclose(au, bu, rtol=rtol, atol=atol, equal_nan=equal_nan)
