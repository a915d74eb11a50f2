"""scaled_dot_product_attention and MultiheadAttention against torch."""
import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F
from helpers import check_module, check_op, check_gradcheck, torch

tF = torch.nn.functional
rs = np.random.default_rng(0)
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")


def _bool(shape, p=0.6, empty_row=None):
    m = rs.random(shape) < p
    m[..., 0] = True  # every row may attend somewhere unless asked otherwise
    if empty_row is not None:
        m[..., empty_row, :] = False
    return m


def _float(shape, neg_row=None):
    m = rs.standard_normal(shape).astype(np.float32)
    if neg_row is not None:
        m[..., neg_row, :] = -np.inf
    return m


# --- scaled_dot_product_attention ---------------------------------------------------------------
QKV = [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]


def sdpa(**kw):
    return (lambda *a: F.scaled_dot_product_attention(*a, **kw)), (lambda *a: tF.scaled_dot_product_attention(*a, **kw))


@pytest.mark.parametrize("kw", [dict(), dict(scale=0.3), dict(is_causal=True)], ids=["plain", "scale", "causal"])
def test_sdpa(kw):
    check_op(QKV, *sdpa(**kw))


@pytest.mark.parametrize("L,S", [(4, 4), (3, 6), (6, 3)])
def test_sdpa_causal_rectangular(L, S):
    check_op([(2, L, 5), (2, S, 5), (2, S, 3)], *sdpa(is_causal=True))


@pytest.mark.parametrize("shape", [(4, 6), (2, 1, 4, 6), (2, 3, 4, 6), (1, 6)])
def test_sdpa_bool_mask(shape):
    check_op(QKV + [_bool(shape)], *sdpa())


@pytest.mark.parametrize("shape", [(4, 6), (3, 4, 6), (2, 3, 1, 6)])
def test_sdpa_float_mask(shape):
    """Float masks are added to the scores and get gradients."""
    check_op(QKV + [_float(shape)], *sdpa())


def test_sdpa_fully_masked_rows_give_zeros():
    check_op(QKV + [_bool((4, 6), empty_row=1)], *sdpa())
    check_op(QKV + [_float((2, 3, 4, 6), neg_row=2)], *sdpa())


def test_sdpa_3d_and_2d_and_gqa():
    check_op([(3, 4, 5), (3, 6, 5), (3, 6, 2)], *sdpa())
    check_op([(4, 5), (6, 5), (6, 2)], *sdpa(is_causal=True))
    check_op([(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 7)], *sdpa(enable_gqa=True))


def test_sdpa_noncontiguous_and_float64():
    check_op(QKV, *sdpa(is_causal=True), noncontig=True)
    check_op(QKV + [_bool((4, 6))], *sdpa(), dtype=np.float64)
    check_op(QKV, *sdpa(scale=0.5), dtype=np.float64)


def test_sdpa_dropout():
    q, k, v = (ember.randn(*s) for s in QKV)
    ember.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ember.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), F.scaled_dot_product_attention(q, k, v).numpy())
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy().any()


def test_sdpa_gradcheck():
    check_gradcheck([(1, 2, 3, 2), (1, 2, 4, 2), (1, 2, 4, 3)], F.scaled_dot_product_attention)
    check_gradcheck([(2, 3, 2), (2, 3, 2), (2, 3, 2)],
                    lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True))
    mask = rs.standard_normal((3, 4))
    mask[1] = -np.inf
    check_gradcheck([(2, 3, 2), (2, 4, 2), (2, 4, 2), mask], F.scaled_dot_product_attention)


def test_sdpa_errors():
    q, k, v = (ember.randn(*s) for s in QKV)
    with pytest.raises(RuntimeError, match="ember.scaled_dot_product_attention: explicit attn_mask"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=ember.ones(4, 6, dtype=ember.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="ember.scaled_dot_product_attention: query .* do not match"):
        F.scaled_dot_product_attention(q, ember.randn(2, 3, 6, 4), v)
    with pytest.raises(RuntimeError, match="ember.scaled_dot_product_attention: attn_mask of shape"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=ember.ones(5, 6, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="ember.scaled_dot_product_attention: expected query, key and value"):
        F.scaled_dot_product_attention(q, k.double(), v)


# --- MultiheadAttention ----------------------------------------------------------------------------------
def pair(*args, **kw):
    torch.manual_seed(0)
    return nn.MultiheadAttention(*args, **kw), torch.nn.MultiheadAttention(*args, **kw)


def self_attn(**kw):
    return lambda m, x, *masks: m(x, x, x, **dict(zip(kw.get("names", ()), masks)),
                                  **{k: v for k, v in kw.items() if k != "names"})


@pytest.mark.parametrize("kw", [dict(), dict(need_weights=False), dict(average_attn_weights=False)],
                         ids=["weights", "no_weights", "per_head_weights"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention(kw, batch_first):
    e, t = pair(8, 2, batch_first=batch_first)
    check_module(e, t, [(3, 5, 8) if batch_first else (5, 3, 8)], call=self_attn(**kw))


MASKS = {
    "kpm_bool": (["key_padding_mask"], lambda: [~_bool((3, 5))]),
    "kpm_float": (["key_padding_mask"], lambda: [_float((3, 5))]),
    "attn_bool_2d": (["attn_mask"], lambda: [~_bool((5, 5))]),
    "attn_bool_3d": (["attn_mask"], lambda: [~_bool((6, 5, 5))]),
    "attn_float_2d": (["attn_mask"], lambda: [_float((5, 5))]),
    "attn_float_3d": (["attn_mask"], lambda: [_float((6, 5, 5))]),
    "both": (["attn_mask", "key_padding_mask"], lambda: [_float((5, 5)), ~_bool((3, 5))]),
}


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask", list(MASKS))
def test_mha_masks(mask, need_weights):
    """Boolean MHA masks mark positions that may NOT attend (True = masked)."""
    names, make = MASKS[mask]
    arrays = make()
    e, t = pair(6, 2)
    x = rs.uniform(-2, 2, (5, 3, 6)).astype(np.float32)
    check_module(e, t, None, inputs=[x] + arrays, call=self_attn(names=names, need_weights=need_weights))


def test_mha_is_causal_hint():
    """is_causal with need_weights=False and no padding mask: the causal path replaces the mask."""
    e, t = pair(6, 2)
    causal = np.triu(np.full((5, 5), -np.inf, np.float32), 1)
    check_module(e, t, None, inputs=[rs.uniform(-2, 2, (5, 3, 6)).astype(np.float32)],
                 call=lambda m, x: m(x, x, x, attn_mask=(ember if m is e else torch).tensor(causal), is_causal=True,
                                     need_weights=False))
    with pytest.raises(RuntimeError, match="ember.multi_head_attention_forward: need attn_mask"):
        e(ember.randn(5, 3, 6), ember.randn(5, 3, 6), ember.randn(5, 3, 6), is_causal=True)


def test_mha_fully_masked_rows():
    """need_weights: explicit softmax gives nan rows (as torch); need_weights=False: zeros."""
    kpm = np.zeros((2, 4), bool)
    kpm[0] = True
    for need in (True, False):
        e, t = pair(4, 2)
        check_module(e, t, [(4, 2, 4), kpm], grad=not need, call=self_attn(names=["key_padding_mask"],
                                                                            need_weights=need))


@pytest.mark.parametrize("kw", [dict(bias=False), dict(add_bias_kv=True), dict(add_zero_attn=True),
                                dict(add_bias_kv=True, add_zero_attn=True)],
                         ids=["nobias", "bias_kv", "zero_attn", "bias_kv_zero_attn"])
def test_mha_options(kw):
    e, t = pair(8, 4, **kw)
    check_module(e, t, [(5, 3, 8)], call=self_attn())
    names, make = MASKS["both"]
    x = rs.uniform(-2, 2, (5, 3, 8)).astype(np.float32)
    check_module(e, t, None, inputs=[x] + make(), call=self_attn(names=names), load=False)


def test_mha_cross_attention_and_kdim_vdim():
    e, t = pair(8, 2)
    check_module(e, t, [(4, 3, 8), (6, 3, 8)], call=lambda m, q, kv: m(q, kv, kv))           # key is value
    check_module(e, t, [(4, 3, 8), (6, 3, 8), (6, 3, 8)], call=lambda m, q, k, v: m(q, k, v), load=False)
    e, t = pair(8, 2, kdim=5, vdim=3, batch_first=True)
    assert list(e.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias",
                                    "out_proj.weight", "out_proj.bias"]
    check_module(e, t, [(3, 4, 8), (3, 6, 5), (3, 6, 3)], call=lambda m, q, k, v: m(q, k, v))
    check_module(e, t, [(3, 4, 8), (3, 6, 5), (3, 6, 3)], load=False,
                 call=lambda m, q, k, v: m(q, k, v, need_weights=False))


def test_mha_unbatched():
    e, t = pair(6, 3)
    check_module(e, t, [(5, 6)], call=self_attn())
    check_module(e, t, [(5, 6), ~_bool((5,))], call=self_attn(names=["key_padding_mask"], need_weights=False),
                 load=False)
    check_module(e, t, [(4, 6), (5, 6), ~_bool((3, 4, 5))], load=False,
                 call=lambda m, q, kv, a: m(q, kv, kv, attn_mask=a))


def test_mha_float64_and_eval():
    e, t = pair(8, 2, dropout=0.3)
    e.eval(), t.eval()
    check_module(e, t, [(5, 3, 8), _float((5, 5)).astype(np.float64)], dtype=np.float64,
                 call=self_attn(names=["attn_mask"]))


def test_mha_dropout_train():
    e = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(5, 3, 8)
    ember.manual_seed(0)
    a, wa = e(x, x, x)
    ember.manual_seed(0)
    b, _ = e(x, x, x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    e.eval()
    c, wc = e(x, x, x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    np.testing.assert_allclose(wc.detach().numpy().sum(-1), 1, rtol=1e-5)


def test_mha_functional():
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    sd = {k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()}
    td = {k: v for k, v in t.state_dict().items()}

    def run(mod, w):
        def f(q, k, v):
            fn = F.multi_head_attention_forward if mod is F else tF.multi_head_attention_forward
            return fn(q, k, v, 8, 2, w["in_proj_weight"], w["in_proj_bias"], w["bias_k"], w["bias_v"], False, 0.0,
                      w["out_proj.weight"], w["out_proj.bias"], average_attn_weights=False)
        return f
    check_op([(4, 3, 8), (6, 3, 8), (6, 3, 8)], run(F, sd), run(tF, td))


def test_mha_init_and_repr():
    ember.manual_seed(0)
    m = nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert repr(m) == repr(torch.nn.MultiheadAttention(16, 4, add_bias_kv=True))
    bound = math.sqrt(6 / (16 + 48))  # xavier_uniform on (3E, E)
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and w.std() > 0.8 * bound / math.sqrt(3)
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear" and isinstance(m.out_proj, nn.Linear)
    e, t = pair(8, 2, add_bias_kv=True, bias=False)
    assert list(e.state_dict()) == list(t.state_dict())


def test_mha_mismatched_mask_types_warn():
    m, x = nn.MultiheadAttention(8, 2), ember.randn(5, 3, 8)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        m(x, x, x, attn_mask=ember.zeros(5, 5), key_padding_mask=ember.zeros(3, 5, dtype=ember.bool))


def test_mha_errors():
    with pytest.raises(ValueError, match="ember.nn.MultiheadAttention: embed_dim .* divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="ember.nn.MultiheadAttention: embed_dim and num_heads"):
        nn.MultiheadAttention(0, 3)
    m = nn.MultiheadAttention(8, 2)
    x = ember.randn(5, 3, 8)
    with pytest.raises(RuntimeError, match="ember.multi_head_attention_forward: the shape of the 2D attn_mask"):
        m(x, x, x, attn_mask=ember.zeros(4, 5))
    with pytest.raises(RuntimeError, match="ember.multi_head_attention_forward: .*key_padding_mask to be None or 2-D"):
        m(x, x, x, key_padding_mask=ember.zeros(3, 5, 1, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="ember.multi_head_attention_forward: was expecting embedding dimension"):
        m(ember.randn(5, 3, 4), ember.randn(5, 3, 4), ember.randn(5, 3, 4))
    with pytest.raises(RuntimeError, match="ember.multi_head_attention_forward: query should be unbatched 2D"):
        m(ember.randn(8), ember.randn(8), ember.randn(8))
    with pytest.raises(TypeError, match="ember.multi_head_attention_forward: only bool and floating"):
        m(x, x, x, key_padding_mask=ember.zeros(3, 5, dtype=ember.int64))


@pytest.mark.parametrize("mask", [None, "attn_bool_2d", "attn_float_2d", "causal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mha_batch_first_self_attention_fast_path(mask, dtype):
    """Batch-first self-attention without weights takes its own layout-preserving path."""
    e, t = pair(8, 2, batch_first=True)
    x = rs.uniform(-2, 2, (3, 5, 8)).astype(dtype)
    if mask == "causal":
        causal = np.triu(np.full((5, 5), -np.inf, dtype), 1)
        call = lambda m, x: m(x, x, x, attn_mask=(ember if m is e else torch).tensor(causal),  # noqa: E731
                              is_causal=True, need_weights=False)
        check_module(e, t, None, dtype=dtype, inputs=[x], call=call)
    elif mask is None:
        check_module(e, t, None, dtype=dtype, inputs=[x], call=self_attn(need_weights=False))
    else:
        names, make = MASKS[mask]
        check_module(e, t, None, dtype=dtype, inputs=[x] + make(), call=self_attn(names=names, need_weights=False))
