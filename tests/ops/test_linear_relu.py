"""linear_relu: relu(x W^T + b) as one op (the transformer feed-forward block's first layer)."""
import contextlib

import numpy as np
import pytest

import ember
from ember.kernels.cpu import jit
from ember.nn.functional.linear import _linear_relu
from helpers import check_op, check_gradcheck, torch


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", [[(5, 4), (3, 4), (3,)], [(2, 5, 4), (3, 4), (3,)], [(5, 4), (3, 4)],
                                    [(4,), (3, 4), (3,)]])
def test_matches_torch(shapes, dtype, fused):
    with contextlib.nullcontext() if fused else jit.disabled():
        check_op(shapes, lambda *a: _linear_relu(*a), lambda *a: torch.relu(torch.nn.functional.linear(*a)),
                 dtype=dtype)
        check_op(shapes, lambda *a: _linear_relu(*a), lambda *a: torch.relu(torch.nn.functional.linear(*a)),
                 dtype=dtype, noncontig=True)


def test_gradcheck_and_nan():
    check_gradcheck([(3, 4), (5, 4), (5,)], _linear_relu)
    x = np.array([[np.nan, 1.0], [1.0, -1.0]], np.float32)
    w = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    np.testing.assert_array_equal(_linear_relu(ember.tensor(x), ember.tensor(w)).numpy(),
                                  torch.relu(torch.tensor(x) @ torch.tensor(w).T).numpy())


def test_mismatched_arguments_fall_back_to_linear_then_relu():
    with pytest.raises(RuntimeError, match="ember.linear"):
        _linear_relu(ember.ones(2, 3), ember.ones(4, 5))


def test_transformer_layer_uses_it_unless_hooked():
    layer = ember.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    x = ember.randn(2, 3, 8)
    fused = layer(x)
    seen = []
    layer.linear1.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    np.testing.assert_allclose(layer(x).detach().numpy(), fused.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert seen == [(2, 3, 16)]
