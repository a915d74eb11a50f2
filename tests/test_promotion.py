"""Property tests: broadcasting and PyTorch's type promotion, with torch as the oracle."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from helpers import check_op, torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
SETTINGS = settings(max_examples=int(os.environ.get("EMBER_HYPOTHESIS_EXAMPLES", 150)), deadline=None)


def make_tensor(dtype, shape, seed):
    """The same values as an (ember, torch) pair; small positive values keep integer results in range."""
    rs = np.random.default_rng(seed)
    if dtype == "bool":
        a = np.asarray(rs.uniform(size=shape) > 0.3)
        return ember.tensor(a), torch.from_numpy(a)
    a = rs.integers(1, 4, size=shape).astype(np.float32)
    if dtype == "bfloat16":  # torch.from_numpy knows no ml_dtypes: build both from float32
        return ember.tensor(a.astype(ml_dtypes.bfloat16)), torch.from_numpy(a).to(torch.bfloat16)
    a = a.astype(dtype)
    return ember.tensor(a), torch.from_numpy(a)


@st.composite
def operands(draw, tensor=False):
    """An (ember, torch) operand: a dimensioned tensor, a 0-d tensor, or a Python scalar."""
    kinds = ["tensor", "zerodim"] + ([] if tensor else ["int", "float", "bool"])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        v = draw(st.integers(1, 3))
        return v, v
    if kind == "float":
        v = draw(st.sampled_from([0.5, 1.5, 2.0, 3.25]))
        return v, v
    if kind == "bool":
        v = draw(st.booleans())
        return v, v
    shape = () if kind == "zerodim" else draw(st.sampled_from([(3,), (2, 3)]))
    return make_tensor(draw(st.sampled_from(DTYPES)), shape, draw(st.integers(0, 2 ** 16)))


def tname(dt):
    return str(dt).replace("torch.", "")


def values(x):
    if isinstance(x, ember.Tensor):
        return x.float().numpy().astype(np.float64) if x.dtype is ember.bfloat16 else x.numpy().astype(np.float64)
    return x.float().numpy().astype(np.float64) if x.dtype == torch.bfloat16 else x.numpy().astype(np.float64)


@SETTINGS
@given(a=operands(tensor=True), b=operands(), swap=st.booleans())
def test_result_type_and_arithmetic(a, b, swap):
    (ea, ta), (eb, tb) = (b, a) if swap else (a, b)
    assert ember.result_type(ea, eb).name == tname(torch.result_type(ta, tb))
    for op in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x / y):
        try:
            t = op(ta, tb)
        except RuntimeError:  # e.g. bool - bool; nothing to compare
            continue
        e = op(ea, eb)
        assert e.dtype.name == tname(t.dtype), (e.dtype, t.dtype)
        tol = 1e-2 if t.dtype in (torch.float16, torch.bfloat16) else 1e-6
        np.testing.assert_allclose(values(e), values(t), rtol=tol, atol=tol)


@SETTINGS
@given(a=operands(tensor=True), b=operands(), c=operands())
def test_where_promotion(a, b, c):
    (ea, ta), (eb, tb), (ec, tc) = a, b, c
    if not isinstance(eb, ember.Tensor) and not isinstance(ec, ember.Tensor):
        if type(eb) is not type(ec):
            return  # torch.where(cond, scalar, scalar) needs two scalars of one kind
    cond_e, cond_t = ea > 1, ta > 1
    t = torch.where(cond_t, tb, tc)
    e = ember.where(cond_e, eb, ec)
    assert e.dtype.name == tname(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(values(e), values(t))


@given(dtype=st.sampled_from(DTYPES), other=st.sampled_from(DTYPES))
@SETTINGS
def test_promote_types(dtype, other):
    assert ember.promote_types(getattr(ember, dtype), getattr(ember, other)).name == \
        tname(torch.promote_types(getattr(torch, dtype), getattr(torch, other)))


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       seed=st.integers(0, 1000))
def test_broadcast_binary(shapes, seed):
    """add / mul: result shape and values, and gradients summed back to each input's shape."""
    shapes = list(shapes.input_shapes)
    check_op(shapes, lambda x, y: x + y, seed=seed)
    check_op(shapes, lambda x, y: x * y, seed=seed)


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, max_side=3),
       seed=st.integers(0, 1000))
def test_broadcast_where(shapes, seed):
    sc, sa, sb = shapes.input_shapes
    rs = np.random.default_rng(seed)
    cond = np.asarray(rs.uniform(size=sc) > 0.5)
    a, b = rs.standard_normal(sa).astype(np.float32), rs.standard_normal(sb).astype(np.float32)
    fw = lambda m: ember if isinstance(m, ember.Tensor) else torch  # noqa: E731
    check_op(None, lambda m, x, y: fw(m).where(m, x, y), inputs=[cond, a, b])


@pytest.mark.parametrize("sa,sb", [((3,), (4,)), ((2, 3), (3, 2)), ((2, 1, 3), (4, 2))])
def test_broadcast_errors(sa, sb):
    for name, fn in (("add", lambda x, y: x + y), ("mul", lambda x, y: x * y),
                     ("where", lambda x, y: ember.where(x > 0, x, y))):
        with pytest.raises(ValueError, match=f"ember.{name}"):
            fn(ember.ones(sa), ember.ones(sb))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_scalar_arithmetic(dtype):
    a = np.random.default_rng(0).uniform(-4, 4, 1000).astype(np.float32)
    if dtype == "bfloat16":
        e, t = ember.tensor(a.astype(ml_dtypes.bfloat16)), torch.from_numpy(a).bfloat16()
    else:
        e, t = ember.tensor(a.astype(np.float16)), torch.from_numpy(a.astype(np.float16))
    for s in (0.1, 1 / 3, 1e-5):
        np.testing.assert_array_equal(values(e * s), values(t * s))
        np.testing.assert_array_equal(values(e / s), values(t / s))
