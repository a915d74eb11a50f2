"""scaled_softmax: softmax(x * scale + bias) with a constant bias (the attention scores' op)."""
import contextlib

import numpy as np
import pytest

import ember
from ember.ops import registry as R
from ember.kernels.cpu import jit
from helpers import check_op, check_gradcheck, torch

OP = R.OPS["scaled_softmax"]


def _bias(shape, dtype, causal=False):
    if causal:
        return np.where(np.tri(*shape[-2:], dtype=bool), 0, -np.inf).astype(dtype).reshape(shape)
    return np.random.default_rng(1).uniform(-2, 2, shape).astype(dtype)


CASES = [((2, 3, 5, 7), (5, 7), False), ((2, 3, 5, 5), (5, 5), True), ((4, 6), (1, 6), False),
         ((2, 5, 7), (7,), False), ((2, 3, 5, 7), (3, 5, 7), False), ((2, 3, 5, 7), (2, 1, 5, 7), False)]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,bs,causal", CASES)
def test_matches_torch(xs, bs, causal, dtype, fused):
    bias = _bias(bs, dtype, causal)
    ctx = jit.disabled() if not fused else contextlib.nullcontext()
    with ctx:
        check_op([xs], lambda x: R.apply(OP, x, ember.tensor(bias), scale=0.3),
                 lambda x: torch.softmax(x * 0.3 + torch.tensor(bias), -1), dtype=dtype)


def test_gradcheck_and_double_backward():
    bias = _bias((4, 4), np.float64, causal=True)
    check_gradcheck([(2, 4, 4)], lambda x: R.apply(OP, x, ember.tensor(bias), scale=0.7))
    x = ember.randn(2, 4, 4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x: R.apply(OP, x, ember.tensor(bias), scale=0.7), [x])


def test_all_masked_row_is_nan_like_softmax():
    x = ember.zeros(1, 2, 3)
    bias = ember.tensor(np.array([[0, 0, 0], [-np.inf] * 3], np.float32))
    y = R.apply(OP, x, bias, scale=1.0).numpy()
    np.testing.assert_allclose(y[0, 0], 1 / 3, rtol=1e-6)
    assert np.isnan(y[0, 1]).all()
