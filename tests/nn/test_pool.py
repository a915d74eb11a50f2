"""Pooling layers and functionals (max, avg, lp, adaptive, unpool) against torch."""
import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.functional as F
from ember.autograd import gradgradcheck
from helpers import check_op, check_gradcheck, check_module, make_inputs, torch

TF = torch.nn.functional


def pair(name, *args, **kw):
    return getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)


# --- max pooling -------------------------------------------------------------------------------
MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1), ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(3, 1), dilation=2),
    dict(kernel_size=2, return_indices=True),
    dict(kernel_size=3, stride=1, padding=1, return_indices=True, ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAX2D)
def test_maxpool2d_module(kw):
    check_module(*pair("MaxPool2d", **kw), [(2, 3, 9, 8)])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, dilation=3, return_indices=True)])
def test_maxpool1d_module(kw):
    check_module(*pair("MaxPool1d", **kw), [(2, 3, 11)])


def test_maxpool_unbatched_3d_float64():
    check_module(*pair("MaxPool2d", 3, 2, 1, return_indices=True), [(3, 7, 8)])
    check_module(*pair("MaxPool1d", 2), [(3, 7)])
    check_module(*pair("MaxPool3d", (2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0), return_indices=True),
                 [(2, 2, 4, 6, 5)])
    check_module(*pair("MaxPool2d", 3, 2, ceil_mode=True), [(2, 3, 8, 7)], dtype=np.float64)


def test_max_pool_functional_nan_noncontig_and_toplevel():
    x = make_inputs([(2, 2, 6, 6)])[0]
    x[0, 0, 1, 1] = np.nan
    x[1, 1, 4, 5] = np.nan
    check_op([], lambda a: F.max_pool2d(a, 2, return_indices=True), lambda a: TF.max_pool2d(a, 2, return_indices=True),
             inputs=[x], grad=False)
    check_op([(2, 3, 6, 7)], lambda a: F.max_pool2d(a, (2, 3), padding=1),
             lambda a: TF.max_pool2d(a, (2, 3), padding=1), noncontig=True)
    check_op([(2, 3, 7)], lambda a: ember.max_pool1d(a, 2, stride=1), lambda a: torch.max_pool1d(a, 2, stride=1))
    check_op([(2, 3, 5, 4)], lambda a: F.max_pool2d_with_indices(a, 2),
             lambda a: TF.max_pool2d(a, 2, return_indices=True))


@pytest.mark.parametrize("kw", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1), ceil_mode=True),
    dict(kernel_size=3, stride=3, padding=1, ceil_mode=True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_max_pool_ties_nan_inf_bit_exact(kw, dtype):
    """Many ties (few distinct values, +-0), -inf next to the padding, several nans per window:
    values bit-identical, indices (the first maximum; the last nan) equal, grads as torch's."""
    rs = np.random.default_rng(7)
    x = rs.choice(np.array([-np.inf, -1.0, -0.0, 0.0, 1.0, 2.0]), (4, 3, 13, 12)).astype(dtype)
    x[0, 0, :3, :3] = -np.inf
    x.reshape(-1)[rs.choice(x.size, 40, replace=False)] = np.nan
    x[1, 1, 4:6, 4:6] = np.nan
    e, t = F.max_pool2d(ember.tensor(x), return_indices=True, **kw), TF.max_pool2d(
        torch.from_numpy(x), return_indices=True, **kw)
    assert np.array_equal(e[1].numpy(), t[1].numpy())
    assert np.array_equal(e[0].numpy().view(np.uint8), t[0].numpy().view(np.uint8))
    x = np.where(np.isfinite(x), x, 0.5).astype(dtype)  # grads through the (assignment) scatter
    check_op([], lambda a: F.max_pool2d(a, **kw), lambda a: TF.max_pool2d(a, **kw), inputs=[x], dtype=dtype)


def test_max_pool_gradcheck_and_double_backward():
    check_gradcheck([(2, 2, 5, 6)], lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True))
    check_gradcheck([(2, 2, 7)], lambda x: F.max_pool1d(x, 2, stride=1, dilation=2))
    check_gradcheck([(1, 2, 5, 6)], lambda x: F.adaptive_max_pool2d(x, (3, 4)))
    xs = [ember.tensor(a, requires_grad=True) for a in make_inputs([(1, 2, 5, 6)], np.float64)]
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2, stride=1) ** 2, xs)


def test_max_unpool():
    x = make_inputs([(2, 3, 6, 8)])[0]
    tv, ti = TF.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    idx = ti.numpy()
    check_op([tuple(tv.shape)], lambda v: F.max_unpool2d(v, ember.from_numpy(idx), 2),
             lambda v: TF.max_unpool2d(v, ti, 2))
    check_op([tuple(tv.shape)], lambda v: F.max_unpool2d(v, ember.from_numpy(idx), 2, output_size=(7, 9)),
             lambda v: TF.max_unpool2d(v, ti, 2, output_size=(7, 9)))
    e, t = pair("MaxUnpool2d", 2)
    check_module(e, t, [tuple(tv.shape)], call=lambda m, v: m(v, ember.from_numpy(idx) if m is e else ti))
    tv1, ti1 = TF.max_pool1d(torch.from_numpy(x[0]), 2, return_indices=True)
    check_op([tuple(tv1.shape)], lambda v: F.max_unpool1d(v, ember.from_numpy(ti1.numpy()), 2),
             lambda v: TF.max_unpool1d(v, ti1, 2))


# --- average pooling ---------------------------------------------------------------------------
AVG2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), divisor_override=5),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True, divisor_override=3),
]


@pytest.mark.parametrize("kw", AVG2D)
def test_avgpool2d_module(kw):
    check_module(*pair("AvgPool2d", **kw), [(2, 3, 9, 8)])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)])
def test_avgpool1d_module(kw):
    check_module(*pair("AvgPool1d", **kw), [(2, 3, 11)])


def test_avgpool_unbatched_3d_float64():
    check_module(*pair("AvgPool2d", 3, 2, 1, count_include_pad=False), [(3, 7, 8)])
    check_module(*pair("AvgPool1d", 3), [(3, 7)])
    check_module(*pair("AvgPool3d", (2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0), ceil_mode=True), [(2, 2, 4, 6, 5)])
    check_module(*pair("AvgPool2d", 3, 2, 1, ceil_mode=True), [(2, 3, 8, 7)], dtype=np.float64)
    check_op([(2, 3, 7, 6)], lambda x: F.avg_pool2d(x, 2, padding=1), lambda x: TF.avg_pool2d(x, 2, padding=1),
             noncontig=True)
    check_op([(2, 3, 7)], lambda x: ember.avg_pool1d(x, 3, 2), lambda x: torch.avg_pool1d(x, 3, 2))


def test_avg_pool_gradcheck_and_double_backward():
    for kw in (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
               dict(kernel_size=2, divisor_override=3)):
        check_gradcheck([(2, 2, 5, 6)], lambda x: F.avg_pool2d(x, **kw))
        xs = [ember.tensor(a, requires_grad=True) for a in make_inputs([(1, 2, 5, 6)], np.float64)]
        assert gradgradcheck(lambda x: F.avg_pool2d(x, **kw) ** 2, xs)
    check_gradcheck([(2, 2, 7)], lambda x: F.avg_pool1d(x, 3, 2, 1))


@pytest.mark.parametrize("p", [2.0, 3, 1.5, float("inf")])
def test_lppool(p):
    low = 0.1 if p == 1.5 else -2.0
    check_module(*pair("LPPool2d", p, 2), [(2, 3, 6, 7)], low=low, high=2.0)
    check_module(*pair("LPPool2d", p, (3, 2), stride=(2, 1), ceil_mode=True), [(2, 3, 6, 7)], low=low, high=2.0)
    check_module(*pair("LPPool1d", p, 3, stride=2), [(2, 3, 8)], low=low, high=2.0)


# --- adaptive pooling --------------------------------------------------------------------------
ADAPTIVE2D = [1, 3, (3, 4), (4, 5), (None, 3), (7, 2), (12, 13)]


@pytest.mark.parametrize("size", ADAPTIVE2D)
def test_adaptive_avgpool2d_module(size):
    check_module(*pair("AdaptiveAvgPool2d", size), [(2, 3, 9, 8)])


@pytest.mark.parametrize("size", ADAPTIVE2D)
def test_adaptive_maxpool2d_module(size):
    check_module(*pair("AdaptiveMaxPool2d", size), [(2, 3, 9, 8)])
    check_module(*pair("AdaptiveMaxPool2d", size, return_indices=True), [(2, 3, 9, 8)])


@pytest.mark.parametrize("size", [1, 3, 4, 7, 15])
def test_adaptive_pool1d_modules(size):
    check_module(*pair("AdaptiveAvgPool1d", size), [(2, 3, 9)])
    check_module(*pair("AdaptiveMaxPool1d", size, return_indices=True), [(2, 3, 9)])


def test_adaptive_unbatched_3d_float64():
    check_module(*pair("AdaptiveAvgPool2d", (2, 3)), [(3, 7, 8)])
    check_module(*pair("AdaptiveMaxPool2d", (2, 3), True), [(3, 7, 8)])
    check_module(*pair("AdaptiveAvgPool1d", 4), [(3, 7)])
    check_module(*pair("AdaptiveAvgPool3d", (2, 3, None)), [(2, 2, 5, 7, 4)])
    check_module(*pair("AdaptiveMaxPool3d", (2, 3, 1), True), [(2, 2, 5, 7, 4)])
    check_module(*pair("AdaptiveAvgPool2d", (3, 5)), [(2, 3, 7, 8)], dtype=np.float64)
    check_module(*pair("AdaptiveMaxPool2d", (3, 5)), [(2, 3, 7, 8)], dtype=np.float64)
    check_op([(2, 3, 7)], lambda x: ember.adaptive_avg_pool1d(x, 3), lambda x: torch.adaptive_avg_pool1d(x, 3))


def test_adaptive_gradcheck():
    check_gradcheck([(1, 2, 5, 7)], lambda x: F.adaptive_avg_pool2d(x, (3, 4)))
    check_gradcheck([(1, 2, 6, 8)], lambda x: F.adaptive_avg_pool2d(x, (3, 4)))
    check_gradcheck([(2, 5)], lambda x: F.adaptive_avg_pool1d(x, 1))
    check_gradcheck([(1, 2, 7)], lambda x: F.adaptive_max_pool1d(x, 3))


# --- repr and errors ---------------------------------------------------------------------------
def test_pool_repr():
    for name, args, kw in (("MaxPool2d", (3, 2, 1), {}), ("MaxPool1d", (2,), dict(ceil_mode=True)),
                           ("AvgPool2d", (3,), dict(padding=1)), ("AvgPool1d", (3, 2), {}),
                           ("AdaptiveAvgPool2d", ((1, None),), {}), ("AdaptiveMaxPool1d", (4,), {}),
                           ("LPPool2d", (2, 3), {}), ("MaxUnpool2d", (2,), {})):
        assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_pool_errors():
    x = ember.randn(1, 2, 4, 4)
    with pytest.raises(RuntimeError, match=r"ember\.max_pool2d: pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match=r"ember\.avg_pool2d: pad should be at most half"):
        F.avg_pool2d(x, 3, padding=2)
    with pytest.raises(RuntimeError, match=r"ember\.max_pool2d: .*output size .* too small"):
        F.max_pool2d(x, 5)
    with pytest.raises(RuntimeError, match=r"ember\.avg_pool1d: .*output size .* too small"):
        F.avg_pool1d(ember.randn(1, 2, 2), 3)
    with pytest.raises(RuntimeError, match=r"ember\.max_pool2d: expected 3D \(unbatched\) or 4D"):
        F.max_pool2d(ember.randn(4, 4), 2)
    with pytest.raises(RuntimeError, match=r"ember\.max_pool1d: stride must be positive"):
        F.max_pool1d(ember.randn(1, 2, 4), 2, stride=0)
    with pytest.raises(RuntimeError, match=r"ember\.avg_pool2d: divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match=r"ember\.adaptive_avg_pool2d: output_size must have 2"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match=r"ember\.adaptive_max_pool1d: expected 2D \(unbatched\) or 3D"):
        F.adaptive_max_pool1d(x, 2)
    with pytest.raises(RuntimeError, match=r"ember\.max_unpool2d: invalid output_size"):
        F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2, output_size=(9, 9))


@pytest.mark.parametrize("fn", [lambda F, x: F.max_pool2d(x, 2), lambda F, x: F.avg_pool2d(x, 3, 2, 1),
                                lambda F, x: F.adaptive_max_pool2d(x, 3), lambda F, x: F.adaptive_avg_pool2d(x, 3)])
def test_empty_batch(fn):
    e, t = ember.zeros(0, 3, 5, 4, requires_grad=True), torch.zeros(0, 3, 5, 4, requires_grad=True)
    ye, yt = fn(F, e), fn(TF, t)
    assert tuple(ye.shape) == tuple(yt.shape)
    ye.sum().backward()
    assert tuple(e.grad.shape) == (0, 3, 5, 4)


def test_max_pool_padding_bound_is_half_the_kernel_not_the_dilated_window():
    """PyTorch 2.13 caps padding at kernel_size // 2, dilation or not (else a window can lie
    entirely in the padding and its index would point outside the input)."""
    x = np.zeros((1, 1, 9), np.float32)
    with pytest.raises(RuntimeError, match="ember.max_pool1d: pad should be at most half of kernel size"):
        F.max_pool1d(ember.tensor(x), 2, stride=1, padding=2, dilation=3)
    with pytest.raises(RuntimeError):
        torch.nn.functional.max_pool1d(torch.tensor(x), 2, stride=1, padding=2, dilation=3)
