"""Activation layers and nn.functional's activation API against torch: values, input and
parameter gradients (float32 and float64), reprs, inplace=, softmax's dim handling."""
import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.functional as F
from helpers import check_op, check_gradcheck, check_module, torch

TF = torch.nn.functional
DT = [np.float32, np.float64]

# (class name, constructor args, kwargs)
MODULES = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("ReLU6", (), {}), ("ReLU6", (), {"inplace": True}),
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}), ("ELU", (), {}), ("ELU", (0.5,), {"inplace": True}),
    ("SELU", (), {}), ("SELU", (True,), {}), ("CELU", (), {}), ("CELU", (2.0,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("SiLU", (True,), {}), ("Mish", (), {}),
    ("Mish", (True,), {}), ("Softplus", (), {}), ("Softplus", (2.0, 1.0), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-2.0, 0.5), {}), ("Hardtanh", (-2.0, 0.5, True), {}), ("Hardsigmoid", (), {}),
    ("Hardsigmoid", (True,), {}), ("Hardswish", (), {}), ("Hardswish", (True,), {}), ("Hardshrink", (), {}),
    ("Hardshrink", (1.0,), {}), ("Softshrink", (), {}), ("Softshrink", (0.3,), {}), ("Tanhshrink", (), {}),
    ("Softsign", (), {}), ("LogSigmoid", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("Threshold", (0.1, 20.0), {}), ("Threshold", (0.1, -1.0, True), {}), ("GLU", (), {}), ("GLU", (1,), {}),
    ("Softmax", (1,), {}), ("Softmax", (-1,), {}), ("LogSoftmax", (1,), {}), ("LogSoftmax", (-1,), {}),
    ("Softmin", (1,), {}), ("Softmin", (0,), {}), ("Softmax2d", (), {}), ("RReLU", (), {}),
    ("RReLU", (0.1, 0.3), {}), ("PReLU", (), {}), ("PReLU", (4,), {}), ("PReLU", (4, 0.1), {}),
]
SHAPE = (3, 4, 2, 2)
# torch's float64 hardsigmoid backward multiplies by a float32 1/6 (relative error ~3e-8)
LOOSE64 = {"Hardsigmoid": 1e-7, "hardsigmoid": 1e-7}


def _ids(m):
    return f"{m[0]}{m[1]}{m[2]}"


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=[_ids(m) for m in MODULES])
def test_module_matches_torch(name, args, kwargs, dtype):
    e, t = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(e) == repr(t)
    if name == "RReLU":  # random slopes in training: compare the (deterministic) eval mode
        e.eval(), t.eval()
    inplace = getattr(t, "inplace", False)
    # an in-place layer needs a non-leaf input (as in torch): feed x * 1
    call = (lambda m, x: m(x * 1.0)) if inplace else None
    rtol = LOOSE64.get(name) if dtype == np.float64 else None
    check_module(e, t, [SHAPE], dtype=dtype, call=call, rtol=rtol)


@pytest.mark.parametrize("name,args,kwargs", [m for m in MODULES
                                              if getattr(getattr(torch.nn, m[0])(*m[1], **m[2]), "inplace", False)])
def test_inplace_writes_input(name, args, kwargs):
    e = getattr(nn, name)(*args, **kwargs)
    assert e.inplace
    x = ember.randn(*SHAPE)
    y = e(x)
    assert y is x
    t = getattr(torch.nn, name)(*args, **kwargs)
    xt = torch.tensor(ember.randn(*SHAPE).numpy())
    ref = t(xt.clone())
    np.testing.assert_allclose(e(ember.tensor(xt.numpy())).numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(5,), (2, 6), (2, 3, 4), (0, 3)])
def test_prelu_shapes(shape):
    n = shape[1] if len(shape) > 1 and shape[1] else 1
    check_module(nn.PReLU(n), torch.nn.PReLU(n), [shape])


def test_prelu_state_dict_and_init():
    m = nn.PReLU(3, init=0.4)
    assert list(m.state_dict()) == ["weight"]
    np.testing.assert_allclose(m.weight.detach().numpy(), [0.4] * 3)
    m.reset_parameters()
    assert m.weight.requires_grad


def test_rrelu_training():
    ember.manual_seed(0)
    x = ember.full((200, 300), -1.0, requires_grad=True)
    m = nn.RReLU(0.1, 0.3)
    y = m(x)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.mean() == pytest.approx(0.2, abs=0.005)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)
    pos = ember.ones(3, 3)
    np.testing.assert_array_equal(m(pos).numpy(), pos.numpy())


def test_rrelu_functional():
    x = ember.randn(4, 5)
    np.testing.assert_allclose(F.rrelu(x).numpy(), TF.rrelu(torch.tensor(x.numpy())).numpy(), rtol=1e-6)
    ember.manual_seed(1)
    a = F.rrelu(x, training=True).numpy()
    ember.manual_seed(1)
    y = x.clone()
    assert F.rrelu_(y, training=True) is y
    np.testing.assert_array_equal(y.numpy(), a)


# --- nn.functional ------------------------------------------------------------------------------
# name, args after input; each compared with torch.nn.functional of the same name
FUNCTIONALS = [
    ("relu", ()), ("relu6", ()), ("elu", (0.7,)), ("selu", ()), ("celu", (1.5,)), ("leaky_relu", (0.1,)),
    ("gelu", ()), ("silu", ()), ("mish", ()), ("softplus", (2.0, 5.0)), ("hardtanh", (-0.5, 0.8)),
    ("hardsigmoid", ()), ("hardswish", ()), ("hardshrink", (0.4,)), ("softshrink", (0.4,)), ("tanhshrink", ()),
    ("softsign", ()), ("logsigmoid", ()), ("sigmoid", ()), ("tanh", ()), ("threshold", (0.3, -2.0)),
    ("glu", (1,)), ("softmax", (1,)), ("log_softmax", (0,)), ("softmin", (-1,)),
]


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("name,args", FUNCTIONALS, ids=[f[0] for f in FUNCTIONALS])
def test_functional_matches_torch(name, args, dtype):
    rtol = LOOSE64.get(name) if dtype == np.float64 else None
    check_op([(4, 6)], lambda x: getattr(F, name)(x, *args), lambda x: getattr(TF, name)(x, *args), dtype=dtype,
             rtol=rtol)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_keywords_dtype_and_implicit_dim(name):
    check_op([(3, 4, 5)], lambda x: getattr(F, name)(x, dim=2, dtype=ember.float64),
             lambda x: getattr(TF, name)(x, dim=2, dtype=torch.float64))
    check_op([(3, 4)], lambda x: getattr(F, name)(input=x, dim=-1, _stacklevel=3),
             lambda x: getattr(TF, name)(input=x, dim=-1, _stacklevel=3))
    for shape in [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]:
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
            check_op([shape], getattr(F, name), getattr(TF, name))


def test_functional_keyword_signatures():
    check_op([(3, 4)], lambda x: F.leaky_relu(x, negative_slope=0.2, inplace=False),
             lambda x: TF.leaky_relu(x, negative_slope=0.2, inplace=False))
    check_op([(3, 4)], lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"))
    check_op([(3, 4)], lambda x: F.hardtanh(x, min_val=-0.2, max_val=0.3),
             lambda x: TF.hardtanh(x, min_val=-0.2, max_val=0.3))
    check_op([(3, 4)], lambda x: F.softplus(x, beta=0.5, threshold=1.0),
             lambda x: TF.softplus(x, beta=0.5, threshold=1.0))
    check_op([(3, 4)], lambda x: F.elu(x * 1.0, alpha=0.3, inplace=True),
             lambda x: TF.elu(x * 1.0, alpha=0.3, inplace=True))
    check_op([(2, 4), (4,)], lambda x, w: F.prelu(x, w), lambda x, w: TF.prelu(x, w))


@pytest.mark.parametrize("name", ["relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "selu_", "celu_"])
def test_functional_inplace_variants(name):
    args = (0.1, 2.0) if name == "threshold_" else ()
    x = ember.randn(3, 4)
    ref = getattr(TF, name)(torch.tensor(x.numpy()), *args)
    assert getattr(F, name)(x, *args) is x
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-6)


def test_gumbel_softmax():
    ember.manual_seed(0)
    logits = ember.tensor(np.log(np.array([[0.1, 0.2, 0.7]] * 4000)), dtype=ember.float32, requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(y.detach().numpy().sum(-1), 1.0, rtol=1e-5)
    h = F.gumbel_softmax(logits, hard=True)
    hn = h.detach().numpy()
    assert set(np.unique(hn)) == {0.0, 1.0} and (hn.sum(-1) == 1).all()
    np.testing.assert_allclose(hn.mean(0), [0.1, 0.2, 0.7], atol=0.03)  # argmax of Gumbel-perturbed logits
    (h * ember.arange(3.0)).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


def test_gradcheck_composed_functionals():
    check_gradcheck([(3, 4)], lambda x: F.softmin(x, 1))
    check_gradcheck([(3, 4)], lambda x: F.rrelu(x))
    check_gradcheck([(3, 4)], lambda x: F.log_softmax(x, 0))


def test_softmax2d_errors_and_unbatched():
    with pytest.raises(ValueError, match="ember.nn.Softmax2d: expected input to be 3D or 4D"):
        nn.Softmax2d()(ember.randn(3, 4))
    check_module(nn.Softmax2d(), torch.nn.Softmax2d(), [(3, 2, 2)])


def test_hardtanh_errors_and_deprecated_names():
    with pytest.raises(ValueError, match="ember.nn.Hardtanh: max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.warns(FutureWarning, match="min_value"):
        m = nn.Hardtanh(min_value=-2.0)
    assert m.min_val == -2.0


def test_activation_in_sequential_repr():
    e = nn.Sequential(nn.Linear(3, 4), nn.PReLU(), nn.GELU(approximate="tanh"), nn.Softmax(dim=-1))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.PReLU(), torch.nn.GELU(approximate="tanh"),
                            torch.nn.Softmax(dim=-1))
    assert repr(e) == repr(t)
    check_module(e, t, [(2, 3)])
