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


# --- math functions -----------------------------------------------------------------
import math as _math  # noqa: E402

from .. import dtypes as _dt  # noqa: E402

_LN2, _LN10 = _math.log(2.0), _math.log(10.0)
_TWO_OVER_SQRTPI, _SQRTPI_OVER_TWO = 2 / _math.sqrt(_math.pi), _math.sqrt(_math.pi) / 2


def _zeros(ctx, g, i=0):
    return FUNCTIONS["zeros"](ctx.shapes[i], dtype=g.dtype) if ctx.needs(i) else None


def _zero_grad(ctx, g):
    """PyTorch's gradient of piecewise-constant ops (sign, floor, round ...): zeros."""
    return tuple(_zeros(ctx, g, i) for i in range(len(ctx.shapes)))


def _x(ctx):
    return ctx.inputs[0]


# name: (backward rule, save, promote); "o" rules read the output, "i" rules the input
_UNARY = {
    "abs": (lambda c, g: g * sign(_x(c)), "i", "common"),
    "sign": (_zero_grad, "", "common"),
    "sqrt": (lambda c, g: g / (2 * c.out), "o", "float"),
    "rsqrt": (lambda c, g: g * c.out ** 3 * -0.5, "o", "float"),
    "square": (lambda c, g: g * _x(c) * 2, "i", "common"),
    "reciprocal": (lambda c, g: -g * c.out * c.out, "o", "float"),
    "exp": (lambda c, g: g * c.out, "o", "float"),
    "exp2": (lambda c, g: g * c.out * _LN2, "o", "float"),
    "expm1": (lambda c, g: g * (c.out + 1), "o", "float"),
    "log": (lambda c, g: g / _x(c), "i", "float"),
    "log2": (lambda c, g: g / (_x(c) * _LN2), "i", "float"),
    "log10": (lambda c, g: g / (_x(c) * _LN10), "i", "float"),
    "log1p": (lambda c, g: g / (_x(c) + 1), "i", "float"),
    "sin": (lambda c, g: g * cos(_x(c)), "i", "float"),
    "cos": (lambda c, g: -g * sin(_x(c)), "i", "float"),
    "tan": (lambda c, g: g * (c.out * c.out + 1), "o", "float"),
    "asin": (lambda c, g: g * rsqrt(1 - _x(c) * _x(c)), "i", "float"),
    "acos": (lambda c, g: -g * rsqrt(1 - _x(c) * _x(c)), "i", "float"),
    "atan": (lambda c, g: g / (_x(c) * _x(c) + 1), "i", "float"),
    "sinh": (lambda c, g: g * cosh(_x(c)), "i", "float"),
    "cosh": (lambda c, g: g * sinh(_x(c)), "i", "float"),
    "tanh": (lambda c, g: g * (1 - c.out * c.out), "o", "float"),
    "asinh": (lambda c, g: g * rsqrt(_x(c) * _x(c) + 1), "i", "float"),
    "acosh": (lambda c, g: g * rsqrt(_x(c) * _x(c) - 1), "i", "float"),
    "atanh": (lambda c, g: g / (1 - _x(c) * _x(c)), "i", "float"),
    "floor": (_zero_grad, "", "common"),
    "ceil": (_zero_grad, "", "common"),
    "trunc": (_zero_grad, "", "common"),
    "frac": (lambda c, g: g, "", "common"),
    "sigmoid": (lambda c, g: g * c.out * (1 - c.out), "o", "float"),
    "erf": (lambda c, g: g * exp(-_x(c) * _x(c)) * _TWO_OVER_SQRTPI, "i", "float"),
    "erfc": (lambda c, g: g * exp(-_x(c) * _x(c)) * -_TWO_OVER_SQRTPI, "i", "float"),
    "erfinv": (lambda c, g: g * exp(c.out * c.out) * _SQRTPI_OVER_TWO, "o", "float"),
}
for _name, (_rule, _save, _promote) in _UNARY.items():
    globals()[_name] = unary(_name, _rule, save=_save, promote=_promote)

# predicates: bool results, no gradient, no in-place form
for _name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"):
    globals()[_name] = unary(_name, promote=None, save="", inplace_method=False)

ROUND = register("round", _zero_grad, promote="common", save="", fusion="elementwise")


@export(method=True)
def round(input, *, decimals=0):
    """Round half to even, to ``decimals`` decimal places."""
    return R.apply(ROUND, input, decimals=int(decimals))


def _logit_backward(ctx, g):
    x, eps = ctx.inputs[0], ctx.eps
    gx = g / (x * (1 - x))
    return gx if eps is None else where((x < eps) | (x > 1 - eps), 0, gx)


LOGIT = register("logit", _logit_backward, promote="float", fusion="elementwise")


@export(method=True)
def logit(input, eps=None):
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    return R.apply(LOGIT, input, eps=None if eps is None else float(eps))


def _nan_to_num_backward(ctx, g):
    return where(isfinite(ctx.inputs[0]), g, 0)


NAN_TO_NUM = register("nan_to_num", _nan_to_num_backward, fusion="elementwise")


@export(method=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace nan, +inf and -inf (default: 0 and the dtype's largest/smallest finite value)."""
    return R.apply(NAN_TO_NUM, input, nan=float(nan), posinf=None if posinf is None else float(posinf),
                   neginf=None if neginf is None else float(neginf))


# --- binary math ------------------------------------------------------------------------
def _two(ctx):
    return ctx.inputs[0], ctx.inputs[1]


def _atan2_backward(ctx, g):
    a, b = _two(ctx)
    s = g / (a * a + b * b)
    return (s * b if ctx.needs(0) else None), (-s * a if ctx.needs(1) else None)


def _remainder_backward(ctx, g):  # a - b * floor(a / b)
    a, b = _two(ctx)
    return g, (-g * floor_divide(a, b) if ctx.needs(1) else None)


def _fmod_backward(ctx, g):  # a - b * trunc(a / b)
    a, b = _two(ctx)
    return g, (-g * R.apply(TRUNC_DIVIDE, a, b) if ctx.needs(1) else None)


def _hypot_backward(ctx, g):
    a, b = _two(ctx)
    s = g / ctx.out
    return (s * a if ctx.needs(0) else None), (s * b if ctx.needs(1) else None)


def _logaddexp_backward(ctx, g):
    a, b = _two(ctx)
    out = ctx.out
    return (g * exp(a - out) if ctx.needs(0) else None), (g * exp(b - out) if ctx.needs(1) else None)


def _logaddexp2_backward(ctx, g):
    a, b = _two(ctx)
    out = ctx.out
    return (g * exp2(a - out) if ctx.needs(0) else None), (g * exp2(b - out) if ctx.needs(1) else None)


def _minmax_backward(lose):
    """maximum/minimum: the larger (smaller) input gets the gradient; ties split it, as PyTorch."""
    def rule(ctx, g):
        a, b = _two(ctx)
        tie = where(a == b, g / 2, g)
        return (where(lose(a, b), 0, tie) if ctx.needs(0) else None,
                where(lose(b, a), 0, tie) if ctx.needs(1) else None)
    return rule


def _fminmax_backward(win):
    """fmax/fmin: nan loses; ties go to the first input, as PyTorch."""
    def rule(ctx, g):
        a, b = _two(ctx)
        first = win(a, b) | isnan(b)
        return (where(first, g, 0) if ctx.needs(0) else None,
                where(first, 0, g) if ctx.needs(1) else None)
    return rule


def _xlogy_backward(ctx, g):
    x, y = _two(ctx)
    return (g * xlogy(x != 0, y) if ctx.needs(0) else None), (g * x / y if ctx.needs(1) else None)


def _copysign_backward(ctx, g):
    a = ctx.inputs[0]
    return (where(a == 0, 0, g * ctx.out / a) if ctx.needs(0) else None), _zeros(ctx, g, 1)


_BINARY = {
    "atan2": (_atan2_backward, "i", "float"),
    "remainder": (_remainder_backward, "i", "common"),
    "fmod": (_fmod_backward, "i", "common"),
    "floor_divide": (_zero_grad, "", "common"),
    "trunc_divide": (_zero_grad, "", "common"),
    "hypot": (_hypot_backward, "io", "float"),
    "logaddexp": (_logaddexp_backward, "io", "float"),
    "logaddexp2": (_logaddexp2_backward, "io", "float"),
    "maximum": (_minmax_backward(lambda a, b: a < b), "i", "common"),
    "minimum": (_minmax_backward(lambda a, b: a > b), "i", "common"),
    "fmax": (_fminmax_backward(lambda a, b: a >= b), "i", "common"),
    "fmin": (_fminmax_backward(lambda a, b: a <= b), "i", "common"),
    "xlogy": (_xlogy_backward, "i", "float"),
    "copysign": (_copysign_backward, "io", "float", (1,)),
}


def _binary(name, backward, save, promote, skip=()):
    op = register(name, backward, promote=promote, save=save, skip=skip, fusion="elementwise")

    def fn(input, other):
        return R.apply(op, input, other)
    fn.__name__ = fn.__qualname__ = name
    return op, fn


for _name, _entry in _BINARY.items():
    _op, _fn = _binary(_name, *_entry)
    globals()[_name.upper()], globals()[_name] = _op, _fn
    if _name != "trunc_divide":
        FUNCTIONS[_name] = METHODS[_name] = _fn
    if _name in ("atan2", "remainder", "fmod", "floor_divide", "hypot", "xlogy", "copysign"):
        METHODS[_name + "_"] = inplace(_fn, _name + "_")
FUNCTIONS["trunc_divide"] = trunc_divide


def _clamp_backward(ctx, g):
    x, lo, hi = ctx.inputs
    gx = glo = ghi = None
    if ctx.needs(0):
        keep = x >= lo if hi is None else x <= hi if lo is None else (x >= lo) & (x <= hi)
        gx = where(keep, g, 0)
    if ctx.needs(1):
        glo = where(x < lo if hi is None else (x < lo) & (lo < hi), g, 0)
    if ctx.needs(2):
        ghi = where(x > hi if lo is None else (x > hi) | (hi < lo), g, 0)
    return gx, glo, ghi


CLAMP = register("clamp", _clamp_backward, promote="common", fusion="elementwise")


@export(method=True)
def clamp(input, min=None, max=None):
    """``min(max(input, min), max)``; bounds are numbers or tensors, either may be None."""
    if min is None and max is None:
        raise RuntimeError("ember.clamp: at least one of 'min' or 'max' must not be None")
    return R.apply(CLAMP, input, min, max)


@export(method=True)
def clamp_min(input, min):
    return R.apply(CLAMP, input, min, None)


@export(method=True)
def clamp_max(input, max):
    return R.apply(CLAMP, input, None, max)


def _where_backward(ctx, g):
    cond = ctx.inputs[0]
    return None, (where(cond, g, 0) if ctx.needs(1) else None), (where(cond, 0, g) if ctx.needs(2) else None)


WHERE = register("where", _where_backward, skip=(1, 2), fusion="elementwise")


@export
def where(condition, input=None, other=None):
    """``input`` where ``condition`` else ``other`` (tensors or numbers, promoted together).
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return FUNCTIONS["nonzero"](condition, as_tuple=True)
    if getattr(condition, "dtype", None) is not _dt.bool_:
        raise TypeError(f"ember.where: expected condition to be a bool tensor, got "
                        f"{getattr(condition, 'dtype', type(condition).__name__)}")
    return R.apply(WHERE, condition, input, other, dtype=_dt.result_type(input, other).name)


METHODS["where"] = lambda self, condition, other: where(condition, self, other)


def _lerp_backward(ctx, g):
    a, b, w = ctx.inputs
    return (g * (1 - w) if ctx.needs(0) else None, g * w if ctx.needs(1) else None,
            g * (b - a) if ctx.needs(2) else None)


LERP = register("lerp", _lerp_backward, promote="common", fusion="elementwise")


@export(method=True)
def lerp(input, end, weight):
    """``input + weight * (end - input)``; ``weight`` a number or a tensor."""
    for what, t in (("end", end), ("weight", weight)):
        if hasattr(t, "dtype") and t.dtype is not input.dtype:
            raise RuntimeError(f"ember.lerp: expected dtype {input.dtype} for `{what}` but got dtype {t.dtype}")
    return R.apply(LERP, input, end, weight)


def _addcmul_backward(ctx, g):
    _, t1, t2 = ctx.inputs
    v = ctx.value
    return g, (g * t2 * v if ctx.needs(1) else None), (g * t1 * v if ctx.needs(2) else None)


def _addcdiv_backward(ctx, g):
    _, t1, t2 = ctx.inputs
    v = ctx.value
    return g, (g * v / t2 if ctx.needs(1) else None), (-g * v * t1 / (t2 * t2) if ctx.needs(2) else None)


ADDCMUL = register("addcmul", _addcmul_backward, promote="common", skip=(0,), fusion="elementwise")
ADDCDIV = register("addcdiv", _addcdiv_backward, promote="common", skip=(0,), fusion="elementwise")


@export(method=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    return R.apply(ADDCMUL, input, tensor1, tensor2, value=value)


@export(method=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``."""
    if not tensor1.is_floating_point() and not tensor2.is_floating_point():
        raise RuntimeError(f"ember.addcdiv: integer division is not supported (got {tensor1.dtype} and "
                           f"{tensor2.dtype}); use addcmul(input, tensor1, tensor2.reciprocal())")
    return R.apply(ADDCDIV, input, tensor1, tensor2, value=value)


for _name in ("round", "logit", "nan_to_num", "clamp", "clamp_min", "clamp_max", "lerp",
              "addcmul", "addcdiv"):
    METHODS[_name + "_"] = inplace(FUNCTIONS[_name], _name + "_")

# PyTorch's aliases
for _alias, _name in (("absolute", "abs"), ("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                      ("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh"),
                      ("arctan2", "atan2"), ("fix", "trunc"), ("clip", "clamp"), ("sgn", "sign")):
    FUNCTIONS[_alias] = METHODS[_alias] = FUNCTIONS[_name]
    if _name + "_" in METHODS:
        METHODS[_alias + "_"] = METHODS[_name + "_"]


@export(method=True)
def positive(input):
    return input

