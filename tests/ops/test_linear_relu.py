"""linear_relu: relu(x W^T + b) as one op (the transformer feed-forward block's first layer)."""
import contextlib

import numpy as np
import pytest

import ember
from ember.kernels.cpu import jit
from ember.nn.functional.linear import _linear_relu
from helpers import check_op, check_gradcheck, check_module, torch


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


def test_sequential_runs_linear_relu_pairs_as_one_op():
    """Sequential(Linear, ReLU, ...) fuses each plain pair (an in-place ReLU too) and matches torch's
    forward and gradients; hooks on either module, or a Linear subclass, keep the two calls."""
    e = ember.nn.Sequential(ember.nn.Linear(6, 5), ember.nn.ReLU(inplace=True), ember.nn.Linear(5, 4),
                            ember.nn.ReLU(), ember.nn.Linear(4, 3), ember.nn.ReLU())
    t = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 4), torch.nn.ReLU(),
                            torch.nn.Linear(4, 3), torch.nn.ReLU())
    check_module(e, t, [(7, 6)])
    x = ember.randn(7, 6, requires_grad=True)
    assert e(x).grad_fn.name == "linear_relu_backward"
    seen = []
    e[3].register_forward_hook(lambda m, args, out: seen.append(("relu", tuple(args[0].shape))))
    e[0].register_forward_pre_hook(lambda m, args: seen.append(("linear", tuple(args[0].shape))))
    fused = e(x)
    assert seen == [("linear", (7, 6)), ("relu", (7, 4))]
    assert fused.grad_fn.name == "linear_relu_backward"  # the last pair has no hooks

    class MyLinear(ember.nn.Linear):
        pass
    assert ember.nn.Sequential(MyLinear(6, 5), ember.nn.ReLU())(x).grad_fn.name == "relu_backward"
