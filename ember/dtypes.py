"""Ember's dtypes and PyTorch's type-promotion rules.

A dtype is a small object (``ember.float32``) wrapping a NumPy dtype; tensors
store NumPy arrays, so ``Tensor.dtype`` is a dict lookup from the array's dtype.
bfloat16 comes from ml_dtypes.
"""
from __future__ import annotations

import builtins as _builtins

import numpy as np
import ml_dtypes

# the PyTorch aliases below shadow float/int in this module
_pyfloat, _pyint = _builtins.float, _builtins.int


class dtype:
    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == 2
        self.is_signed = name not in ("uint8", "bool")
        # 0 bool, 1 integer, 2 floating: PyTorch promotes across categories upward
        self.category = category

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):  # dtypes are singletons
        return (_by_name, (self.name,))

    def to_real(self):
        return self


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
FLOATS = (float16, bfloat16, float32, float64)
# PyTorch's aliases
half, float, double, short, int, long = float16, float32, float64, int16, int32, int64

_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)


def _by_name(name):
    return _BY_NAME[name]


_default = float32


def get_default_dtype():
    return _default


def set_default_dtype(d):
    global _default
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"ember.set_default_dtype: only floating-point dtypes are allowed, got {d}")
    _default = d


def from_numpy_dtype(npd):
    """The ember dtype of a NumPy dtype; raises for dtypes Ember does not support."""
    try:
        return _BY_NP[npd]
    except KeyError:
        raise TypeError(f"ember: NumPy dtype {np.dtype(npd)} is not supported "
                        f"(supported: {', '.join(d.name for d in ALL)})") from None


def to_dtype(d):
    """Accept an ember dtype, a NumPy dtype/type, a name, or a Python type."""
    if d.__class__ is dtype:
        return d
    if d is bool:
        return bool_
    if d is _pyfloat:
        return _default
    if d is _pyint:
        return int64
    if isinstance(d, str):
        if d in _BY_NAME:
            return _BY_NAME[d]
        raise TypeError(f"ember: unknown dtype name {d!r}")
    try:
        return from_numpy_dtype(np.dtype(d))
    except TypeError:
        raise
    except Exception:
        raise TypeError(f"ember: cannot interpret {d!r} as a dtype") from None



def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.category == 2 or lo.category == 0:
            return hi  # int + float -> the float; bool + int -> the int
    if a.category == 2:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a.itemsize > b.itemsize else b
    return _BY_NP[np.promote_types(a.np, b.np)]  # ints: uint8+int8 -> int16, as torch


PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL for b in ALL}


def promote_types(a, b):
    return PROMOTE[to_dtype(a), to_dtype(b)]


def _combine(higher, lower):
    # c10's combine_categories: a lower-priority operand only matters if it is of
    # a higher category (e.g. a float scalar joining an int tensor).
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == 2:
        return higher
    if higher is bool_ or lower.category == 2:
        return PROMOTE[higher, lower]
    return higher


def scalar_dtype(v):
    """The dtype PyTorch gives a Python number taking part in an op."""
    if v.__class__ is _builtins.bool or isinstance(v, np.bool_):
        return bool_
    if isinstance(v, (_pyint, np.integer)):
        return int64
    if isinstance(v, (_pyfloat, np.floating)):
        return _default
    raise TypeError(f"ember: expected a number, got {type(v).__name__}")


def result_type(*operands):
    """PyTorch's result_type over tensors (dimensioned, then 0-d) and Python scalars."""
    dim = zero = wrapped = None
    for x in operands:
        if x is None:
            continue
        data = getattr(x, "_data", None)
        if data is not None:
            d = _BY_NP[data.dtype]
            if data.ndim:
                dim = d if dim is None else PROMOTE[dim, d]
            else:
                zero = d if zero is None else PROMOTE[zero, d]
        else:
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else PROMOTE[wrapped, d]
    return _combine(dim, _combine(zero, wrapped))
