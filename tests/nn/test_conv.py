"""Convolutions (Conv1d/2d/3d, ConvTranspose1d/2d/3d, F.conv*, F.unfold / F.fold) against torch."""
import math

import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.functional as F
from ember.autograd import gradgradcheck
from helpers import check_op, check_gradcheck, check_module, make_inputs, torch

TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def pair(name, *args, **kw):
    """The same layer built in ember and in torch (weights are loaded from torch by check_module)."""
    return getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)


# --- modules ---------------------------------------------------------------------------------
CONV1D = [
    dict(args=(3, 4, 3)),
    dict(args=(3, 4, 3), kw=dict(stride=2, padding=1, dilation=2)),
    dict(args=(4, 6, 2), kw=dict(groups=2, bias=False)),
    dict(args=(4, 4, 3), kw=dict(groups=4, padding=1)),                 # depthwise
    dict(args=(3, 4, 4), kw=dict(padding="same", dilation=3)),          # even kernel: asymmetric
    dict(args=(3, 4, 3), kw=dict(padding="valid")),
    dict(args=(3, 4, 3), kw=dict(padding=2, padding_mode="reflect")),
    dict(args=(3, 4, 3), kw=dict(padding=1, padding_mode="replicate", stride=2)),
    dict(args=(3, 4, 4), kw=dict(padding="same", padding_mode="circular")),
]


@pytest.mark.parametrize("case", CONV1D)
def test_conv1d_module(case):
    e, t = pair("Conv1d", *case["args"], **case.get("kw", {}))
    check_module(e, t, [(2, case["args"][0], 11)])


CONV2D = [
    dict(args=(3, 5, 3)),
    dict(args=(3, 5, 3), kw=dict(stride=2, padding=1)),
    dict(args=(3, 4, (2, 3)), kw=dict(stride=(2, 1), padding=(1, 0), dilation=(2, 1))),   # non-square
    dict(args=(4, 6, 3), kw=dict(groups=2, bias=False, padding=1)),
    dict(args=(6, 6, 3), kw=dict(groups=6, stride=2)),                                   # depthwise
    dict(args=(4, 8, (3, 1)), kw=dict(groups=4)),                                        # depth multiplier 2
    dict(args=(3, 4, (4, 2)), kw=dict(padding="same", dilation=(1, 2))),                 # even: asymmetric
    dict(args=(3, 4, 3), kw=dict(padding="same", padding_mode="reflect")),
    dict(args=(3, 4, 3), kw=dict(padding=(1, 2), padding_mode="replicate")),
    dict(args=(3, 4, 3), kw=dict(padding=1, padding_mode="circular", stride=2)),
    dict(args=(3, 4, 5), kw=dict(stride=3)),                                             # uncovered trailing rows
    dict(args=(3, 4, 1)),                                                                # 1x1
    dict(args=(2, 12, 2), kw=dict(stride=2, padding=1, groups=2)),  # C/g * K <= O/g: input grad batch-major
]


@pytest.mark.parametrize("case", CONV2D)
def test_conv2d_module(case):
    e, t = pair("Conv2d", *case["args"], **case.get("kw", {}))
    check_module(e, t, [(2, case["args"][0], 9, 8)])


@pytest.mark.parametrize("name,shape", [("Conv1d", (3, 10)), ("Conv2d", (3, 7, 6)), ("Conv3d", (3, 4, 5, 5))])
def test_conv_unbatched(name, shape):
    e, t = pair(name, 3, 2, 3, padding=1)
    check_module(e, t, [shape])


def test_conv3d_module():
    e, t = pair("Conv3d", 4, 6, (2, 3, 2), stride=(1, 2, 1), padding=(1, 0, 1), dilation=(1, 1, 2), groups=2)
    check_module(e, t, [(2, 4, 5, 7, 6)])
    e, t = pair("Conv3d", 2, 3, 2, padding="same", bias=False)
    check_module(e, t, [(1, 2, 3, 4, 5)])


def test_conv_float64():
    for name, shape in (("Conv1d", (2, 4, 9)), ("Conv2d", (2, 4, 7, 6))):
        e, t = pair(name, 4, 6, 3, stride=2, padding=1, dilation=1, groups=2)
        check_module(e, t, [shape], dtype=np.float64)
        e, t = pair(name, 4, 4, 2, padding="same", groups=4)
        check_module(e, t, [shape], dtype=np.float64)


CONVT = [
    dict(args=(3, 4, 3)),
    dict(args=(3, 4, 3), kw=dict(stride=2, padding=1, output_padding=1)),
    dict(args=(4, 6, (3, 2)), kw=dict(stride=(2, 3), padding=(1, 0), output_padding=(0, 2), groups=2)),
    dict(args=(3, 4, 3), kw=dict(stride=2, dilation=2, bias=False)),
    dict(args=(4, 4, 3), kw=dict(groups=4, stride=2, padding=2)),
    dict(args=(3, 2, 2), kw=dict(stride=1, dilation=3, output_padding=2)),      # output_padding < dilation
    dict(args=(8, 2, 2), kw=dict(stride=2, padding=1, output_padding=1)),      # C/g * K <= O/g: batch-major
]


@pytest.mark.parametrize("case", CONVT)
def test_conv_transpose2d_module(case):
    e, t = pair("ConvTranspose2d", *case["args"], **case.get("kw", {}))
    check_module(e, t, [(2, case["args"][0], 5, 4)])


@pytest.mark.parametrize("case", CONVT[:5])
def test_conv_transpose1d_module(case):
    kw = {k: (v[0] if isinstance(v, tuple) else v) for k, v in case.get("kw", {}).items()}
    args = case["args"][:2] + ((case["args"][2][0] if isinstance(case["args"][2], tuple) else case["args"][2]),)
    e, t = pair("ConvTranspose1d", *args, **kw)
    check_module(e, t, [(2, args[0], 6)])


def test_conv_transpose_unbatched_output_size_3d_float64():
    e, t = pair("ConvTranspose2d", 3, 2, 3, stride=2, padding=1)
    check_module(e, t, [(3, 4, 5)])
    for size in ((8, 10), (7, 9), (2, 3, 8, 9)):
        check_module(e, t, [(2, 3, 4, 5)], call=lambda m, x: m(x, output_size=size))
    e, t = pair("ConvTranspose1d", 2, 4, 3, stride=2)
    check_module(e, t, [(2, 2, 5)], dtype=np.float64)
    e, t = pair("ConvTranspose3d", 2, 4, 2, stride=(2, 1, 2), padding=(0, 1, 0), output_padding=(1, 0, 0))
    check_module(e, t, [(2, 2, 3, 4, 3)])


def test_conv_transpose_output_size_error():
    e = nn.ConvTranspose2d(3, 2, 3, stride=2)
    with pytest.raises(ValueError, match="ConvTranspose2d.*output size"):
        e(ember.randn(1, 3, 4, 4), output_size=(20, 20))


def test_conv_init_and_repr():
    ember.manual_seed(0)
    m = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert w.shape == (32, 16, 3, 3) and b.shape == (32,) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound and np.abs(b).max() <= bound
    ember.manual_seed(0)
    assert np.array_equal(nn.Conv2d(16, 32, 3).weight.detach().numpy(), w)
    mt = nn.ConvTranspose2d(16, 4, 3, groups=2)        # fan_in = weight.shape[1] * k * k = 2 * 9
    assert mt.weight.shape == (16, 2, 3, 3) and np.abs(mt.bias.detach().numpy()).max() <= 1 / math.sqrt(18)
    assert nn.Conv1d(2, 3, 3, dtype=ember.float64).weight.dtype == ember.float64
    for args, kw in (((3, 6, 3), {}), ((4, 8, (2, 3)), dict(padding="same", groups=2, bias=False, dilation=2,
                                                            padding_mode="reflect"))):
        assert repr(nn.Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))
    kw = dict(stride=2, output_padding=1, groups=3, dilation=2)
    assert repr(nn.ConvTranspose1d(3, 6, 3, **kw)) == repr(torch.nn.ConvTranspose1d(3, 6, 3, **kw))
    assert list(nn.Conv2d(2, 3, 3, bias=False).state_dict()) == ["weight"]


# --- functional --------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(padding="same", dilation=2),
                                dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1), groups=2)])
def test_functional_conv2d(kw):
    check_op([(2, 4, 7, 8), (6, 4 // kw.get("groups", 1), 3, 2), (6,)],
             lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw))


def test_functional_conv_noncontig_keywords_and_toplevel():
    check_op([(2, 3, 6, 5), (4, 3, 2, 2)], lambda x, w: F.conv2d(x, w.transpose(2, 3), stride=2),
             lambda x, w: TF.conv2d(x, w.transpose(2, 3), stride=2), noncontig=True)
    check_op([(2, 3, 9), (4, 3, 3)], lambda x, w: ember.conv1d(input=x, weight=w, padding="valid", dilation=2),
             lambda x, w: torch.conv1d(input=x, weight=w, padding="valid", dilation=2))
    check_op([(1, 2, 4, 4, 5), (2, 2, 2, 3, 2), (2,)], F.conv3d, TF.conv3d)
    check_op([(0, 3, 5, 5), (2, 3, 3, 3)], F.conv2d, TF.conv2d)          # empty batch
    check_op([(2, 3, 5, 5), (4, 3, 3, 3)], F.conv2d, TF.conv2d, dtype=np.float64)
    check_op([(2, 4, 5, 5), (4, 2, 3, 3), (4,)], lambda x, w, b: F.conv2d(x, w, b, groups=2, stride=2),
             lambda x, w, b: TF.conv2d(x, w, b, groups=2, stride=2), dtype=np.float16)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1), dict(groups=2, dilation=2),
                                dict(stride=(3, 2), padding=(1, 2), output_padding=(2, 0))])
def test_functional_conv_transpose2d(kw):
    check_op([(2, 4, 5, 4), (4, 3, 3, 3), (3 * kw.get("groups", 1),)],
             lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw))


def test_functional_conv_transpose1d_3d():
    check_op([(2, 4, 6), (4, 2, 3)], lambda x, w: F.conv_transpose1d(x, w, stride=2, groups=2),
             lambda x, w: TF.conv_transpose1d(x, w, stride=2, groups=2))
    check_op([(3, 6), (3, 2, 4)], F.conv_transpose1d, TF.conv_transpose1d)            # unbatched
    check_op([(1, 2, 3, 3, 2), (2, 2, 2, 2, 2), (2,)],
             lambda x, w, b: F.conv_transpose3d(x, w, b, stride=2),
             lambda x, w, b: TF.conv_transpose3d(x, w, b, stride=2))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1),
                                dict(kernel_size=3, dilation=2, padding=(0, 1), stride=(1, 2))])
def test_unfold_fold(kw):
    check_op([(2, 3, 7, 8)], lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw))
    check_op([(3, 7, 8)], lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw))
    cols = TF.unfold(torch.zeros(2, 3, 7, 8), **kw).shape
    check_op([tuple(cols)], lambda c: F.fold(c, (7, 8), **kw), lambda c: TF.fold(c, (7, 8), **kw))
    check_op([tuple(cols[1:])], lambda c: F.fold(c, (7, 8), **kw), lambda c: TF.fold(c, (7, 8), **kw))
    check_gradcheck([(1, 2, 5, 4)], lambda x: F.unfold(x, **kw))
    check_gradcheck([(1,) + tuple(TF.unfold(torch.zeros(1, 2, 5, 4), **kw).shape[1:])],
                    lambda c: F.fold(c, (5, 4), **kw))


def test_unfold_fold_modules():
    check_module(*pair("Unfold", 2, stride=2), [(2, 3, 6, 6)])
    check_module(*pair("Fold", (5, 6), (2, 3), padding=1, dilation=(1, 2)), [(2, 12, 24)])
    assert repr(nn.Fold((5, 6), 2)) == repr(torch.nn.Fold((5, 6), 2))
    assert repr(nn.Unfold(3, padding=1)) == repr(torch.nn.Unfold(3, padding=1))


# --- gradients -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, dilation=(1, 2), groups=2), dict(padding="same")])
def test_conv2d_gradcheck_and_gradgradcheck(kw):
    shapes = [(2, 4, 5, 6), (2, 4 // kw.get("groups", 1), 2, 3), (2,)]
    fn = lambda x, w, b: F.conv2d(x, w, b, **kw)       # noqa: E731
    check_gradcheck(shapes, fn)
    xs = [ember.tensor(a, requires_grad=True) for a in make_inputs(shapes, np.float64)]
    assert gradgradcheck(fn, xs)


def test_conv1d_conv_transpose_gradcheck_and_gradgradcheck():
    c1 = lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2)       # noqa: E731
    ct = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)  # noqa: E731
    ctd = lambda x, w: F.conv_transpose1d(x, w, stride=1, dilation=3, output_padding=2)  # noqa: E731
    for fn, shapes in ((c1, [(2, 3, 9), (2, 3, 3), (2,)]), (ct, [(1, 4, 3, 3), (4, 1, 3, 2), (2,)]),
                       (ctd, [(1, 2, 4), (2, 3, 2)])):
        check_gradcheck(shapes, fn)
        xs = [ember.tensor(a, requires_grad=True) for a in make_inputs(shapes, np.float64)]
        assert gradgradcheck(fn, xs)


def test_conv_double_backward_matches_torch():
    """Gradient penalty: d/dw of |d conv / dx|^2 through conv_backward_input's own backward."""
    xs = make_inputs([(2, 3, 6, 5), (4, 3, 3, 3)], np.float64)
    e = [ember.tensor(a, requires_grad=True) for a in xs]
    t = [torch.tensor(a, requires_grad=True) for a in xs]
    for (x, w), lib, fn in ((e, ember, F.conv2d), (t, torch, TF.conv2d)):
        y = fn(x, w, stride=2, padding=1)
        (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
        ((gx * gx).sum() + (gx * x).sum()).backward()
    for a, b in zip(e, t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-10)


# --- errors --------------------------------------------------------------------------------------
def test_conv_errors():
    x = ember.randn(2, 4, 8, 8)
    with pytest.raises(RuntimeError, match=r"ember\.conv2d: .*to have 3 channels, got 4"):
        F.conv2d(x, ember.randn(6, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"ember\.conv2d: .*kernel"):
        F.conv2d(ember.randn(1, 3, 2, 2), ember.randn(6, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"ember\.conv2d: given groups=4, expected weight"):
        F.conv2d(x, ember.randn(6, 1, 3, 3), groups=4)
    with pytest.raises(RuntimeError, match=r"ember\.conv2d: expected 3D \(unbatched\) or 4D"):
        F.conv2d(ember.randn(4, 8), ember.randn(6, 4, 3, 3))
    with pytest.raises(RuntimeError, match=r"ember\.conv2d: padding='same' is not supported for strided"):
        F.conv2d(x, ember.randn(6, 4, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match=r"ember\.conv1d: expected bias of shape \(6,\)"):
        F.conv1d(ember.randn(2, 4, 8), ember.randn(6, 4, 3), ember.randn(5))
    with pytest.raises(RuntimeError, match=r"ember\.conv1d: .*same dtype"):
        F.conv1d(ember.randn(2, 4, 8), ember.randn(6, 4, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match=r"ember\.conv2d: stride must be positive"):
        F.conv2d(x, ember.randn(6, 4, 3, 3), stride=0)
    with pytest.raises(RuntimeError, match=r"ember\.conv_transpose2d: expected input .* to have 3 channels"):
        F.conv_transpose2d(x, ember.randn(3, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"ember\.conv_transpose2d: output padding"):
        F.conv_transpose2d(x, ember.randn(4, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"ember\.fold: .*sliding blocks"):
        F.fold(ember.randn(1, 12, 10), (4, 5), 2)
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(4\) must be divisible by groups \(3\)"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match=r"Conv2d: out_channels"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match=r"Conv1d: padding='same' is not supported"):
        nn.Conv1d(4, 6, 3, stride=2, padding="same")
    with pytest.raises(RuntimeError, match=r"ember\.conv2d: .*to have 3 channels, got 4"):
        nn.Conv2d(3, 2, 3)(x)


def test_conv_backward_ops_gradcheck():
    """The two backward ops are differentiable ops of their own (first and second order)."""
    from ember.ops import registry as R
    a = dict(stride=(2, 1), padding=((1, 0), (0, 1)), dilation=(1, 2), groups=2)
    cbi = lambda g, w: R.call("conv_backward_input", g, w, input_shape=(2, 4, 5, 6), **a)   # noqa: E731
    cbw = lambda x, g: R.call("conv_backward_weight", x, g, weight_shape=(4, 2, 2, 3), **a)  # noqa: E731
    g_shape = tuple(R.call("conv", ember.zeros(2, 4, 5, 6), ember.zeros(4, 2, 2, 3), **a).shape)
    for fn, shapes in ((cbi, [g_shape, (4, 2, 2, 3)]), (cbw, [(2, 4, 5, 6), g_shape])):
        check_gradcheck(shapes, fn)
        xs = [ember.tensor(v, requires_grad=True) for v in make_inputs(shapes, np.float64)]
        assert gradgradcheck(fn, xs)
