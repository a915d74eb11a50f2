"""Elementwise kernels: arithmetic, math functions, comparisons, logic."""
import numpy as np

from ._util import np_dtype

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "cast",
           "eq", "ne", "lt", "le", "gt", "ge"]


def add(a, b):
    return np.add(a, b)


def sub(a, b):
    return np.subtract(a, b)


def mul(a, b):
    return np.multiply(a, b)


def div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(a, b)


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
