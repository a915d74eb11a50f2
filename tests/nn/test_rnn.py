"""RNN, LSTM, GRU and their cells against torch: outputs, input/state gradients, every parameter grad."""
import math
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.ops import recurrent as rec
from helpers import check_module, check_op, check_gradcheck, load_torch_weights, torch

tnn = torch.nn

MODES = [("RNN", dict()), ("RNN", dict(nonlinearity="relu")), ("LSTM", dict()), ("GRU", dict())]
CONFIGS = [dict(), dict(num_layers=2, bidirectional=True), dict(batch_first=True), dict(bias=False),
           dict(num_layers=2, batch_first=True, bidirectional=True, bias=False)]


def pair(name, *args, **kw):
    torch.manual_seed(0)
    return getattr(nn, name)(*args, **kw), getattr(tnn, name)(*args, **kw)


def _states(name, L, B, H, P=None):
    """Shapes of the initial state(s) for ``name``: h0 (and c0)."""
    return [(L, B, P or H)] + ([(L, B, H)] if name == "LSTM" else [])


def _call_with_state(name):
    if name == "LSTM":
        return lambda m, x, h, c: m(x, (h, c))
    return lambda m, x, h: m(x, h)


@pytest.mark.parametrize("name,extra", MODES, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=["default", "2layer_bidir", "batch_first", "nobias", "all"])
def test_rnn_parity(name, extra, cfg):
    e, t = pair(name, 3, 4, **extra, **cfg)
    shape = (2, 5, 3) if cfg.get("batch_first") else (5, 2, 3)
    check_module(e, t, [shape])


@pytest.mark.parametrize("name,extra", MODES, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_rnn_initial_state(name, extra):
    e, t = pair(name, 3, 4, num_layers=2, bidirectional=True, **extra)
    check_module(e, t, [(5, 2, 3)] + _states(name, 4, 2, 4), call=_call_with_state(name))


@pytest.mark.parametrize("name,extra", MODES, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("with_state", [False, True])
def test_rnn_unbatched(name, extra, with_state):
    e, t = pair(name, 3, 4, num_layers=2, **extra)
    if with_state:
        shapes = [(5, 3)] + [s[:1] + s[2:] for s in _states(name, 2, 1, 4)]
        check_module(e, t, shapes, call=_call_with_state(name))
    else:
        check_module(e, t, [(5, 3)])


@pytest.mark.parametrize("cfg", [dict(), dict(num_layers=2, bidirectional=True), dict(batch_first=True)])
def test_lstm_proj_size(cfg):
    e, t = pair("LSTM", 3, 5, proj_size=2, **cfg)
    shape = (2, 4, 3) if cfg.get("batch_first") else (4, 2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported with oneDNN"
        check_module(e, t, [shape])
        L = 2 * cfg.get("num_layers", 1) if cfg.get("bidirectional") else cfg.get("num_layers", 1)
        check_module(e, t, [shape, (L, 2, 2), (L, 2, 5)], call=_call_with_state("LSTM"), load=False)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_rnn_float64(name):
    e, t = pair(name, 3, 4, num_layers=2, bidirectional=True)
    check_module(e, t, [(4, 2, 3)], dtype=np.float64)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_rnn_dropout_between_layers(name):
    e, t = pair(name, 3, 4, num_layers=3, dropout=0.5)
    load_torch_weights(e, t)
    e.eval(), t.eval()  # eval: no dropout, matches torch
    check_module(e, t, [(5, 2, 3)], load=False)
    e.train()
    x = ember.randn(5, 2, 3)
    ember.manual_seed(1)
    a = e(x)[0]
    ember.manual_seed(1)
    b = e(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())  # reproducible from the seed
    assert not np.allclose(a.detach().numpy(), e.eval()(x)[0].detach().numpy())


def test_rnn_state_dict_keys_and_order():
    for kw in [dict(num_layers=2, bidirectional=True), dict(bias=False, proj_size=2, num_layers=2)]:
        e, t = pair("LSTM", 3, 5, **kw)
        assert list(e.state_dict()) == list(t.state_dict())
        assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
        assert [[tuple(p.shape) for p in ws] for ws in e.all_weights] == \
               [[tuple(p.shape) for p in ws] for ws in t.all_weights]
        assert e._flat_weights_names == t._flat_weights_names


@pytest.mark.parametrize("name,kw", [("RNN", dict(nonlinearity="relu", num_layers=2)), ("GRU", dict(bias=False)),
                                     ("LSTM", dict(proj_size=2, batch_first=True, dropout=0.5, num_layers=2,
                                                   bidirectional=True)),
                                     ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", dict(bias=False)),
                                     ("GRUCell", dict())])
def test_rnn_repr(name, kw):
    e, t = pair(name, 3, 5, **kw)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_rnn_init_bounds(name):
    ember.manual_seed(0)
    m = getattr(nn, name)(20, 64)
    bound = 1 / math.sqrt(64)
    allw = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.abs(allw).max() <= bound
    assert abs(allw.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert all(p.dtype == ember.float32 for p in m.parameters())
    assert all(p.dtype == ember.float64 for p in getattr(nn, name)(2, 3, dtype=ember.float64).parameters())


# --- cells ----------------------------------------------------------------------------------------
CELLS = [("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", dict()), ("GRUCell", dict())]
CELL_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def _cell_call(name):
    if name == "LSTMCell":
        return lambda m, x, h, c: m(x, (h, c))
    return lambda m, x, h: m(x, h)


@pytest.mark.parametrize("name,extra", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("bias", [True, False])
def test_cell_parity(name, extra, bias):
    e, t = pair(name, 3, 4, bias=bias, **extra)
    check_module(e, t, [(2, 3)])
    n = 2 if name == "LSTMCell" else 1
    check_module(e, t, [(2, 3)] + [(2, 4)] * n, call=_cell_call(name), load=False)


@pytest.mark.parametrize("name,extra", CELLS, ids=CELL_IDS)
def test_cell_unbatched_and_float64(name, extra):
    e, t = pair(name, 3, 4, **extra)
    check_module(e, t, [(3,)])
    n = 2 if name == "LSTMCell" else 1
    check_module(e, t, [(3,)] + [(4,)] * n, call=_cell_call(name), load=False)
    e, t = pair(name, 3, 4, **extra)
    check_module(e, t, [(2, 3)] + [(2, 4)] * n, call=_cell_call(name), dtype=np.float64)


def test_cell_functions_match_torch():
    """ember.lstm_cell / gru_cell / rnn_*_cell: torch's top-level functions."""
    check_op([(3, 5), (3, 4), (3, 4), (16, 5), (16, 4), (16,), (16,)],
             lambda x, h, c, a, b, d, e: rec.lstm_cell(x, (h, c), a, b, d, e),
             lambda x, h, c, a, b, d, e: torch.lstm_cell(x, (h, c), a, b, d, e))
    check_op([(3, 5), (3, 4), (12, 5), (12, 4)], rec.gru_cell, torch.gru_cell)
    check_op([(3, 5), (3, 4), (4, 5), (4, 4), (4,), (4,)], rec.rnn_relu_cell, torch.rnn_relu_cell)
    check_op([(3, 5), (3, 4), (4, 5), (4, 4)], rec.rnn_tanh_cell, torch.rnn_tanh_cell)


# --- gradcheck (float64 finite differences) -----------------------------------------------------
def test_gradcheck_lstm_cell():
    check_gradcheck([(2, 3), (2, 2), (2, 2), (8, 3), (8, 2), (8,), (8,)],
                    lambda x, h, c, a, b, d, e: rec.lstm_cell(x, (h, c), a, b, d, e))


def test_gradcheck_gru_cell():
    check_gradcheck([(2, 3), (2, 2), (6, 3), (6, 2), (6,), (6,)], rec.gru_cell)


def test_gradcheck_rnn_cell():
    check_gradcheck([(2, 3), (2, 2), (2, 3), (2, 2), (2,), (2,)], rec.rnn_tanh_cell)


def test_gradcheck_sequence_steps():
    """Through rnn_steps (one op, backward = stack) and the fused cells over a few steps."""
    m = nn.LSTM(2, 2, bidirectional=True).double()
    check_gradcheck([(3, 1, 2)], lambda x: m(x)[0])
    g = nn.GRU(2, 2, batch_first=True).double()
    check_gradcheck([(1, 3, 2)], lambda x: g(x)[1])


def test_double_backward_cells():
    """Under create_graph the cell backward is composed of ops, so second derivatives exist."""
    rs = np.random.default_rng(0)
    mk = lambda *s: ember.tensor(rs.standard_normal(s), requires_grad=True)  # noqa: E731
    x, h, c, w, u = mk(2, 3), mk(2, 2), mk(2, 2), mk(8, 3), mk(8, 2)
    assert ember.autograd.gradgradcheck(lambda x, h, c, w, u: rec.lstm_cell(x, (h, c), w, u), [x, h, c, w, u])
    assert ember.autograd.gradgradcheck(lambda x, h, w, u: rec.gru_cell(x, h, w[:6], u[:6]), [x, h, w, u])


# --- errors -----------------------------------------------------------------------------------------
def test_rnn_errors():
    m = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match=r"ember.nn.LSTM: input.size\(-1\)"):
        m(ember.randn(5, 2, 7))
    with pytest.raises(ValueError, match="ember.nn.LSTM: Expected input to be 2D or 3D"):
        m(ember.randn(5, 2, 3, 1))
    with pytest.raises(RuntimeError, match=r"ember.nn.LSTM: Expected hidden\[0\] size \(1, 2, 4\)"):
        m(ember.randn(5, 2, 3), (ember.zeros(1, 3, 4), ember.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match=r"ember.nn.LSTM: For batched 3-D input, hx and cx should also be 3-D"):
        m(ember.randn(5, 2, 3), (ember.zeros(2, 4), ember.zeros(2, 4)))
    with pytest.raises(ValueError, match="ember.nn.LSTM: input dtype"):
        m(ember.randn(5, 2, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match=r"ember.nn.GRU: Expected hidden size \(1, 2, 4\)"):
        nn.GRU(3, 4)(ember.randn(5, 2, 3), ember.zeros(1, 1, 4))
    with pytest.raises(NotImplementedError, match="ember.nn.GRU: PackedSequence"):
        seq = tnn.utils.rnn.pack_padded_sequence(torch.randn(5, 2, 3), [5, 3])
        nn.GRU(3, 4)(seq)
    with pytest.raises(ValueError, match="ember.nn.GRU: proj_size"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="ember.nn.RNN: Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="ember.nn.LSTM: dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="ember.nn.LSTM: proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="ember.nn.RNN: hidden_size must be greater than zero"):
        nn.RNN(3, 0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)
    with pytest.raises(ValueError, match="ember.nn.LSTMCell: Expected input to be 1D or 2D"):
        nn.LSTMCell(3, 4)(ember.randn(1, 2, 3))
    with pytest.raises(RuntimeError, match="ember.lstm_cell: hidden state of shape"):
        nn.LSTMCell(3, 4)(ember.randn(2, 3), (ember.zeros(2, 5), ember.zeros(2, 4)))
