"""Normalization layers and functionals vs torch: LayerNorm, RMSNorm, GroupNorm, BatchNorm,
InstanceNorm, LocalResponseNorm; gradcheck and gradgradcheck of the fused norm ops."""
import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.functional as F
from helpers import check_module, check_op, check_gradcheck, assert_close, torch

TF = torch.nn.functional
F64 = np.float64


def _t(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# --- LayerNorm ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,ns", [((3, 5), 5), ((2, 3, 4, 5), (4, 5)), ((4,), (4,)), ((0, 3), 3)])
@pytest.mark.parametrize("kw", [{}, dict(bias=False), dict(elementwise_affine=False), dict(eps=1e-2)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_layer_norm_module(shape, ns, kw, dtype):
    check_module(nn.LayerNorm(ns, **kw), torch.nn.LayerNorm(ns, **kw), [shape], dtype=dtype)


def test_layer_norm_functional():
    check_op([(2, 3, 4), (3, 4), (3, 4)], lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
             lambda x, w, b: TF.layer_norm(x, (3, 4), w, b))
    check_op([(2, 3, 4), (4,)], lambda x, b: F.layer_norm(x, [4], None, b, eps=1e-3),
             lambda x, b: TF.layer_norm(x, [4], None, b, eps=1e-3))
    check_op([(4, 6)], lambda x: F.layer_norm(x, 6), lambda x: TF.layer_norm(x, [6]), noncontig=True)
    check_op([(4, 6), (6,)], lambda x, w: F.layer_norm(x.t(), (4,), w[:4]),
             lambda x, w: TF.layer_norm(x.t(), (4,), w[:4]))


def test_layer_norm_half():
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float16)
    e = F.layer_norm(ember.from_numpy(x), (8,))
    t = TF.layer_norm(torch.from_numpy(x), (8,))
    assert_close(e, t, 2e-3, 2e-3, "float16 layer_norm")


def test_layer_norm_grads():
    check_gradcheck([(3, 5), (5,), (5,)], lambda x, w, b: F.layer_norm(x, (5,), w, b))
    check_gradcheck([(2, 2, 3)], lambda x: F.layer_norm(x, (2, 3)))
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.layer_norm(x, (5,), w, b),
                                        [_t(3, 5), _t(5, seed=1), _t(5, seed=2)])
    assert ember.autograd.gradgradcheck(lambda x: F.layer_norm(x, (2, 3)), [_t(2, 2, 3)])
    # only some inputs need grads: the fused backward skips the others
    x, w = _t(3, 5), _t(5, seed=1)
    assert ember.autograd.gradgradcheck(lambda w: F.layer_norm(x.detach(), (5,), w), [w])


def test_layer_norm_errors():
    with pytest.raises(RuntimeError, match="ember.nn.functional.layer_norm: .*normalized_shape"):
        F.layer_norm(ember.ones(3, 4), (5,))
    with pytest.raises(RuntimeError, match="ember.nn.functional.layer_norm: expected weight of shape"):
        F.layer_norm(ember.ones(3, 4), (4,), ember.ones(3))
    with pytest.raises(RuntimeError, match="ember.nn.functional.layer_norm: expected a floating point"):
        F.layer_norm(ember.tensor([[1, 2]]), (2,))


# --- RMSNorm --------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, dict(eps=1e-3), dict(elementwise_affine=False)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_rms_norm_module(kw, dtype):
    check_module(nn.RMSNorm((3, 4), **kw), torch.nn.RMSNorm((3, 4), **kw), [(2, 3, 4)], dtype=dtype)
    check_module(nn.RMSNorm(4, **kw), torch.nn.RMSNorm(4, **kw), [(5, 4)], dtype=dtype)


def test_rms_norm_functional_and_grads():
    check_op([(3, 5), (5,)], lambda x, w: F.rms_norm(x, (5,), w), lambda x, w: TF.rms_norm(x, (5,), w))
    check_op([(3, 5)], lambda x: F.rms_norm(x, [5], eps=0.1), lambda x: TF.rms_norm(x, [5], eps=0.1), dtype=F64)
    check_gradcheck([(3, 5), (5,)], lambda x, w: F.rms_norm(x, (5,), w))
    assert ember.autograd.gradgradcheck(lambda x, w: F.rms_norm(x, (5,), w), [_t(3, 5), _t(5, seed=1)])
    with pytest.raises(RuntimeError, match="ember.nn.functional.rms_norm"):
        F.rms_norm(ember.ones(3, 4), (3,))


# --- GroupNorm ------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, dict(affine=False), dict(bias=False), dict(eps=1e-3)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_group_norm_module(kw, dtype):
    check_module(nn.GroupNorm(2, 4, **kw), torch.nn.GroupNorm(2, 4, **kw), [(2, 4, 3, 3)], dtype=dtype)
    check_module(nn.GroupNorm(3, 6, **kw), torch.nn.GroupNorm(3, 6, **kw), [(2, 6, 5)], dtype=dtype)


def test_group_norm_grads_and_errors():
    check_gradcheck([(2, 4, 3), (4,), (4,)], lambda x, w, b: F.group_norm(x, 2, w, b))
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.group_norm(x, 2, w, b),
                                        [_t(2, 4, 3), _t(4, seed=1), _t(4, seed=2)])
    with pytest.raises(ValueError, match="ember.nn.GroupNorm"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="ember.nn.functional.group_norm"):
        F.group_norm(ember.ones(2, 4, 3), 3)
    assert repr(nn.GroupNorm(2, 4)) == repr(torch.nn.GroupNorm(2, 4))


# --- BatchNorm ------------------------------------------------------------------------------
BN_CASES = [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (2, 3, 4, 5)),
            ("BatchNorm3d", (2, 3, 2, 2, 3))]


@pytest.mark.parametrize("cls,shape", BN_CASES)
@pytest.mark.parametrize("kw", [{}, dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False),
                                dict(track_running_stats=False), dict(bias=False)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_batch_norm_module(cls, shape, kw, dtype):
    e, t = getattr(nn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw)
    tol = (1e-6, 1e-7) if dtype == np.float32 else (1e-12, 1e-14)
    for step in range(3):  # running statistics after several train steps
        check_module(e, t, [shape], seed=step, dtype=dtype, load=step == 0)
    e_sd, t_sd = e.state_dict(), t.state_dict()
    assert list(e_sd) == list(t_sd)
    for k, v in t_sd.items():
        assert_close(e_sd[k], v, *tol, k)
    e.eval()
    t.eval()
    check_module(e, t, [shape], seed=9, dtype=dtype, load=False)
    assert repr(e) == repr(t)


def test_batch_norm_buffers():
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == list(torch.nn.BatchNorm2d(3).state_dict())
    assert bn.num_batches_tracked.dtype == ember.int64 and bn.num_batches_tracked.ndim == 0
    bn(ember.randn(2, 3, 2, 2))
    bn(ember.randn(2, 3, 2, 2))
    assert int(bn.num_batches_tracked) == 2
    bn.double()
    assert bn.running_mean.dtype == ember.float64 and bn.num_batches_tracked.dtype == ember.int64
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked) == 0 and float(bn.running_var.sum()) == 3
    # a checkpoint without num_batches_tracked (older PyTorch) still loads
    sd = {k: v.numpy() for k, v in torch.nn.BatchNorm2d(3).state_dict().items() if k != "num_batches_tracked"}
    nn.BatchNorm2d(3).load_state_dict(sd)


def test_batch_norm_functional():
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    for training in (True, False):
        check_op([(4, 3, 2), (3,), (3,)],
                 lambda x, w, b: F.batch_norm(x, ember.tensor(rm + 0.5), ember.tensor(rv * 2), w, b, training, 0.2),
                 lambda x, w, b: TF.batch_norm(x, torch.tensor(rm + 0.5), torch.tensor(rv * 2), w, b, training, 0.2))
    check_op([(5, 3)], lambda x: F.batch_norm(x, None, None, training=True),
             lambda x: TF.batch_norm(x, None, None, training=True), noncontig=True)
    em, tm, ev, tv = ember.zeros(3), torch.zeros(3), ember.ones(3), torch.ones(3)
    x = np.random.default_rng(0).standard_normal((4, 3, 2)).astype(np.float32)
    for _ in range(2):
        F.batch_norm(ember.tensor(x), em, ev, training=True, momentum=0.5)
        TF.batch_norm(torch.tensor(x), tm, tv, training=True, momentum=0.5)
    assert_close(em, tm, 1e-6, 1e-7, "running_mean")
    assert_close(ev, tv, 1e-6, 1e-7, "running_var")


def test_batch_norm_grads():
    check_gradcheck([(4, 3, 2), (3,), (3,)], lambda x, w, b: F.batch_norm(x, None, None, w, b, True))
    rm, rv = ember.tensor([0.1, -0.2, 0.3], dtype=ember.float64), ember.tensor([1.5, 0.5, 2.0], dtype=ember.float64)
    check_gradcheck([(4, 3, 2), (3,), (3,)], lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False))
    ins = [_t(4, 3, 2), _t(3, seed=1), _t(3, seed=2)]
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), ins)
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False), ins)
    assert ember.autograd.gradgradcheck(lambda x: F.batch_norm(x, None, None, training=True), [_t(5, 2)])


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"ember.nn.BatchNorm2d: expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(ember.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"ember.nn.BatchNorm1d: expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(ember.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match="ember.nn.functional.batch_norm: expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(ember.ones(1, 3))
    with pytest.raises(ValueError, match="ember.nn.functional.batch_norm: running_mean and running_var"):
        F.batch_norm(ember.ones(2, 3), ember.zeros(3), None)
    with pytest.raises(RuntimeError, match="ember.nn.functional.batch_norm: expected running_mean of shape"):
        F.batch_norm(ember.ones(2, 3), ember.zeros(4), ember.ones(3))
    with pytest.raises(RuntimeError, match="ember.nn.functional.batch_norm: expected weight of shape"):
        F.batch_norm(ember.ones(2, 3), None, None, ember.ones(2), training=True)


# --- InstanceNorm ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)),
                                       ("InstanceNorm2d", (2, 3, 4, 5)), ("InstanceNorm3d", (2, 3, 2, 2, 3))])
@pytest.mark.parametrize("kw", [{}, dict(affine=True), dict(track_running_stats=True),
                                dict(affine=True, track_running_stats=True, momentum=0.3)])
def test_instance_norm_module(cls, shape, kw):
    e, t = getattr(nn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw)
    for step in range(2):
        check_module(e, t, [shape], seed=step, load=step == 0)
    for k, v in t.state_dict().items():
        assert_close(e.state_dict()[k], v, 1e-6, 1e-7, k)
    e.eval()
    t.eval()
    check_module(e, t, [shape], seed=9, load=False)
    check_module(getattr(nn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw), [shape], dtype=F64)
    assert repr(e) == repr(t)


def test_instance_norm_functional():
    check_op([(2, 3, 4), (3,), (3,)], lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
             lambda x, w, b: TF.instance_norm(x, weight=w, bias=b))
    rm, rv = np.full(3, 0.2, np.float32), np.full(3, 1.5, np.float32)
    check_op([(2, 3, 4)], lambda x: F.instance_norm(x, ember.tensor(rm), ember.tensor(rv), use_input_stats=False),
             lambda x: TF.instance_norm(x, torch.tensor(rm), torch.tensor(rv), use_input_stats=False))
    check_gradcheck([(2, 3, 4), (3,), (3,)], lambda x, w, b: F.instance_norm(x, weight=w, bias=b))
    with pytest.raises(ValueError, match="ember.nn.InstanceNorm2d"):
        nn.InstanceNorm2d(3)(ember.ones(3, 4))
    with pytest.raises(ValueError, match="ember.nn.InstanceNorm1d: expected input's size at dim=1"):
        nn.InstanceNorm1d(4, affine=True)(ember.ones(2, 3, 5))


# --- LocalResponseNorm ----------------------------------------------------------------------
@pytest.mark.parametrize("args,shape", [((3,), (2, 5, 3)), ((2,), (2, 5, 3, 2)), ((4, 1e-2, 0.5, 2.0), (1, 6, 2, 2))])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_local_response_norm(args, shape, dtype):
    check_module(nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args), [shape], dtype=dtype)


def test_local_response_norm_grad():
    check_gradcheck([(2, 4, 3)], lambda x: F.local_response_norm(x, 3, alpha=0.1))
    with pytest.raises(ValueError, match="ember.nn.functional.local_response_norm"):
        F.local_response_norm(ember.ones(2, 3), 2)


def test_top_level_functions():  # torch.layer_norm, torch.batch_norm (weight and bias first) ...
    assert ember.layer_norm is F.layer_norm and ember.group_norm is F.group_norm and ember.rms_norm is F.rms_norm
    check_op([(4, 3, 2), (3,), (3,)], lambda x, w, b: ember.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
             lambda x, w, b: torch.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False))
    check_op([(4, 3, 2), (3,)], lambda x, w: ember.instance_norm(x, w, None, None, None, True, 0.1, 1e-5, False),
             lambda x, w: torch.instance_norm(x, w, None, None, None, True, 0.1, 1e-5, False))
