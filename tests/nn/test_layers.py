"""Linear, Bilinear, Identity, Flatten, Unflatten, the dropout family and nn.utils against torch."""
import warnings

import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.functional as F
from ember.autograd import gradgradcheck
from helpers import check_op, check_gradcheck, check_module, make_inputs, torch

TF = torch.nn.functional
DT = [np.float32, np.float64]


# --- linear ----------------------------------------------------------------------------------
@pytest.mark.parametrize("xshape", [(5,), (3, 5), (2, 3, 5), (2, 1, 3, 5), (0, 5), (4, 0, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_functional_linear(xshape, bias):
    shapes = [xshape, (4, 5)] + ([(4,)] if bias else [])
    check_op(shapes, F.linear, TF.linear)


@pytest.mark.parametrize("dtype", DT)
def test_functional_linear_noncontig_and_dtype(dtype):
    check_op([(3, 6), (4, 6), (4,)], F.linear, TF.linear, noncontig=True, dtype=dtype)
    check_op([(2, 3, 6), (6, 4)], lambda x, w: F.linear(x, w.T), lambda x, w: TF.linear(x, w.T), dtype=dtype)


def test_functional_linear_vector_weight_and_keywords():
    check_op([(3, 5), (5,)], F.linear, TF.linear)
    check_op([(3, 5), (4, 5), (1,)], lambda x, w, b: F.linear(x, weight=w, bias=b),
             lambda x, w, b: TF.linear(x, weight=w, bias=b))


def test_linear_gradcheck_and_double_backward():
    check_gradcheck([(2, 3, 5), (4, 5), (4,)], F.linear)
    check_gradcheck([(5,), (4, 5)], F.linear)
    xs = [ember.tensor(a, requires_grad=True) for a in make_inputs([(2, 3), (4, 3), (4,)], np.float64)]
    assert gradgradcheck(F.linear, xs)


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"ember.linear: input of shape \(3, 5\) and weight of shape \(4, 6\)"):
        F.linear(ember.randn(3, 5), ember.randn(4, 6))
    with pytest.raises(RuntimeError, match="ember.linear: bias"):
        F.linear(ember.randn(3, 5), ember.randn(4, 5), ember.randn(3))
    with pytest.raises(RuntimeError, match="ember.linear: expected input, weight and bias of one dtype"):
        F.linear(ember.randn(3, 5), ember.randn(4, 5, dtype=ember.float64))


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_module(dtype, bias):
    check_module(nn.Linear(5, 4, bias=bias), torch.nn.Linear(5, 4, bias=bias), [(2, 3, 5)], dtype=dtype)
    check_module(nn.Linear(5, 4, bias=bias), torch.nn.Linear(5, 4, bias=bias), [(5,)], dtype=dtype)


def test_linear_attributes_and_repr():
    e, t = nn.Linear(3, 2, bias=False), torch.nn.Linear(3, 2, bias=False)
    assert repr(e) == repr(t) and e.bias is None and list(e.state_dict()) == ["weight"]
    e = nn.Linear(3, 2, dtype=ember.float64)
    assert e.weight.dtype == ember.float64 and e.in_features == 3 and e.out_features == 2
    assert repr(nn.Identity(3, foo=1)) == repr(torch.nn.Identity(3, foo=1)) == "Identity()"
    x = ember.randn(2, 3)
    assert nn.Identity()(x) is x


@pytest.mark.parametrize("shapes", [[(3,), (4,)], [(2, 3), (2, 4)], [(5, 2, 3), (5, 2, 4)]])
def test_functional_bilinear(shapes):
    check_op(shapes + [(6, 3, 4), (6,)], F.bilinear, TF.bilinear)
    check_op(shapes + [(6, 3, 4)], F.bilinear, TF.bilinear)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(dtype, bias):
    e, t = nn.Bilinear(3, 4, 5, bias=bias), torch.nn.Bilinear(3, 4, 5, bias=bias)
    assert repr(e) == repr(t)
    check_module(e, t, [(2, 3), (2, 4)], dtype=dtype)


def test_bilinear_gradcheck_and_errors():
    check_gradcheck([(2, 3), (2, 4), (5, 3, 4), (5,)], F.bilinear)
    with pytest.raises(RuntimeError, match="ember.bilinear"):
        F.bilinear(ember.randn(2, 3), ember.randn(2, 4), ember.randn(5, 4, 4))


def test_bilinear_init_bounds():
    m = nn.Bilinear(16, 3, 40)
    b = 1 / 4
    assert np.abs(m.weight.detach().numpy()).max() <= b and np.abs(m.bias.detach().numpy()).max() <= b


# --- flatten -------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(), (0,), (1, 2), (0, -1), (-3, -2), (2, 2)])
def test_flatten(args):
    e, t = nn.Flatten(*args), torch.nn.Flatten(*args)
    assert repr(e) == repr(t)
    check_module(e, t, [(2, 3, 4, 5)])


@pytest.mark.parametrize("dim,size", [(1, (3, 4)), (-1, (2, -1)), (1, [12, 1]), (0, (1, 2))])
def test_unflatten(dim, size):
    e, t = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
    assert repr(e) == repr(t)
    check_module(e, t, [(2, 12, 4)])


def test_unflatten_errors():
    with pytest.raises(TypeError, match="ember.nn.Unflatten: unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 3)
    with pytest.raises(TypeError, match="at pos 1"):
        nn.Unflatten(1, (3, 2.0))


# --- dropout -----------------------------------------------------------------------------------
DROPOUTS = [("Dropout", "dropout", (4, 5)), ("Dropout1d", "dropout1d", (3, 4, 5)),
            ("Dropout2d", "dropout2d", (2, 3, 4, 5)), ("Dropout3d", "dropout3d", (2, 3, 2, 2, 2)),
            ("AlphaDropout", "alpha_dropout", (4, 5)), ("FeatureAlphaDropout", "feature_alpha_dropout", (2, 3, 4, 5))]


@pytest.mark.parametrize("cls,fn,shape", DROPOUTS)
def test_dropout_eval_and_p0_are_identity(cls, fn, shape):
    e, t = getattr(nn, cls)(0.3), getattr(torch.nn, cls)(0.3)
    assert repr(e) == repr(t)
    check_module(e.eval(), t.eval(), [shape])
    check_module(getattr(nn, cls)(0.0), getattr(torch.nn, cls)(0.0), [shape])
    x = ember.randn(*shape)
    assert getattr(F, fn)(x, 0.4, training=False) is x


@pytest.mark.parametrize("cls,fn,shape", DROPOUTS)
def test_dropout_p1(cls, fn, shape):
    check_module(getattr(nn, cls)(1.0), getattr(torch.nn, cls)(1.0), [shape])


def test_dropout_statistics_and_gradient():
    ember.manual_seed(0)
    x = ember.ones(200, 500, requires_grad=True)
    y = F.dropout(x, 0.3)
    kept = y.detach().numpy() != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # d/dx = mask / (1 - p)


def test_feature_dropout_zeroes_whole_channels():
    ember.manual_seed(1)
    for fn, shape, spatial in (("dropout1d", (8, 16, 5), 1), ("dropout2d", (8, 16, 3, 3), 2),
                               ("dropout3d", (8, 16, 2, 2, 2), 3), ("dropout1d", (16, 5), 1),
                               ("dropout3d", (16, 2, 2, 2), 3)):
        y = getattr(F, fn)(ember.ones(*shape), 0.5).numpy()
        per_channel = y.reshape(-1, int(np.prod(shape[-spatial:])))
        assert (per_channel.std(1) == 0).all()  # each channel all kept or all dropped
        assert set(np.unique(y)) == {0.0, 2.0} and y.shape == shape


def test_alpha_dropout_keeps_moments():
    ember.manual_seed(2)
    x = ember.randn(400, 500)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert y.mean() == pytest.approx(0.0, abs=0.02) and y.std() == pytest.approx(1.0, abs=0.02)
    y = nn.FeatureAlphaDropout(0.2)(ember.randn(200, 100, 4, 4)).numpy()
    assert y.mean() == pytest.approx(0.0, abs=0.05) and y.std() == pytest.approx(1.0, abs=0.05)


def test_dropout_reproducible_and_inplace():
    ember.manual_seed(5)
    a = F.dropout(ember.ones(10, 10), 0.5).numpy()
    ember.manual_seed(5)
    m = nn.Dropout(0.5, inplace=True)
    x = ember.ones(10, 10)
    out = m(x)
    assert out is x
    np.testing.assert_array_equal(x.numpy(), a)
    ember.manual_seed(5)
    y = ember.ones(4, 10)
    assert F.dropout1d(y, 0.5, inplace=True) is y


def test_dropout_inplace_gradient():
    ember.manual_seed(3)
    x = ember.randn(5, 6, requires_grad=True)
    h = x * 1.0
    y = F.dropout(h, 0.5, inplace=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y.detach().numpy() != 0) * 2.0)


def test_dropout_gradcheck():
    ember.manual_seed(4)
    mask_p = 0.4
    x0 = make_inputs([(3, 4)], np.float64)[0]

    def fn(x):
        ember.manual_seed(4)  # the same mask on every evaluation
        return F.dropout(x, mask_p)
    check_gradcheck([], fn, inputs=[x0])
    assert gradgradcheck(fn, [ember.tensor(x0, requires_grad=True)])


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_errors(p):
    for cls, fn, _ in DROPOUTS:
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            getattr(nn, cls)(p)
        with pytest.raises(ValueError, match=f"ember.{fn}: dropout probability"):
            getattr(F, fn)(ember.randn(2, 3, 4, 4), p)
    with pytest.raises(RuntimeError, match="ember.dropout1d: expected 2D or 3D input"):
        F.dropout1d(ember.randn(2, 3, 4, 5))


def test_dropout2d_warnings():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(ember.randn(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 5-D input to dropout2d"):
        F.dropout2d(ember.randn(2, 3, 4, 1, 1))


def test_dropout_train_eval_switch():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    x = ember.randn(3, 4)
    m.eval()
    np.testing.assert_array_equal(m(x).detach().numpy(), m[0](x).detach().numpy())
    m.train()
    ember.manual_seed(0)
    assert (m(ember.ones(50, 4)).detach().numpy() == 0).mean() > 0.5


# --- nn.utils -----------------------------------------------------------------------------------
def _models(seed=0):
    torch.manual_seed(seed)
    t = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2, bias=False))
    e = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2, bias=False))
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    rs = np.random.default_rng(seed)
    for (_, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        g = (rs.standard_normal(tuple(pt.shape)) * 3).astype(np.float32)
        pe.grad, pt.grad = ember.tensor(g), torch.tensor(g)
    return e, t


def _grads_equal(e, t):
    for (n, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm(norm_type, max_norm):
    e, t = _models()
    nt = float(norm_type)
    te = nn.utils.clip_grad_norm_(e.parameters(), max_norm, norm_type=nt)
    tt = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type=nt)
    assert isinstance(te, ember.Tensor) and te.ndim == 0 and te.dtype == ember.float32
    np.testing.assert_allclose(te.numpy(), tt.numpy(), rtol=1e-6)
    _grads_equal(e, t)


def test_clip_grad_norm_single_tensor_none_grads_and_empty():
    e, t = _models()
    np.testing.assert_allclose(nn.utils.clip_grad_norm_(e[0].weight, 0.1).numpy(),
                               torch.nn.utils.clip_grad_norm_(t[0].weight, 0.1).numpy(), rtol=1e-6)
    _grads_equal(e, t)
    e[0].bias.grad = None
    t[0].bias.grad = None
    np.testing.assert_allclose(nn.utils.clip_grad_norm_(e.parameters(), 0.2).numpy(),
                               torch.nn.utils.clip_grad_norm_(t.parameters(), 0.2).numpy(), rtol=1e-6)
    assert float(nn.utils.clip_grad_norm_([], 1.0)) == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_nonfinite():
    e, _ = _models()
    e[0].weight.grad = ember.full((3, 4), float("nan"))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(e.parameters(), 1.0, error_if_nonfinite=True)
    assert np.isnan(float(nn.utils.clip_grad_norm_(e.parameters(), 1.0)))


def test_total_norm_and_clip_with_norm():
    e, t = _models()
    ge = [p.grad for p in e.parameters()]
    gt = [p.grad for p in t.parameters()]
    ne, nt = nn.utils.get_total_norm(ge, 3.0), torch.nn.utils.get_total_norm(gt, 3.0)
    np.testing.assert_allclose(ne.numpy(), nt.numpy(), rtol=1e-6)
    nn.utils.clip_grads_with_norm_(e.parameters(), 0.7, ne)
    torch.nn.utils.clip_grads_with_norm_(t.parameters(), 0.7, nt)
    _grads_equal(e, t)


@pytest.mark.parametrize("clip", [0.5, 2.0])
def test_clip_grad_value(clip):
    e, t = _models()
    assert nn.utils.clip_grad_value_(e.parameters(), clip) is None
    torch.nn.utils.clip_grad_value_(t.parameters(), clip)
    _grads_equal(e, t)


def test_clip_after_backward():
    e, t = _models()
    x = make_inputs([(5, 4)])[0]
    e.zero_grad()
    t.zero_grad()
    e(ember.tensor(x)).square().sum().backward()
    t(torch.tensor(x)).square().sum().backward()
    np.testing.assert_allclose(nn.utils.clip_grad_norm_(e.parameters(), 0.1).numpy(),
                               torch.nn.utils.clip_grad_norm_(t.parameters(), 0.1).numpy(), rtol=1e-5)
    _grads_equal(e, t)


def test_parameters_vector_roundtrip():
    e, t = _models()
    ve, vt = nn.utils.parameters_to_vector(e.parameters()), torch.nn.utils.parameters_to_vector(t.parameters())
    np.testing.assert_array_equal(ve.detach().numpy(), vt.detach().numpy())
    assert ve.requires_grad
    params = list(e.parameters())
    ids = [id(p) for p in params]
    nn.utils.vector_to_parameters(ve * 2, e.parameters())
    torch.nn.utils.vector_to_parameters(vt * 2, t.parameters())
    assert [id(p) for p in e.parameters()] == ids
    for pe, pt in zip(e.parameters(), t.parameters()):
        np.testing.assert_array_equal(pe.detach().numpy(), pt.detach().numpy())
        assert pe.requires_grad and pe.is_leaf
    with pytest.raises(TypeError, match="ember.nn.utils.vector_to_parameters: expected ember.Tensor"):
        nn.utils.vector_to_parameters(np.zeros(3), e.parameters())
    with pytest.raises(RuntimeError, match="ember.nn.utils.vector_to_parameters"):
        nn.utils.vector_to_parameters(ember.zeros(3), e.parameters())


def test_no_warnings_from_layers():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Linear(3, 2)(ember.randn(4, 3))
        nn.Dropout()(ember.randn(4, 3))
