"""ember.nn.init against torch.nn.init: deterministic fills exactly, random fills by their
bounds and statistics (random draws are never compared with torch's), reproducibility."""
import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import init
from helpers import torch

tinit = torch.nn.init
NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("name", NONLINEARITIES)
def test_calculate_gain(name):
    assert init.calculate_gain(name) == pytest.approx(tinit.calculate_gain(name))


@pytest.mark.parametrize("param", [0, 0.2, 1, 3.5])
def test_calculate_gain_leaky_param(param):
    assert init.calculate_gain("leaky_relu", param) == pytest.approx(tinit.calculate_gain("leaky_relu", param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="ember.nn.init.calculate_gain: unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (8, 2, 3), (6, 4, 3, 3), (2, 3, 2, 2, 2), (5, 0)])
def test_fan_in_and_fan_out(shape):
    e = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    t = tinit._calculate_fan_in_and_fan_out(torch.empty(*shape))
    assert e == t


def test_fan_error():
    with pytest.raises(ValueError, match="ember.nn.init: fan in and fan out"):
        init._calculate_fan_in_and_fan_out(ember.empty(5))


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_eye(shape):
    e, t = ember.empty(*shape), torch.empty(*shape)
    np.testing.assert_array_equal(_np(init.eye_(e)), tinit.eye_(t).numpy())


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((4, 6, 3, 3), 2), ((3, 2, 3, 3, 3), 1),
                                          ((4, 2, 2, 4), 4)])
def test_dirac(shape, groups):
    e, t = ember.empty(*shape), torch.empty(*shape)
    np.testing.assert_array_equal(_np(init.dirac_(e, groups)), tinit.dirac_(t, groups).numpy())


@pytest.mark.parametrize("fn,args", [("constant_", (0.3,)), ("zeros_", ()), ("ones_", ())])
def test_constant_fills(fn, args):
    e, t = ember.empty(3, 4, dtype=ember.float64), torch.empty(3, 4, dtype=torch.float64)
    np.testing.assert_array_equal(_np(getattr(init, fn)(e, *args)), getattr(tinit, fn)(t, *args).numpy())


def test_fill_errors():
    with pytest.raises(ValueError, match="ember.nn.init.eye_"):
        init.eye_(ember.empty(2, 2, 2))
    with pytest.raises(ValueError, match="ember.nn.init.dirac_"):
        init.dirac_(ember.empty(2, 2))
    with pytest.raises(ValueError, match="ember.nn.init.dirac_: dim 0"):
        init.dirac_(ember.empty(3, 2, 3), groups=2)
    with pytest.raises(ValueError, match="ember.nn.init.orthogonal_"):
        init.orthogonal_(ember.empty(3))
    with pytest.raises(ValueError, match="ember.nn.init.sparse_"):
        init.sparse_(ember.empty(3, 3, 3), 0.5)
    with pytest.raises(ValueError, match="mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")


def _xavier_bound(shape, gain):
    fan_in, fan_out = tinit._calculate_fan_in_and_fan_out(torch.empty(*shape))
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


def _kaiming_bound(shape, a, mode, nonlinearity):
    fan = tinit._calculate_correct_fan(torch.empty(*shape), mode)
    return tinit.calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)


SHAPE = (200, 30, 3)


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    b = _xavier_bound(SHAPE, gain)
    u = _np(init.xavier_uniform_(ember.empty(*SHAPE), gain=gain))
    assert np.abs(u).max() <= b and np.abs(u).max() > 0.98 * b
    assert u.std() == pytest.approx(b / math.sqrt(3), rel=0.03)
    n = _np(init.xavier_normal_(ember.empty(*SHAPE), gain=gain))
    assert n.std() == pytest.approx(b / math.sqrt(3), rel=0.03) and abs(n.mean()) < 0.05 * b


@pytest.mark.parametrize("a,mode,nl", [(0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
                                       (0, "fan_out", "relu"), (0.1, "FAN_OUT", "tanh"), (0, "fan_in", "linear")])
def test_kaiming(a, mode, nl):
    b = _kaiming_bound(SHAPE, a, mode.lower(), nl)
    u = _np(init.kaiming_uniform_(ember.empty(*SHAPE), a=a, mode=mode, nonlinearity=nl))
    assert np.abs(u).max() <= b and np.abs(u).max() > 0.98 * b
    n = _np(init.kaiming_normal_(ember.empty(*SHAPE), a=a, mode=mode, nonlinearity=nl))
    assert n.std() == pytest.approx(b / math.sqrt(3), rel=0.03)


def test_kaiming_zero_element_warns():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(ember.empty(0, 3))


def test_uniform_normal_stats():
    u = _np(init.uniform_(ember.empty(100, 100), -3, 5))
    assert u.min() >= -3 and u.max() < 5 and u.mean() == pytest.approx(1.0, abs=0.1)
    n = _np(init.normal_(ember.empty(100, 100, dtype=ember.float64), 2.0, 0.5))
    assert n.dtype == np.float64 and n.mean() == pytest.approx(2.0, abs=0.02)
    assert n.std() == pytest.approx(0.5, rel=0.03)


@pytest.mark.parametrize("mean,std,a,b", [(0, 1, -2, 2), (0, 0.02, -0.04, 0.04), (1, 1, 3, 4), (0, 1, -0.1, 0.1)])
def test_trunc_normal(mean, std, a, b):
    x = _np(init.trunc_normal_(ember.empty(20000), mean, std, a, b)).astype(np.float64)
    assert x.min() >= a and x.max() <= b
    # moments of the truncated normal, from torch's own sampler (statistics, not draws)
    ref = tinit.trunc_normal_(torch.empty(200000, dtype=torch.float64), mean, std, a, b).numpy()
    assert x.mean() == pytest.approx(ref.mean(), abs=0.03 * (b - a))
    assert x.std() == pytest.approx(ref.std(), rel=0.05)


@pytest.mark.parametrize("shape,gain", [((6, 6), 1), ((4, 9), 2.0), ((9, 4), 1), ((4, 3, 2, 2), 0.5)])
def test_orthogonal(shape, gain):
    w = _np(init.orthogonal_(ember.empty(*shape, dtype=ember.float64), gain=gain)).reshape(shape[0], -1) / gain
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-10)


def test_sparse():
    w = _np(init.sparse_(ember.empty(10, 40), 0.3, std=0.5))
    assert ((w == 0).sum(0) == math.ceil(0.3 * 10)).all()


def test_inplace_identity_no_grad_and_version():
    p = nn.Parameter(ember.empty(5, 4))
    ident = id(p)
    v = p._version
    out = init.kaiming_uniform_(p, a=math.sqrt(5))
    assert out is p and id(p) == ident and p.requires_grad and p.is_leaf and p.grad_fn is None
    assert p._version > v
    init.xavier_normal_(p)
    assert p.is_leaf and p.requires_grad


def test_reproducible_with_seed_and_generator():
    def draw(**kw):
        return [_np(f(ember.empty(8, 5), **kw)) for f in (init.uniform_, init.normal_, init.xavier_uniform_,
                                                          init.kaiming_normal_, init.orthogonal_, init.trunc_normal_)]
    ember.manual_seed(123)
    a = draw()
    ember.manual_seed(123)
    b = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    for x, y in zip(draw(generator=g1), draw(generator=g2)):
        np.testing.assert_array_equal(x, y)


def test_dtype_kept():
    for dt in (ember.float16, ember.float32, ember.float64, ember.bfloat16):
        assert init.normal_(ember.empty(3, 3, dtype=dt)).dtype == dt


def test_linear_default_init_bounds():
    m = nn.Linear(50, 20)
    b = 1 / math.sqrt(50)
    assert np.abs(_np(m.weight)).max() <= b and np.abs(_np(m.bias)).max() <= b
    assert _np(m.weight).std() == pytest.approx(b / math.sqrt(3), rel=0.1)


def test_deprecated_aliases():
    with pytest.warns(FutureWarning):
        init.normal(ember.empty(2, 2))
