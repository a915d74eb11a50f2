"""Transformer layers against torch (dropout 0 or eval mode; torch's fast paths stay off because
check_module's inputs require grad)."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F
from helpers import check_module, torch

tnn = torch.nn
rs = np.random.default_rng(0)
pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:Support for mismatched")]


def pair(name, *args, **kw):
    torch.manual_seed(0)
    ekw = {k: (getattr(F, v.__name__) if callable(v) and getattr(v, "__module__", "").startswith("torch") else v)
           for k, v in kw.items()}
    return getattr(nn, name)(*args, **ekw), getattr(tnn, name)(*args, **kw)


def causal(n, dtype=np.float32):
    return np.triu(np.full((n, n), -np.inf, dtype), 1)


def kpm(b, s):
    m = rs.random((b, s)) < 0.3
    m[:, 0] = False  # True = padded; keep one real token per sequence
    return m


ENC_CFGS = [dict(), dict(norm_first=True), dict(activation="gelu"), dict(activation=tnn.functional.gelu),
            dict(batch_first=True), dict(bias=False), dict(layer_norm_eps=1e-3, norm_first=True, activation="gelu")]
ENC_IDS = ["post_norm", "norm_first", "gelu", "gelu_fn", "batch_first", "nobias", "mixed"]


@pytest.mark.parametrize("cfg", ENC_CFGS, ids=ENC_IDS)
def test_encoder_layer(cfg):
    e, t = pair("TransformerEncoderLayer", 8, 2, 16, dropout=0.0, **cfg)
    check_module(e, t, [(3, 5, 8) if cfg.get("batch_first") else (5, 3, 8)])


@pytest.mark.parametrize("masks", ["src_mask", "kpm", "both", "causal_hint", "bool_mask"])
def test_encoder_layer_masks(masks):
    e, t = pair("TransformerEncoderLayer", 8, 2, 16, dropout=0.0, batch_first=True)
    x = rs.uniform(-2, 2, (3, 5, 8)).astype(np.float32)
    inputs, call = [x], None
    if masks == "src_mask":
        inputs.append(rs.standard_normal((5, 5)).astype(np.float32))
        call = lambda m, x, a: m(x, src_mask=a)  # noqa: E731
    elif masks == "kpm":
        inputs.append(kpm(3, 5))
        call = lambda m, x, k: m(x, src_key_padding_mask=k)  # noqa: E731
    elif masks == "both":
        inputs += [causal(5), kpm(3, 5).astype(np.float32) * -1e9]
        call = lambda m, x, a, k: m(x, src_mask=a, src_key_padding_mask=k)  # noqa: E731
    elif masks == "causal_hint":
        inputs.append(causal(5))
        call = lambda m, x, a: m(x, src_mask=a, is_causal=True)  # noqa: E731
    else:
        inputs.append(np.triu(np.ones((5, 5), bool), 1))
        call = lambda m, x, a: m(x, src_mask=a)  # noqa: E731
    check_module(e, t, None, inputs=inputs, call=call)


def test_encoder_layer_unbatched_eval_float64():
    e, t = pair("TransformerEncoderLayer", 8, 2, 16, dropout=0.2)
    e.eval(), t.eval()
    check_module(e, t, [(5, 8)])
    e, t = pair("TransformerEncoderLayer", 8, 4, 16, dropout=0.0, norm_first=True)
    check_module(e, t, [(5, 3, 8), causal(5, np.float64)], dtype=np.float64,
                 call=lambda m, x, a: m(x, src_mask=a))


def test_encoder_layer_custom_activation():
    torch.manual_seed(0)
    t = tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=torch.tanh)
    e = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=ember.tanh)
    check_module(e, t, [(5, 3, 8)])
    torch.manual_seed(0)
    t = tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=tnn.GELU())
    e = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=nn.GELU())
    assert e.activation_relu_or_gelu == t.activation_relu_or_gelu == 2
    check_module(e, t, [(5, 3, 8)])


DEC_CFGS = [dict(), dict(norm_first=True, activation="gelu"), dict(batch_first=True, bias=False)]


@pytest.mark.parametrize("cfg", DEC_CFGS, ids=["post_norm", "norm_first_gelu", "batch_first_nobias"])
def test_decoder_layer(cfg):
    e, t = pair("TransformerDecoderLayer", 8, 2, 16, dropout=0.0, **cfg)
    bf = cfg.get("batch_first")
    check_module(e, t, [(3, 4, 8), (3, 6, 8)] if bf else [(4, 3, 8), (6, 3, 8)])


def test_decoder_layer_masks():
    e, t = pair("TransformerDecoderLayer", 8, 2, 16, dropout=0.0)
    inputs = [rs.uniform(-2, 2, s).astype(np.float32) for s in ((4, 3, 8), (6, 3, 8))]
    inputs += [causal(4), kpm(3, 4), rs.standard_normal((4, 6)).astype(np.float32), kpm(3, 6)]
    check_module(e, t, None, inputs=inputs,
                 call=lambda m, x, mem, tm, tk, mm, mk: m(x, mem, tgt_mask=tm, tgt_key_padding_mask=tk,
                                                         memory_mask=mm, memory_key_padding_mask=mk))
    check_module(e, t, None, inputs=inputs[:3], load=False,
                 call=lambda m, x, mem, tm: m(x, mem, tgt_mask=tm, tgt_is_causal=True))


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_stack(norm):
    torch.manual_seed(0)
    t = tnn.TransformerEncoder(tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
                               norm=tnn.LayerNorm(8) if norm else None)
    e = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
                              norm=nn.LayerNorm(8) if norm else None)
    assert list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, [(3, 5, 8)])
    # the causal mask is detected (is_causal=None) or hinted; a padding mask goes to every layer
    check_module(e, t, [(3, 5, 8), causal(5)], call=lambda m, x, a: m(x, mask=a), load=False)
    check_module(e, t, [(3, 5, 8), causal(5), kpm(3, 5)], load=False,
                 call=lambda m, x, a, k: m(x, mask=a, src_key_padding_mask=k, is_causal=True))


def test_encoder_clones_are_independent():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    enc = nn.TransformerEncoder(layer, 3)
    ps = [m.linear1.weight for m in enc.layers] + [layer.linear1.weight]
    assert len({id(p) for p in ps}) == 4
    np.testing.assert_array_equal(enc.layers[0].linear1.weight.detach().numpy(),
                                  enc.layers[2].linear1.weight.detach().numpy())  # deep copies start equal
    with ember.no_grad():
        enc.layers[0].linear1.weight.mul_(0)
    assert enc.layers[1].linear1.weight.detach().numpy().any() and layer.linear1.weight.detach().numpy().any()
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))


def test_decoder_stack():
    torch.manual_seed(0)
    t = tnn.TransformerDecoder(tnn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2, norm=tnn.LayerNorm(8))
    e = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2, norm=nn.LayerNorm(8))
    check_module(e, t, [(4, 3, 8), (6, 3, 8), causal(4)], call=lambda m, x, mem, a: m(x, mem, tgt_mask=a))


def test_transformer():
    e, t = pair("Transformer", 8, 2, 2, 1, 16, dropout=0.0)
    assert list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, [(5, 3, 8), (4, 3, 8), causal(4)], call=lambda m, s, x, a: m(s, x, tgt_mask=a))
    e, t = pair("Transformer", 8, 2, 1, 1, 16, dropout=0.0, batch_first=True, norm_first=True)
    check_module(e, t, [(3, 5, 8), (3, 4, 8), kpm(3, 5)], call=lambda m, s, x, k: m(s, x, src_key_padding_mask=k,
                                                                                     memory_key_padding_mask=k))
    ember.manual_seed(0)
    w = nn.Transformer(16, 2, 1, 1, 32).encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / 48)  # xavier_uniform re-initialisation


def test_square_subsequent_mask_and_repr():
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(5).numpy(),
                                  tnn.Transformer.generate_square_subsequent_mask(5).numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64).dtype == ember.float64
    e, t = pair("TransformerDecoderLayer", 8, 2, 16)
    assert repr(e) == repr(t)
    t = tnn.TransformerEncoder(tnn.TransformerEncoderLayer(8, 2, 16), 2)
    e = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)
    assert repr(e) == repr(t)


def test_transformer_errors():
    with pytest.raises(RuntimeError, match="ember.nn.Transformer: activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")
    m = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="ember.nn.Transformer: the batch number of src and tgt"):
        m(ember.randn(5, 3, 8), ember.randn(4, 2, 8))
    with pytest.raises(RuntimeError, match="ember.nn.Transformer: the feature number"):
        m(ember.randn(5, 3, 8), ember.randn(4, 3, 6))
