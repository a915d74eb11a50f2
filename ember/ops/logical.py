"""Logical and bitwise ops, closeness tests, and the remaining Python operators
(``// % abs & | ^ ~``). Part of the elementwise family (kernels in kernels/cpu/elementwise.py)."""
from . import registry as R
from .define import inplace
from .registry import register, export, METHODS, FUNCTIONS, OPS


def _binary(name, promote):
    op = register(name, promote=promote, fusion="elementwise")

    def fn(input, other):
        return R.apply(op, input, other)
    fn.__name__ = fn.__qualname__ = name
    FUNCTIONS[name] = METHODS[name] = fn
    METHODS[name + "_"] = inplace(fn, name + "_")
    return fn


# logical ops take any dtypes (nonzero is True); bitwise ops promote integers/bools
logical_and, logical_or, logical_xor = (_binary(n, None) for n in ("logical_and", "logical_or", "logical_xor"))
bitwise_and, bitwise_or, bitwise_xor = (_binary(n, "common") for n in ("bitwise_and", "bitwise_or", "bitwise_xor"))
LOGICAL_NOT = register("logical_not", fusion="elementwise")
BITWISE_NOT = register("bitwise_not", fusion="elementwise")


@export(method=True)
def logical_not(input):
    return R.apply(LOGICAL_NOT, input)


@export(method=True)
def bitwise_not(input):
    if input.is_floating_point():
        raise TypeError(f"ember.bitwise_not: expected an integer or bool tensor, got {input.dtype}")
    return R.apply(BITWISE_NOT, input)


METHODS.update(logical_not_=inplace(logical_not, "logical_not_"), bitwise_not_=inplace(bitwise_not, "bitwise_not_"))

ISCLOSE = register("isclose", fusion="elementwise")


@export(method=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|`` elementwise (infinities equal themselves)."""
    if input.dtype is not other.dtype:
        raise RuntimeError(f"ember.isclose: expected both inputs to have the same dtype, got "
                           f"{input.dtype} and {other.dtype}")
    return R.apply(ISCLOSE, input, other, rtol=float(rtol), atol=float(atol), equal_nan=bool(equal_nan))


@export(method=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).numpy().all())


@export(method=True)
def equal(input, other):
    """True if both tensors have the same shape and elements."""
    return tuple(input.shape) == tuple(other.shape) and bool(R.call("eq", input, other).numpy().all())


# --- Python operators --------------------------------------------------------------------
def _op(name):
    return FUNCTIONS[name]


def _inplace_op(name):
    return lambda self, other: R.commit_inplace(self, FUNCTIONS[name](self, other), name + "_")


def _reflected(name):
    return lambda self, other: FUNCTIONS[name](other, self)


METHODS.update({
    "__floordiv__": lambda self, other: R.apply(OPS["floor_divide"], self, other),
    "__rfloordiv__": _reflected("floor_divide"), "__ifloordiv__": _inplace_op("floor_divide"),
    "__mod__": lambda self, other: R.apply(OPS["remainder"], self, other),
    "__rmod__": _reflected("remainder"), "__imod__": _inplace_op("remainder"),
    "__abs__": lambda self: R.apply(OPS["abs"], self),
    "__and__": bitwise_and, "__rand__": _reflected("bitwise_and"), "__iand__": _inplace_op("bitwise_and"),
    "__or__": bitwise_or, "__ror__": _reflected("bitwise_or"), "__ior__": _inplace_op("bitwise_or"),
    "__xor__": bitwise_xor, "__rxor__": _reflected("bitwise_xor"), "__ixor__": _inplace_op("bitwise_xor"),
    "__invert__": bitwise_not,
})
