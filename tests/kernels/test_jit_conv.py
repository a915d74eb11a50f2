"""The compiled convolution path (channel-major im2col/col2im loops, one GEMM or per-sample
GEMMs) computes what the NumPy kernels compute, for every geometry the kernels accept."""
import numpy as np
import pytest

from ember.kernels.cpu import jit
from .jit_check import check_kernel, needs_numba

pytestmark = needs_numba

# float32: the GEMMs sum in another order (a weight gradient sums 12544 products per value)
TOL = {np.float32: dict(rtol=1e-4, atol=1e-3), np.float64: dict(rtol=1e-10, atol=1e-10)}

# (x shape, weight shape, stride, padding (before, after) per dim, dilation, groups)
CASES = [
    ((64, 32, 14, 14), (64, 32, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),   # bench layer: one GEMM, one run
    ((5, 1, 28, 28), (8, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),       # per-sample GEMMs
    ((2, 8, 48, 48), (4, 8, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),       # per-sample: large maps
    ((3, 8, 9, 7), (16, 8, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 1),        # strided rows
    ((3, 9, 10, 9), (12, 9, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),       # no padding: row path
    ((2, 4, 11, 9), (6, 2, 4, 2), (1, 2), ((2, 1), (0, 1)), (2, 1), 2),        # asymmetric, dilated, groups
    ((2, 6, 8, 8), (6, 1, 3, 3), (2, 1), ((1, 1), (1, 1)), (1, 1), 6),         # depthwise
    ((2, 3, 5, 6), (4, 3, 5, 5), (3, 3), ((4, 4), (3, 2)), (1, 2), 1),         # windows wholly in padding
    ((2, 3, 7, 5), (4, 3, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),         # 1x1
    ((2, 3, 17), (5, 3, 4), (1,), ((2, 1),), (1,), 1),                         # 1-d, 'same' of an even kernel
    ((2, 6, 21), (4, 3, 3), (3,), ((0, 0),), (2,), 2),                         # 1-d strided
    ((2, 4, 5, 6, 4), (6, 2, 2, 3, 2), (1, 2, 1), ((1, 1), (0, 0), (1, 0)), (1, 1, 2), 2),    # 3-d
    ((1, 8, 4, 5, 5), (10, 8, 3, 3, 3), (1, 1, 1), ((1, 1), (1, 1), (1, 1)), (1, 1, 1), 1),   # 3-d, one GEMM
    ((0, 3, 5, 5), (2, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),         # empty batch
]


def _attrs(case):
    _, _, stride, padding, dilation, groups = case
    return dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _out_spatial(case):
    xs, ws, stride, padding, dilation, _ = case
    return tuple((n + a + b - d * (k - 1) - 1) // s + 1
                 for n, k, s, (a, b), d in zip(xs[2:], ws[2:], stride, padding, dilation))


def _arrays(rng, dtype, *shapes):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_conv_and_gradients(case, dtype):
    rng = np.random.default_rng(0)
    xs, ws = case[:2]
    gs = (xs[0], ws[0]) + _out_spatial(case)
    x, w, b, g = _arrays(rng, dtype, xs, ws, (ws[0],), gs)
    check_kernel("conv", x, w, b, **_attrs(case), **TOL[dtype])
    check_kernel("conv", x, w, **_attrs(case), **TOL[dtype])
    check_kernel("conv_backward_input", g, w, input_shape=xs, **_attrs(case), **TOL[dtype])
    check_kernel("conv_backward_weight", x, g, weight_shape=ws, **_attrs(case), **TOL[dtype])


@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[5]])
def test_noncontiguous_inputs(case):
    rng = np.random.default_rng(1)
    xs, ws = case[:2]
    gs = (xs[0], ws[0]) + _out_spatial(case)
    x, g = (a.swapaxes(-1, -2).copy().swapaxes(-1, -2) for a in _arrays(rng, np.float32, xs, gs))
    w = _arrays(rng, np.float32, ws[::-1])[0].transpose(tuple(range(len(ws)))[::-1])
    assert not (x.flags.c_contiguous or w.flags.c_contiguous or g.flags.c_contiguous)
    check_kernel("conv", x, w, **_attrs(case), **TOL[np.float32])
    check_kernel("conv_backward_input", g, w, input_shape=xs, **_attrs(case), **TOL[np.float32])
    check_kernel("conv_backward_weight", x, g, weight_shape=ws, **_attrs(case), **TOL[np.float32])


def test_float16_widened():
    case = CASES[5]
    rng = np.random.default_rng(2)
    x, w, b = _arrays(rng, np.float16, case[0], case[1], (case[1][0],))
    y = check_kernel("conv", x, w, b, **_attrs(case), rtol=1e-3, atol=1e-3)
    assert y.dtype == np.float16


@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[3]])
def test_nonfinite_values_stay_where_they_belong(case):
    """The one-run col2im adds zeroed padding values across row edges: a nan/inf gradient must
    reach exactly the inputs its windows read, as in the NumPy kernels."""
    rng = np.random.default_rng(3)
    xs, ws = case[:2]
    gs = (xs[0], ws[0]) + _out_spatial(case)
    x, w, g = _arrays(rng, np.float32, xs, ws, gs)
    g[0, 0, 0, 0], g[-1, -1, -1, -1], g[0, 0, -1, 0] = np.nan, np.inf, -np.inf
    x[0, 0, 0, -1], x[-1, -1, 3, 0] = np.nan, np.inf
    check_kernel("conv", x, w, **_attrs(case), **TOL[np.float32])
    check_kernel("conv_backward_input", g, w, input_shape=xs, **_attrs(case), **TOL[np.float32])
    check_kernel("conv_backward_weight", x, g, weight_shape=ws, **_attrs(case), **TOL[np.float32])


@pytest.mark.parametrize("stride,output_padding", [((2, 2), (1, 1)), ((3, 2), (2, 0)), ((1, 1), (0, 0))])
def test_transposed_conv_geometry(stride, output_padding):
    """conv_transpose runs conv_backward_input forward: with output_padding the input holds
    positions no window reaches, and the weight gradient sees fewer outputs than x allows."""
    rng = np.random.default_rng(4)
    g, w = _arrays(rng, np.float64, (2, 4, 5, 4), (4, 3, 3, 3))
    size = tuple((n - 1) * s - 2 + 3 + op for n, s, op in zip(g.shape[2:], stride, output_padding))
    attrs = dict(stride=stride, padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    y = check_kernel("conv_backward_input", g, w, input_shape=(2, 3) + size, **attrs, **TOL[np.float64])
    check_kernel("conv_backward_weight", y, g, weight_shape=w.shape, **attrs, **TOL[np.float64])
    check_kernel("conv", y, w, **attrs, **TOL[np.float64])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size,kernel,stride,padding,dilation", [
    ((9, 8), (3, 3), (1, 1), 1, (1, 1)),
    ((10, 9), (2, 3), (2, 1), 0, (1, 2)),
    ((12, 12), (4, 4), (4, 4), 0, (1, 1)),
    ((7, 6), (3, 2), (2, 3), 2, (2, 1)),
])
def test_fold(size, kernel, stride, padding, dilation, dtype):
    rng = np.random.default_rng(5)
    pads = ((padding, padding),) * 2
    blocks = [(n + 2 * padding - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(size, kernel, stride, dilation)]
    cols = _arrays(rng, dtype, (3, 2 * kernel[0] * kernel[1], blocks[0] * blocks[1]))[0]
    attrs = dict(output_size=size, kernel_size=kernel, stride=stride, padding=pads, dilation=dilation)
    before = cols.copy()
    check_kernel("col2im", cols, **attrs, **TOL[dtype])
    check_kernel("col2im", cols[:, :, ::-1], **attrs, **TOL[dtype])     # non-contiguous
    np.testing.assert_array_equal(cols, before)                          # the input is not clobbered


def test_weight_gradient_reuses_the_forward_columns_only_for_the_same_input():
    """The forward keeps its columns for the weight gradient of the same input (one entry):
    results equal a fresh computation whether the entry is hit, missed or replaced."""
    from ember.kernels.cpu import KERNELS
    from ember.kernels.cpu.conv import _COLUMNS
    rng = np.random.default_rng(0)
    x1, x2 = (rng.standard_normal((4, 8, 9, 9)).astype(np.float32) for _ in range(2))
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    g = rng.standard_normal((4, 16, 9, 9)).astype(np.float32)
    kw = dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    with jit.disabled():
        want1 = KERNELS["conv_backward_weight"](x1, g, weight_shape=w.shape, **kw)
        want2 = KERNELS["conv_backward_weight"](x2, g, weight_shape=w.shape, **kw)
    KERNELS["conv"](x1, w, None, **kw)
    assert _COLUMNS.entry is not None and _COLUMNS.entry[0] is x1
    np.testing.assert_allclose(KERNELS["conv_backward_weight"](x1, g, weight_shape=w.shape, **kw), want1,
                               rtol=1e-4, atol=1e-4)
    assert _COLUMNS.entry is None                       # taken
    KERNELS["conv"](x1, w, None, **kw)
    KERNELS["conv"](x2, w, None, **kw)                  # replaces x1's columns
    np.testing.assert_allclose(KERNELS["conv_backward_weight"](x1, g, weight_shape=w.shape, **kw), want1,
                               rtol=1e-4, atol=1e-4)
    KERNELS["conv"](x2, w, None, stride=(2, 2), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    np.testing.assert_allclose(KERNELS["conv_backward_weight"](x2, g, weight_shape=w.shape, **kw), want2,
                               rtol=1e-4, atol=1e-4)      # another geometry: recomputed


def test_weight_gradient_reuses_the_input_gradients_layout_only_for_the_same_gradient():
    from ember.kernels.cpu import KERNELS
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 8, 9, 9)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    g1, g2 = (rng.standard_normal((4, 16, 9, 9)).astype(np.float32) for _ in range(2))
    kw = dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    with jit.disabled():
        want1, want2 = (KERNELS["conv_backward_weight"](x, g, weight_shape=w.shape, **kw) for g in (g1, g2))
    for g, want in ((g1, want1), (g2, want2)):
        KERNELS["conv_backward_input"](g1, w, input_shape=x.shape, **kw)   # keeps g1's layout
        np.testing.assert_allclose(KERNELS["conv_backward_weight"](x, g, weight_shape=w.shape, **kw), want,
                                   rtol=1e-4, atol=1e-4)
