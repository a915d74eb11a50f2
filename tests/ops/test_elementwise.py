"""Elementwise math, rounding, clamp/where/lerp, logic and bitwise ops against torch."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
import ml_dtypes
import numpy as np
import pytest

import ember
from helpers import check_op, check_gradcheck, torch

# PyTorch prints no NumPy warnings: none may escape, except the kernels' own (filtered by ember)
pytestmark = [pytest.mark.filterwarnings("error::RuntimeWarning"),
              pytest.mark.filterwarnings(r"ignore::RuntimeWarning:ember\.kernels\.")]

# name: (low, high) of an input range inside the domain and away from kinks
UNARY = {
    "abs": (0.2, 2), "sign": (-2, 2), "sqrt": (0.5, 2), "rsqrt": (0.5, 2), "square": (-2, 2),
    "reciprocal": (0.5, 2), "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.5, 2),
    "log2": (0.5, 2), "log10": (0.5, 2), "log1p": (-0.5, 2), "sin": (-2, 2), "cos": (-2, 2),
    "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-2, 2), "sinh": (-2, 2),
    "cosh": (-2, 2), "tanh": (-2, 2), "asinh": (-2, 2), "acosh": (1.2, 3), "atanh": (-0.9, 0.9),
    "floor": (-2, 2), "ceil": (-2, 2), "trunc": (-2, 2), "frac": (-2, 2), "round": (-2, 2),
    "sigmoid": (-3, 3), "logit": (0.1, 0.9), "erf": (-3, 3), "erfc": (-3, 3), "erfinv": (-0.9, 0.9),
    "nan_to_num": (-2, 2),
}
SMOOTH = [n for n in UNARY if n not in ("sign", "floor", "ceil", "trunc", "round")]
SPECIALS = np.array([-np.inf, -3.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.5, 30.0, np.inf, np.nan], np.float32)
ALIASES = {"absolute": "abs", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh", "fix": "trunc", "sgn": "sign"}


def fns(name, *args, **kw):
    """The same call on ember and on torch."""
    return (lambda *x: getattr(ember, name)(*x, *args, **kw)), (lambda *x: getattr(torch, name)(*x, *args, **kw))


def bf16_pair(a):
    """(ember bfloat16 tensor, torch bfloat16 tensor) of float32 data."""
    return (ember.tensor(a.astype(ml_dtypes.bfloat16)), torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16))


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("case", ["2d", "0d", "empty", "noncontig"])
def test_unary(name, case):
    low, high = UNARY[name]
    shapes = {"2d": [(3, 4)], "0d": [()], "empty": [(0, 3)], "noncontig": [(4, 3)]}[case]
    check_op(shapes, *fns(name), low=low, high=high, noncontig=case == "noncontig")


@pytest.mark.parametrize("name", SMOOTH)
def test_unary_gradcheck(name):
    low, high = UNARY[name]
    check_gradcheck([(4,)], getattr(ember, name), low=low, high=high)


@pytest.mark.parametrize("name", list(UNARY) + ["isnan", "isinf", "isfinite", "isposinf", "isneginf",
                                                "signbit"])
def test_unary_special_values(name):
    """Out-of-domain inputs give nan/inf exactly where torch does."""
    check_op(None, *fns(name), inputs=[SPECIALS], grad=False)


@pytest.mark.parametrize("name", [n for n in UNARY if n != "nan_to_num"])
def test_unary_method_and_inplace(name):
    check_op([(2, 3)], lambda x: getattr(x, name)(), low=UNARY[name][0], high=UNARY[name][1])
    grad = name not in ("asinh", "acosh", "atanh")  # torch has no gradient for these in place
    check_op([(2, 3)], lambda x: getattr(x * 1, name + "_")(), low=UNARY[name][0], high=UNARY[name][1],
                  grad=grad)


@pytest.mark.parametrize("name", list(ALIASES))
def test_aliases(name):
    low, high = UNARY[ALIASES[name]]
    check_op([(5,)], *fns(name), low=low, high=high, grad=name != "sgn")  # torch's sgn grad: a ZeroTensor
    grad = name not in ("arcsinh", "arccosh", "arctanh", "sgn")  # torch: no gradient in place
    check_op([(5,)], lambda x: getattr(x * 1, name + "_")(), low=low, high=high, grad=grad)


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "erf", "erfinv", "rsqrt", "logit"])
def test_unary_dtypes(name, dtype):
    check_op([(3, 4)], *fns(name), dtype=dtype, low=0.1, high=0.9)


@pytest.mark.parametrize("name", ["exp", "sigmoid", "erf", "rsqrt", "logit", "round", "frac", "expm1"])
def test_unary_bfloat16(name):
    a = np.random.default_rng(0).uniform(0.1, 0.9, (3, 4)).astype(np.float32)
    e, t = bf16_pair(a)
    r, rt = getattr(ember, name)(e), getattr(torch, name)(t)
    assert r.dtype is ember.bfloat16
    np.testing.assert_allclose(r.float().numpy(), rt.float().numpy(), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("name", ["abs", "sign", "square", "floor", "ceil", "trunc", "sqrt", "exp", "sigmoid",
                                  "nan_to_num", "erf"])
def test_unary_int(name):
    check_op(None, *fns(name), inputs=[np.array([[-3, 0, 2], [5, -1, 7]], np.int64)], grad=False)
    check_op(None, *fns(name), inputs=[np.array([-3, 0, 2], np.int32)], grad=False)


def test_erf_accuracy():
    """float64 erf/erfc/erfinv match torch to rounding, into the tails."""
    x = np.concatenate([np.linspace(-7, 7, 2001), [-30, -26.6, 26.5, 30, 1e-300, -1e-20]])
    check_op(None, *fns("erf"), inputs=[x], grad=False, rtol=1e-14, atol=1e-300)
    check_op(None, *fns("erfc"), inputs=[x], grad=False, rtol=1e-13, atol=1e-300)
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [1 - 1e-15, -1 + 1e-12, 1e-300, 0.7]])
    check_op(None, *fns("erfinv"), inputs=[y], grad=False, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_decimals(decimals):
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 1.234, 15.0, -25.0, 123.456], np.float64)
    check_op(None, lambda a: ember.round(a, decimals=decimals), lambda a: torch.round(a, decimals=decimals),
             inputs=[x])
    check_op(None, lambda a: (a * 1).round_(decimals=decimals), inputs=[x.astype(np.float32)])


@pytest.mark.parametrize("eps", [None, 0.2])
def test_logit_eps(eps):
    check_op([(3, 4)], *fns("logit", eps=eps), low=0.01, high=0.99)
    check_op([(3, 4)], lambda x: x.logit(eps), low=0.01, high=0.99)
    if eps is not None:
        check_gradcheck(None, lambda x: ember.logit(x, eps), inputs=[np.array([0.1, 0.3, 0.5, 0.85])])


def test_nan_to_num_values():
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0], np.float32)
    for kw in ({}, {"nan": 1.0}, {"nan": 2.0, "posinf": 10.0, "neginf": -10.0}):
        check_op(None, *fns("nan_to_num", **kw), inputs=[x])
        check_op(None, lambda a: a.nan_to_num(**kw), inputs=[x.astype(np.float16)])
    check_op(None, lambda a: (a * 1).nan_to_num_(nan=3.0), inputs=[x])
    e, t = bf16_pair(x)
    np.testing.assert_array_equal(ember.nan_to_num(e).float().numpy(), torch.nan_to_num(t).float().numpy())


# --- binary ------------------------------------------------------------------------------------
BINARY = {"atan2": (0.5, 2), "remainder": (0.5, 2), "fmod": (0.5, 2), "floor_divide": (0.5, 2),
          "hypot": (0.5, 2), "logaddexp": (-2, 2), "logaddexp2": (-2, 2), "maximum": (-2, 2),
          "minimum": (-2, 2), "fmax": (-2, 2), "fmin": (-2, 2), "xlogy": (0.5, 2), "copysign": (-2, 2)}
BROADCAST = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (3,)], [(0, 3), (3,)]]


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST)
def test_binary(name, shapes):
    low, high = BINARY[name]
    if name == "floor_divide":  # torch has no gradient for floor_divide
        check_op(shapes, *fns(name), low=low, high=high, grad=False)
    else:
        check_op(shapes, *fns(name), low=low, high=high)


@pytest.mark.parametrize("name", [n for n in BINARY if n != "floor_divide"])
def test_binary_gradcheck(name):
    # remainder/fmod: a / b stays inside (0, 1), away from their jumps
    low, high = (0.1, 0.9) if name in ("remainder", "fmod") else BINARY[name]
    a = np.random.default_rng(0).uniform(low, high, (2, 3))
    b = np.random.default_rng(1).uniform(1.2, 2, (3,)) if name in ("remainder", "fmod") else \
        np.random.default_rng(1).uniform(BINARY[name][0] + 0.1, BINARY[name][1], (3,))
    check_gradcheck(None, getattr(ember, name), inputs=[a, b])


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_methods_scalars_noncontig(name):
    low, high = BINARY[name]
    grad = name != "floor_divide"
    check_op([(4, 3), (4, 3)], lambda a, b: getattr(a, name)(b), low=low, high=high, noncontig=True, grad=grad)
    if name in ("remainder", "fmod", "floor_divide", "xlogy"):  # the others take tensors only in torch
        check_op([(3, 4)], *fns(name, 1.5), low=low, high=high, grad=grad)
    if name in ("atan2", "remainder", "fmod", "floor_divide", "hypot", "xlogy", "copysign"):
        check_op([(3, 4), (4,)], lambda a, b: getattr(a * 1, name + "_")(b), low=low, high=high,
                      grad=grad)


def test_remainder_fmod_divide_signs():
    """Python-style floor semantics (remainder, //, div floor) vs C-style truncation (fmod, div trunc)."""
    a = np.array([7, -7, 7, -7, 0, 6, -6], np.int64)
    b = np.array([3, 3, -3, -3, 2, 4, 4], np.int64)
    for fn in (lambda x, y: x % y, lambda x, y: torch_or_ember(x).fmod(x, y),
               lambda x, y: torch_or_ember(x).remainder(x, y), lambda x, y: x.div(y, rounding_mode="floor"),
               lambda x, y: x.div(y, rounding_mode="trunc"), lambda x, y: x % 3):
        check_op(None, fn, inputs=[a, b], grad=False)
        check_op(None, fn, inputs=[a.astype(np.float32) + 0.5, b.astype(np.float32)])
    for fn in (lambda x, y: x // y, lambda x, y: 5 // y, lambda x, y: x // -3, lambda x, y: 5 % y):  # no grad
        check_op(None, fn, inputs=[a, b], grad=False)
        check_op(None, fn, inputs=[a.astype(np.float32) + 0.5, b.astype(np.float32)], grad=False)
    check_op([(3, 4), (4,)], lambda x, y: x.div(y, rounding_mode="trunc"), low=0.5)
    check_op([(3, 4), (4,)], lambda x, y: x.div(y, rounding_mode="floor"), low=-2)


def torch_or_ember(x):
    return ember if isinstance(x, ember.Tensor) else torch


def test_integer_division_by_zero():
    a = ember.tensor([1, 2, 3])
    for fn, name in ((lambda: a // 0, "floor_divide"), (lambda: a % ember.tensor([1, 0, 1]), "remainder"),
                     (lambda: a.div(0, rounding_mode="trunc"), "div"), (lambda: ember.fmod(a, 0), "fmod")):
        with pytest.raises(RuntimeError, match=f"ember.{name}"):
            fn()


def test_python_operators():
    check_op([(3, 4), (4,)], lambda a, b: (a % b, a % 0.7, abs(a - b)), low=0.5)
    check_op([(3, 4), (4,)], lambda a, b: (a // b, b // a), low=0.5, grad=False)
    check_op([(3, 4)], lambda a: (2 // a, 3 % a, a // 0.5, a % 0.7), low=0.5, grad=False)

    def inplace(a, b):
        c = a * 1
        c //= b
        d = a * 1
        d %= b
        return c, d
    check_op([(3, 4), (4,)], inplace, low=0.5, grad=False)


def test_min_max_ties_and_nan():
    a = np.array([1.0, 2.0, np.nan, 3.0, np.nan, -1.0], np.float32)
    b = np.array([1.0, 1.0, 1.0, np.nan, np.nan, 2.0], np.float32)
    for name in ("maximum", "minimum", "fmax", "fmin"):
        check_op(None, *fns(name), inputs=[a, b])


def test_min_max_dtypes():
    i = np.array([1, 5, -2], np.int64)
    f = np.array([1.5, 2.0, -3.0], np.float32)
    for name in ("maximum", "minimum", "fmax", "fmin"):
        check_op(None, *fns(name), inputs=[i, f])
        check_op(None, *fns(name), inputs=[i, i[::-1].copy()], grad=False)


# --- clamp / where / lerp / addcmul / addcdiv ---------------------------------------------------
@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.5), (-0.5, None), (0.5, -0.5), (1, 2)])
def test_clamp_numbers(bounds):
    lo, hi = bounds
    check_op([(3, 4)], *fns("clamp", lo, hi))
    check_op([(3, 4)], lambda x: x.clamp(min=lo, max=hi))
    check_op([(3, 4)], lambda x: (x * 1).clamp_(lo, hi))
    check_op([(3, 4)], lambda x: x.clip(lo, hi))
    check_op([()], *fns("clamp", lo, hi))
    check_op([(0, 2)], *fns("clamp", lo, hi))
    check_op([(4, 3)], *fns("clamp", lo, hi), noncontig=True)


def test_clamp_min_max_functions():
    check_op([(3, 4)], *fns("clamp_min", 0.2))
    check_op([(3, 4)], *fns("clamp_max", 0.2))
    check_op([(3, 4)], lambda x: (x * 1).clamp_min_(0.1).clamp_max_(0.5))


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (3, 1)], [(2, 3), (), ()]])
def test_clamp_tensors(shapes):
    # includes elements where min > max: torch's gradient convention routes them to max
    check_op(shapes, lambda x, lo, hi: ember.clamp(x, lo, hi), lambda x, lo, hi: torch.clamp(x, lo, hi))
    check_op(shapes[:2], lambda x, lo: x.clamp(min=lo))
    check_op(shapes[:2], lambda x, hi: x.clamp(max=hi))
    check_gradcheck(None, ember.clamp, inputs=[np.array([-1.0, 0.1, 0.6, 1.0]), np.array([-0.5, 0.0, 0.8, 1.2]),
                                               np.array([0.5, 0.5, 0.2, 2.0])])


def test_clamp_dtypes_and_errors():
    i = np.array([-3, 0, 2, 9], np.int64)
    check_op(None, *fns("clamp", 0, 5), inputs=[i])
    check_op(None, *fns("clamp", 0.5, 5), inputs=[i])    # float bound promotes an int tensor
    check_op(None, *fns("clamp", -1, 1), inputs=[SPECIALS], grad=False)
    with pytest.raises(RuntimeError, match="ember.clamp"):
        ember.clamp(ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="ember.clamp_"):
        ember.tensor([1, 2]).clamp_(0.5)


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (3, 1)], [(2, 1, 3), (4, 1), ()],
                                    [(0, 3), (3,), (3,)]])
def test_where(shapes):
    cshape = shapes[0]
    c = np.random.default_rng(5).uniform(-1, 1, cshape) > 0

    check_op(None, lambda m, a, b: ember.where(m, a, b), lambda m, a, b: torch.where(m, a, b),
             inputs=[c] + [np.random.default_rng(i).uniform(-2, 2, s).astype(np.float32)
                           for i, s in enumerate(shapes[1:])])


def test_where_scalars_and_promotion():
    c = np.array([True, False, True])
    f = np.array([1.5, -2.0, 3.0], np.float32)
    i = np.array([1, 2, 3], np.int64)
    for fn in (lambda m, a: fw(m).where(m, a, 0.5), lambda m, a: fw(m).where(m, 1, a),
               lambda m, a: fw(m).where(m, 1.0, 0), lambda m, a: fw(m).where(m, 2, 0),
               lambda m, a: a.where(m, 7), lambda m, a: fw(m).where(m, a, a.double())):
        check_op(None, fn, inputs=[c, f])
        check_op(None, fn, inputs=[c, i])
        check_op(None, fn, inputs=[c, f.astype(np.float16)])
    with pytest.raises(TypeError, match="ember.where"):
        ember.where(ember.tensor([1.0, 0.0]), ember.tensor([1.0, 2.0]), 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int8, np.bool_])
def test_where_large_bit_exact(dtype):
    """Past a few thousand elements where selects through integer views: bit-identical to torch
    (nan, inf, -0), with broadcast and non-contiguous conditions and scalar operands."""
    rs = np.random.default_rng(9)
    c = rs.random((40, 64)) < 0.5
    a = np.resize(SPECIALS, (40, 64)).astype(dtype) if dtype in (np.float32, np.float64, np.float16) \
        else rs.integers(-5, 5, (40, 64)).astype(dtype)
    b = rs.standard_normal((40, 64)).astype(dtype)
    cases = [(c, a, b), (c[:, :1], a, b), (c.T.copy().T, a, b[0]), (c, a, np.array(0, dtype)), (c.T, a.T, b.T)]
    for m, x, y in cases:
        r = ember.where(ember.tensor(m), ember.tensor(x), ember.tensor(y)).numpy()
        t = torch.where(torch.from_numpy(np.ascontiguousarray(m)), torch.from_numpy(np.ascontiguousarray(x)),
                        torch.from_numpy(np.ascontiguousarray(y))).numpy()
        assert r.dtype == t.dtype and r.shape == t.shape
        assert np.array_equal(np.ascontiguousarray(r).view(np.uint8), t.view(np.uint8))
    r = ember.where(ember.tensor(c), ember.tensor(a), -np.inf if a.dtype.kind == "f" else 3).numpy()
    assert np.array_equal(r.view(np.uint8), torch.where(torch.from_numpy(c), torch.from_numpy(a),
                                                        -np.inf if a.dtype.kind == "f" else 3).numpy().view(np.uint8))


def fw(x):
    return ember if isinstance(x, ember.Tensor) else torch


def test_where_gradcheck_and_nonzero():
    c = np.array([True, False, True, False])
    check_gradcheck(None, lambda m, a, b: ember.where(m, a, b), inputs=[c, np.arange(4.0), np.arange(4.0) * 2])
    if "nonzero" in ember.ops.registry.FUNCTIONS:
        check_op(None, lambda m: fw(m).where(m), inputs=[np.array([[True, False], [False, True]])], grad=False)


@pytest.mark.parametrize("weight", [0.3, 0.7, -0.5, "tensor"])
def test_lerp(weight):
    if weight == "tensor":
        check_op([(3, 4), (3, 4), (4,)], lambda a, b, w: a.lerp(b, w), low=0, high=1)
        check_op([(3, 4), (4,), (3, 1)], *fns("lerp"), low=-1, high=2)
        check_gradcheck([(3,), (3,), (3,)], ember.lerp)
    else:
        check_op([(3, 4), (4,)], *fns("lerp", weight=weight))
        check_op([(3, 4), (3, 4)], lambda a, b: (a * 1).lerp_(b, weight))
        check_gradcheck([(3,), (3,)], lambda a, b: ember.lerp(a, b, weight))
    check_op([(), ()], *fns("lerp", weight=0.25))
    with pytest.raises(RuntimeError, match="ember.lerp"):
        ember.lerp(ember.ones(2), ember.ones(2, dtype=ember.float64), 0.5)


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (3, 1)], [(), (2,), ()]])
def test_addcmul_addcdiv(name, shapes):
    check_op(shapes, *fns(name), low=0.5)
    check_op(shapes, *fns(name, value=-0.5), low=0.5)
    if shapes[0]:  # in place, the output keeps input's shape
        check_op(shapes, lambda a, b, c: getattr(a * 1, name + "_")(b, c, value=2), low=0.5)
    check_gradcheck([(3,), (3,), (3,)], lambda a, b, c: getattr(ember, name)(a, b, c, value=0.7), low=0.5)


def test_addcmul_addcdiv_ints():
    i = np.array([1, 2, 3], np.int64)
    check_op(None, *fns("addcmul", value=2), inputs=[i, i, i])
    with pytest.raises(RuntimeError, match="ember.addcdiv"):
        ember.addcdiv(ember.tensor([1, 2]), ember.tensor([1, 2]), ember.tensor([1, 2]))


def test_xlogy_zero_and_scalars():
    x = np.array([0.0, 0.0, 1.0, 2.0, 0.0], np.float32)
    y = np.array([0.0, np.nan, 0.5, 3.0, -1.0], np.float32)
    check_op(None, *fns("xlogy"), inputs=[x, y], grad=False)
    check_op(None, *fns("xlogy"), inputs=[x[2:4], y[2:4]])
    check_op([(3,)], lambda a: fw(a).xlogy(2, a), low=0.5)
    check_op([(3,)], lambda a: fw(a).xlogy(a, 2.5), low=0.5)
    check_op(None, *fns("xlogy"), inputs=[np.array([0, 1, 2], np.int64), np.array([1, 2, 3], np.int64)])


# --- gradients of piecewise-constant ops are zeros, as in torch ------------------------------
def test_zero_gradients():
    check_op([(3, 4), (4,)], lambda a, b: (a.sign() + a.floor() + a.ceil() + a.round() + a.trunc()) * b)
    check_op([(3, 4), (4,)], lambda a, b: a.div(b, rounding_mode="floor") + a.div(b, rounding_mode="trunc"),
             low=0.5)


# --- comparisons, logic, bitwise -------------------------------------------------------------
def test_equal_allclose_isclose():
    a = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 1e-9], np.float32)
    b = np.array([1.0 + 1e-6, 2.1, np.nan, np.inf, np.inf, 0.0], np.float32)
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1, "atol": 0.0}, {"atol": 0.2}):
        check_op(None, *fns("isclose", **kw), inputs=[a, b], grad=False)
        check_op(None, lambda x, y: x.isclose(y, **kw), inputs=[a, b], grad=False)
        for x, y in ((a, b), (a[:2], b[:2]), (a[:2], a[:2] + 1e-7)):
            et, tt = [ember.tensor(v) for v in (x, y)], [torch.tensor(v) for v in (x, y)]
            assert ember.allclose(*et, **kw) == torch.allclose(*tt, **kw)
            assert et[0].allclose(et[1], **kw) == torch.allclose(*tt, **kw)
    check_op(None, *fns("isclose"), inputs=[np.array([1, 2, 3]), np.array([1, 3, 3])], grad=False)
    check_op(None, *fns("isclose"), inputs=[np.array([True, False]), np.array([True, True])], grad=False)
    with pytest.raises(RuntimeError, match="ember.isclose"):
        ember.isclose(ember.ones(2), ember.ones(2, dtype=ember.float64))
    pairs = [([1, 2], [1, 2]), ([1, 2], [1.0, 2.0]), ([1, 2], [1, 3]), ([1, 2], [1, 2, 3]), ([[1, 2]], [1, 2]),
             ([float("nan")], [float("nan")]), ([], [])]
    for x, y in pairs:
        assert ember.equal(ember.tensor(x), ember.tensor(y)) == torch.equal(torch.tensor(x), torch.tensor(y))
        assert ember.tensor(x).equal(ember.tensor(y)) == torch.equal(torch.tensor(x), torch.tensor(y))
    assert isinstance(ember.equal(ember.ones(2), ember.ones(2)), bool)


LOGIC_INPUTS = [np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]], np.float32), np.array([1, 0, 2], np.int64),
                np.array([True, False, False])]


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary(name):
    for a in LOGIC_INPUTS:
        for b in LOGIC_INPUTS:
            check_op(None, *fns(name), inputs=[a, b], grad=False)
    check_op(None, lambda a, b: getattr(a, name)(b), inputs=LOGIC_INPUTS[:2], grad=False)
    check_op(None, lambda a, b: getattr(a * 1, name + "_")(b), inputs=LOGIC_INPUTS[:2], grad=False)
    check_op(None, lambda a, b: getattr(a.bool(), name + "_")(b), inputs=LOGIC_INPUTS[1:], grad=False)


def test_logical_not():
    for a in LOGIC_INPUTS + [np.zeros((0, 2), np.float32), np.array(1.5, np.float32)]:
        check_op(None, *fns("logical_not"), inputs=[a], grad=False)
        check_op(None, lambda x: (x * 1).logical_not_(), inputs=[a], grad=False)


BIT_INPUTS = [np.array([[5, -3, 0], [12, 7, -1]], np.int64), np.array([3, 6, 255], np.int64),
              np.array([1, 2, 3], np.int32), np.array([3, 250, 7], np.uint8), np.array([True, False, True])]


@pytest.mark.parametrize("name,sym", [("bitwise_and", "&"), ("bitwise_or", "|"), ("bitwise_xor", "^")])
def test_bitwise(name, sym):
    op = {"&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b}[sym]
    for a in BIT_INPUTS:
        for b in BIT_INPUTS:
            check_op(None, *fns(name), inputs=[a, b], grad=False)
            check_op(None, op, inputs=[a, b], grad=False)
        check_op(None, lambda x: op(x, 6), inputs=[a], grad=False)
        check_op(None, lambda x: op(6, x), inputs=[a], grad=False)     # __rand__ & co
        check_op(None, lambda x: op(x, True), inputs=[a], grad=False)

    def aug(a, b):
        c = a * 1
        if sym == "&":
            c &= b
        elif sym == "|":
            c |= b
        else:
            c ^= b
        return c
    check_op(None, aug, inputs=BIT_INPUTS[:2], grad=False)
    check_op(None, lambda a, b: getattr(a * 1, name + "_")(b), inputs=BIT_INPUTS[:2], grad=False)
    with pytest.raises(TypeError, match=f"ember.{name}"):
        getattr(ember, name)(ember.ones(2), ember.ones(2))


def test_bitwise_not():
    for a in BIT_INPUTS:
        check_op(None, *fns("bitwise_not"), inputs=[a], grad=False)
        check_op(None, lambda x: ~x, inputs=[a], grad=False)
    check_op(None, lambda x: (x * 1).bitwise_not_(), inputs=BIT_INPUTS[:1], grad=False)
    with pytest.raises(TypeError, match="ember.bitwise_not"):
        ~ember.ones(2)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"])
def test_predicates(name):
    check_op(None, *fns(name), inputs=[SPECIALS.reshape(3, 4)], grad=False)
    check_op(None, lambda x: getattr(x, name)(), inputs=[SPECIALS.astype(np.float64)], grad=False)
    check_op(None, *fns(name), inputs=[SPECIALS.astype(np.float16)], grad=False)
    check_op(None, *fns(name), inputs=[np.array([-1, 0, 3], np.int64)], grad=False)
    check_op(None, *fns(name), inputs=[np.zeros((0,), np.float32)], grad=False)
    e, t = bf16_pair(SPECIALS[:-1])  # torch's float32 -> bfloat16 cast makes nan negative
    np.testing.assert_array_equal(getattr(ember, name)(e).numpy(), getattr(torch, name)(t).numpy())


def test_positive():
    check_op([(3,)], *fns("positive"))


def test_keyword_arguments():
    check_op([(3, 4), (4,)], lambda a, b: fw(a).atan2(input=a, other=b), low=0.5)
    check_op([(3, 4), (4,)], lambda a, b: fw(a).remainder(input=a, other=b), low=0.5)
    check_op([(3, 4), (4,)], lambda a, b: fw(a).lerp(input=a, end=b, weight=0.3))
    check_op([(3, 4), (4,), (3, 1)], lambda a, b, c: fw(a).addcdiv(input=a, tensor1=b, tensor2=c, value=0.5),
             low=0.5)
    check_op([(3, 4), (4,)], lambda a, b: fw(a).where(condition=a > 0, input=a, other=b))
    check_op([(3, 4)], lambda a: fw(a).clamp(input=a, min=-0.5, max=0.5))
    check_op([(3, 4)], lambda a: fw(a).logit(input=a, eps=0.1), low=0.05, high=0.95)
    check_op([(3, 4)], lambda a: fw(a).nan_to_num(input=a / 0, nan=1.0, posinf=2.0, neginf=-2.0), grad=False)
    check_op([(3, 4), (4,)], lambda a, b: fw(a).isclose(input=a, other=b, rtol=0.5, atol=0.1, equal_nan=True),
             grad=False)
