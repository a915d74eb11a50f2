"""Resampling (interpolate, Upsample*), pixel shuffle and padding layers against torch."""
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


# --- interpolate -------------------------------------------------------------------------------
INTERP2D = [
    dict(scale_factor=2),
    dict(scale_factor=3, mode="nearest"),
    dict(size=(7, 13)),
    dict(scale_factor=(0.5, 1.7)),
    dict(scale_factor=1.7, mode="nearest-exact"),
    dict(size=(4, 11), mode="nearest-exact"),
    dict(scale_factor=2, mode="bilinear"),
    dict(scale_factor=(0.6, 1.3), mode="bilinear"),
    dict(size=(7, 13), mode="bilinear", align_corners=True),
    dict(size=(1, 13), mode="bilinear", align_corners=True),
    dict(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True),
    dict(size=(17, 3), mode="bicubic"),
    dict(scale_factor=2, mode="bicubic", align_corners=True),
    dict(size=(4, 3), mode="area"),
    dict(scale_factor=0.5, mode="area"),
]


@pytest.mark.parametrize("kw", INTERP2D)
def test_interpolate_2d(kw):
    check_op([(2, 3, 9, 10)], lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw))


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=7), dict(scale_factor=2.5, mode="linear"),
                                dict(size=4, mode="linear", align_corners=True), dict(size=4, mode="area"),
                                dict(scale_factor=1.3, mode="nearest-exact")])
def test_interpolate_1d(kw):
    check_op([(2, 3, 9)], lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw))


def test_interpolate_3d_float64_noncontig_int():
    kw = dict(scale_factor=(2, 0.5, 1.5), mode="trilinear")
    check_op([(1, 2, 3, 6, 4)], lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw))
    check_op([(1, 2, 3, 6, 4)], lambda x: F.interpolate(x, size=(4, 2, 5)), lambda x: TF.interpolate(x, size=(4, 2, 5)))
    kw = dict(size=(5, 7), mode="bicubic")
    check_op([(2, 3, 6, 4)], lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), dtype=np.float64)
    check_op([(2, 3, 6, 4)], lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
             lambda x: TF.interpolate(x, scale_factor=2, mode="bilinear"), noncontig=True)
    ints = np.arange(2 * 3 * 4 * 5, dtype=np.uint8).reshape(2, 3, 4, 5)
    check_op([], lambda x: F.interpolate(x, scale_factor=1.5), lambda x: TF.interpolate(x, scale_factor=1.5),
             inputs=[ints], grad=False)


@pytest.mark.parametrize("kw", [dict(size=(4, 7), mode="nearest"), dict(scale_factor=1.5, mode="bilinear"),
                                dict(size=(5, 3), mode="bicubic", align_corners=True),
                                dict(size=(2, 3), mode="area")])
def test_interpolate_gradcheck(kw):
    check_gradcheck([(1, 2, 3, 4)], lambda x: F.interpolate(x, **kw))
    xs = [ember.tensor(a, requires_grad=True) for a in make_inputs([(1, 1, 3, 4)], np.float64)]
    assert gradgradcheck(lambda x: F.interpolate(x, **kw) ** 2, xs)


@pytest.mark.parametrize("name,args,kw,shape", [
    ("Upsample", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=(5, 9), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=(2, 1.5), mode="bicubic", align_corners=True), (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=3, mode="linear"), (2, 3, 4)),
    ("UpsamplingNearest2d", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", ((6, 7),), {}, (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", ((3, 8),), {}, (2, 3, 4, 5)),
])
def test_upsample_modules(name, args, kw, shape):
    e, t = pair(name, *args, **kw)
    check_module(e, t, [shape])
    assert repr(e) == repr(t)


def test_deprecated_upsample_functions():
    with pytest.warns(UserWarning, match="deprecated"):
        check_op([(1, 2, 3, 4)], lambda x: F.upsample_bilinear(x, scale_factor=2),
                 lambda x: TF.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True))
    with pytest.warns(UserWarning, match="deprecated"):
        F.upsample_nearest(ember.randn(1, 2, 3), size=5)


def test_interpolate_errors():
    x = ember.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match=r"ember\.interpolate: only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match=r"ember\.interpolate: either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match=r"ember\.interpolate: align_corners option"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match=r"ember\.interpolate: got 4D input, but linear mode needs 3D"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match=r"ember\.interpolate: input and output must have the same number"):
        F.interpolate(x, size=(2, 3, 4))
    with pytest.raises(NotImplementedError, match=r"ember\.interpolate: unsupported mode"):
        F.interpolate(x, scale_factor=2, mode="cubic")


# --- pixel shuffle -----------------------------------------------------------------------------
def test_pixel_shuffle():
    check_module(*pair("PixelShuffle", 2), [(2, 8, 3, 4)])
    check_module(*pair("PixelShuffle", 3), [(9, 2, 3)])                  # unbatched
    check_module(*pair("PixelUnshuffle", 2), [(2, 3, 4, 6)])
    check_module(*pair("PixelUnshuffle", 3), [(2, 2, 2, 6, 3)], dtype=np.float64)   # extra batch dims
    check_op([(2, 8, 3, 4)], lambda x: ember.pixel_shuffle(x, 2), lambda x: torch.pixel_shuffle(x, 2))
    check_gradcheck([(1, 4, 2, 3)], lambda x: F.pixel_unshuffle(F.pixel_shuffle(x, 2) * 2, 2))
    assert repr(nn.PixelShuffle(2)) == repr(torch.nn.PixelShuffle(2))
    with pytest.raises(RuntimeError, match=r"ember\.pixel_shuffle: expected the channel dimension"):
        F.pixel_shuffle(ember.randn(1, 6, 2, 2), 2)
    with pytest.raises(RuntimeError, match=r"ember\.pixel_unshuffle: expected height"):
        F.pixel_unshuffle(ember.randn(1, 1, 3, 4), 2)
    with pytest.raises(RuntimeError, match=r"ember\.pixel_shuffle: expected input with at least 3 dims"):
        F.pixel_shuffle(ember.randn(4, 4), 2)


# --- padding layers ----------------------------------------------------------------------------
PADS = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad1d", ((1, 3),), (3, 5)), ("ZeroPad2d", ((1, 0, 2, 3),), (2, 3, 4, 5)),
    ("ZeroPad2d", (-1,), (2, 3, 4, 5)), ("ZeroPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ConstantPad1d", (2, 1.5), (2, 3, 5)), ("ConstantPad2d", ((1, 2, 0, 1), -3.0), (3, 4, 5)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (1, 2, 3, 4, 5)),
    ("ReflectionPad1d", (3,), (2, 3, 5)), ("ReflectionPad1d", ((0, 2),), (3, 5)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)), ("ReflectionPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 5)), ("ReplicationPad2d", (2,), (3, 4, 5)),
    ("ReplicationPad3d", ((1, 2, 0, 1, 1, 0),), (1, 2, 3, 4, 5)),
    ("CircularPad1d", (2,), (2, 3, 5)), ("CircularPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 4, 5)),
]


@pytest.mark.parametrize("name,args,shape", PADS)
def test_padding_modules(name, args, shape):
    e, t = pair(name, *args)
    check_module(e, t, [shape])
    assert repr(e) == repr(t)


def test_padding_float64_and_functional_pad():
    check_module(*pair("ReflectionPad2d", 2), [(2, 3, 4, 5)], dtype=np.float64)
    check_op([(2, 3, 4)], lambda x: F.pad(x, (1, 2), mode="replicate"), lambda x: TF.pad(x, (1, 2), mode="replicate"))
    check_gradcheck([(1, 2, 3, 4)], lambda x: nn.ReflectionPad2d((1, 2, 2, 0))(x))
    with pytest.raises(RuntimeError, match=r"ember\.pad"):
        nn.ReflectionPad1d(5)(ember.randn(1, 2, 3))
