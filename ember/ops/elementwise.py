"""Elementwise ops: arithmetic, math functions, comparisons, logic.

Binary ops broadcast like NumPy and promote dtypes like PyTorch (``promote``);
the engine sums each gradient back to its input's shape, so the rules below are
the textbook derivatives.
"""
from . import registry as R
from .define import inplace, unary  # noqa: F401
from .registry import register, export, METHODS, FUNCTIONS, call

# --- arithmetic -----------------------------------------------------------------
ADD = register("add", lambda ctx, g: (g, g), promote="common", save="", fusion="elementwise")
SUB = register("sub", lambda ctx, g: (g, -g), promote="common", save="", fusion="elementwise")
MUL = register("mul", lambda ctx, g: (g * ctx.inputs[1] if ctx.needs(0) else None,
                                      g * ctx.inputs[0] if ctx.needs(1) else None),
               promote="common", fusion="elementwise")


def _div_backward(ctx, g):
    a, b = ctx.inputs
    ga = g / b if ctx.needs(0) else None
    gb = -g * a / (b * b) if ctx.needs(1) else None
    return ga, gb


DIV = register("div", _div_backward, promote="float", fusion="elementwise")
NEG = register("neg", lambda ctx, g: -g, promote="common", save="", fusion="elementwise")


def _pow_backward(ctx, g):
    a, b = ctx.inputs
    ga = g * b * a ** (b - 1) if ctx.needs(0) else None
    gb = g * ctx.out * call("log", a) if ctx.needs(1) else None
    return ga, gb


POW = register("pow", _pow_backward, promote="common", save="io", fusion="elementwise")
CAST = register("cast", lambda ctx, g: g, save="", fusion="elementwise")


@export(method=True)
def add(input, other, *, alpha=1):
    """``input + alpha * other``."""
    if alpha != 1:
        other = R.apply(MUL, other, alpha)
    return R.apply(ADD, input, other)


@export(method=True)
def sub(input, other, *, alpha=1):
    """``input - alpha * other``."""
    if alpha != 1:
        other = R.apply(MUL, other, alpha)
    return R.apply(SUB, input, other)


@export(method=True)
def mul(input, other):
    return R.apply(MUL, input, other)


@export(method=True)
def div(input, other, *, rounding_mode=None):
    """True division; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient."""
    if rounding_mode is None:
        return R.apply(DIV, input, other)
    if rounding_mode == "floor":
        return FUNCTIONS["floor_divide"](input, other)
    if rounding_mode == "trunc":
        return FUNCTIONS["trunc_divide"](input, other)
    raise ValueError(f"ember.div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


@export(method=True)
def neg(input):
    return R.apply(NEG, input)


@export(method=True)
def pow(input, exponent):
    return R.apply(POW, input, exponent)


def cast(input, dtype):
    """``input`` converted to ``dtype`` (an ember dtype); differentiable for floats."""
    return R.apply(CAST, input, dtype=dtype.name)


FUNCTIONS["cast"] = cast
subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg
for _alias, _fn in (("subtract", sub), ("multiply", mul), ("divide", div), ("true_divide", div),
                    ("negative", neg)):
    FUNCTIONS[_alias] = METHODS[_alias] = _fn

for _name, _fn in (("add", add), ("sub", sub), ("mul", mul), ("div", div), ("neg", neg),
                   ("pow", pow)):
    METHODS[_name + "_"] = inplace(_fn, _name + "_")


# --- comparisons ------------------------------------------------------------------
def _comparison(name):
    op = register(name, promote="common", fusion="elementwise")

    def fn(input, other):
        return R.apply(op, input, other)
    fn.__name__ = name
    FUNCTIONS[name] = METHODS[name] = fn
    return fn


eq, ne, lt, le, gt, ge = (_comparison(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
for _alias, _fn in (("greater", gt), ("greater_equal", ge), ("less", lt), ("less_equal", le),
                    ("not_equal", ne)):
    FUNCTIONS[_alias] = METHODS[_alias] = _fn


# --- Python operators ---------------------------------------------------------------
def _rsub(self, other):
    return R.apply(SUB, other, self)


def _rdiv(self, other):
    return R.apply(DIV, other, self)


def _rpow(self, other):
    return R.apply(POW, other, self)


METHODS.update({
    "__add__": lambda self, other: R.apply(ADD, self, other),
    "__radd__": lambda self, other: R.apply(ADD, other, self),
    "__sub__": lambda self, other: R.apply(SUB, self, other),
    "__rsub__": _rsub,
    "__mul__": lambda self, other: R.apply(MUL, self, other),
    "__rmul__": lambda self, other: R.apply(MUL, other, self),
    "__truediv__": lambda self, other: R.apply(DIV, self, other),
    "__rtruediv__": _rdiv,
    "__pow__": lambda self, other: R.apply(POW, self, other),
    "__rpow__": _rpow,
    "__neg__": lambda self: R.apply(NEG, self),
    "__pos__": lambda self: self,
    "__iadd__": lambda self, other: R.commit_inplace(self, R.apply(ADD, self, other), "add_"),
    "__isub__": lambda self, other: R.commit_inplace(self, R.apply(SUB, self, other), "sub_"),
    "__imul__": lambda self, other: R.commit_inplace(self, R.apply(MUL, self, other), "mul_"),
    "__itruediv__": lambda self, other: R.commit_inplace(self, R.apply(DIV, self, other), "div_"),
    "__ipow__": lambda self, other: R.commit_inplace(self, R.apply(POW, self, other), "pow_"),
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
})
