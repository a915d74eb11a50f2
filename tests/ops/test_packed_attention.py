"""packed_attention: a self-attention's core from the packed projection (B, L, 3E) to merged heads."""
import contextlib
import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.ops import registry as R
from ember.kernels.cpu import jit
from helpers import check_op, check_gradcheck, check_module, torch

OP = R.OPS["packed_attention"]
tF = torch.nn.functional


def _bias(kind, L, dtype):
    if kind == "causal":
        return np.where(np.tri(L, dtype=bool), 0, -np.inf).astype(dtype)
    if kind == "none":
        return np.zeros((1, L), dtype)
    return np.random.default_rng(3).uniform(-2, 2, (L, L)).astype(dtype)


def _ember(bias, H, scale):
    return lambda qkv: R.apply(OP, qkv, ember.tensor(bias), num_heads=H, scale=scale)[0]


def _torch(bias, H, scale):
    def fn(qkv):
        B, L, n = qkv.shape
        q, k, v = (t.transpose(1, 2) for t in qkv.reshape(B, L, 3, H, n // 3 // H).unbind(2))
        out = tF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(bias), scale=scale)
        return out.transpose(1, 2).reshape(B, L, n // 3)
    return fn


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["causal", "none", "float"])
@pytest.mark.parametrize("B,L,H,hd", [(2, 5, 2, 3), (3, 7, 4, 2), (1, 1, 1, 4)])
def test_matches_torch(B, L, H, hd, kind, dtype, fused):
    bias, scale = _bias(kind, L, dtype), 1 / math.sqrt(hd)
    with jit.disabled() if not fused else contextlib.nullcontext():
        check_op([(B, L, 3 * H * hd)], _ember(bias, H, scale), _torch(bias, H, scale), dtype=dtype)


def test_noncontiguous_packed_input():
    """qkv as a strided view (a transposed projection output) reads the same as its copy."""
    bias = _bias("causal", 4, np.float32)
    check_op([(4, 2, 3, 12)], lambda x: _ember(bias, 2, 0.5)(x.transpose(0, 2)[0]),
             lambda x: _torch(bias, 2, 0.5)(x.transpose(0, 2)[0]))


def test_gradcheck_and_double_backward():
    """Finite differences in float64; under create_graph the rule is built from differentiable ops."""
    for kind in ("causal", "float"):
        bias = _bias(kind, 4, np.float64)
        fn = _ember(bias, 2, 0.6)
        check_gradcheck([(2, 4, 12)], fn)
        x = ember.randn(2, 4, 12, dtype=ember.float64, requires_grad=True)
        assert ember.autograd.gradgradcheck(fn, [x])


@pytest.mark.parametrize("batch_first", [True, False])
def test_packed_path_taken_by_self_attention(monkeypatch, batch_first):
    """MultiheadAttention(x, x, x) without weights runs the packed op (sequence-first input as a
    batch-first view) and matches torch; a fully masked query row or dropout take the general path."""
    e = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    t = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    calls = []
    real = R.OPS["packed_attention"].kernel
    monkeypatch.setattr(R.OPS["packed_attention"], "kernel", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = np.random.default_rng(0).uniform(-2, 2, (3, 5, 8) if batch_first else (5, 3, 8)).astype(np.float32)
    check_module(e, t, None, inputs=[x], call=lambda m, x: m(x, x, x, need_weights=False))
    assert calls
    calls.clear()
    mask = np.zeros((5, 5), np.float32)
    mask[2] = -np.inf
    check_module(e, t, None, inputs=[x, mask], grad=False,
                 call=lambda m, x, mask: m(x, x, x, attn_mask=mask, need_weights=False))
    assert not calls
    e.train()
    e.dropout = 0.5
    e(ember.tensor(x), ember.tensor(x), ember.tensor(x), need_weights=False)
    assert not calls


def test_scaled_softmax_backward_matches_composition():
    g, y = (ember.randn(3, 4, 5, dtype=ember.float64) for _ in range(2))
    for fused in (True, False):
        with jit.disabled() if not fused else contextlib.nullcontext():
            got = R.apply(R.OPS["scaled_softmax_backward"], g, y, scale=0.3)
            want = R.apply(R.OPS["softmax_backward"], g, y, dim=2) * 0.3
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    g, y = (ember.randn(2, 5, dtype=ember.float64, requires_grad=True) for _ in range(2))
    assert ember.autograd.gradgradcheck(lambda g, y: R.apply(R.OPS["scaled_softmax_backward"], g, y, scale=0.3),
                                        [g, y])
