"""The fused row-wise loops (layer_norm, rms_norm, softmax family, cross_entropy, and the
vectorizable exp they share) compute what the NumPy fallbacks compute."""
import numpy as np
import pytest

from ember.kernels.cpu import KERNELS, jit
from .jit_check import check_kernel, needs_numba

pytestmark = needs_numba

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
# gradients summed over rows (dw, db) gather more rounding
SUM_TOL = {np.float32: dict(rtol=1e-5, atol=1e-4), np.float64: dict(rtol=1e-11, atol=1e-11)}


def _rand(shape, dtype, seed=0, scale=2.0, shift=0.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + shift).astype(dtype)


def _noncontig(a):
    """``a``'s values in a transposed (non-contiguous) layout."""
    return np.ascontiguousarray(a.T).T


# --- exp -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exp_all():
    """A compiled loop ``out[i] = exp(a[i])`` with the loops' own exp."""
    from ember.kernels.cpu.jit._njit import njit
    from ember.kernels.cpu.jit._rows import exp

    @njit(cache=False)
    def run(a, out):
        for i in range(a.size):
            out[i] = exp(a[i])
    return run


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_within_an_ulp(exp_all, dtype):
    lo, hi = (-86.9, 88.72) if dtype == np.float32 else (-708.0, 709.78)
    x = np.concatenate([np.linspace(lo, hi, 200001), np.linspace(-1, 1, 10001)]).astype(dtype)
    out = np.empty_like(x)
    exp_all(x, out)
    ref = np.exp(x.astype(np.longdouble))
    ulps = np.abs(out - ref) / np.spacing(ref.astype(dtype))
    assert ulps.max() <= 1.01


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_special_values(exp_all, dtype):
    big, flushed = (89.0, -87.5) if dtype == np.float32 else (710.0, -708.5)
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, big, flushed, -1e30], dtype)
    out = np.empty_like(x)
    exp_all(x, out)
    # exp(flushed) is below the smallest normal float: flushed to 0 (documented)
    np.testing.assert_array_equal(out, np.array([np.nan, np.inf, 0, 1, 1, np.inf, 0, 0], dtype))


# --- layer_norm / rms_norm -------------------------------------------------------------------------
NORM_SHAPES = [((16, 64, 128), 1), ((3, 5, 7), 1), ((3, 5, 7), 2), ((4, 1), 1), ((2, 3, 1000), 1), ((5,), 1)]


def _params(feat, dtype, affine):
    w = _rand(feat, dtype, 1) if affine in ("w", "wb") else None
    b = _rand(feat, dtype, 2) if affine == "wb" else None
    return w, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", ["wb", "w", None])
@pytest.mark.parametrize("shape,k", NORM_SHAPES)
def test_layer_norm(shape, k, affine, dtype):
    x = _rand(shape, dtype, shift=3.0)
    w, b = _params(shape[len(shape) - k:], dtype, affine)
    y, mean, rstd = check_kernel("layer_norm", x, w, b, normalized_ndim=k, eps=1e-5, **TOL[dtype])
    g = _rand(shape, dtype, 3)
    for need in [(True, w is not None, b is not None), (True, False, False), (False, w is not None, True)]:
        check_kernel("layer_norm_backward", g, x, mean, rstd, w, normalized_ndim=k, eps=1e-5, need=need,
                     **SUM_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", ["w", None])
@pytest.mark.parametrize("shape,k", NORM_SHAPES)
def test_rms_norm(shape, k, affine, dtype):
    x = _rand(shape, dtype, shift=1.0)
    w, _ = _params(shape[len(shape) - k:], dtype, affine)
    y, rstd = check_kernel("rms_norm", x, w, normalized_ndim=k, eps=1e-6, **TOL[dtype])
    g = _rand(shape, dtype, 3)
    for need in [(True, w is not None), (True, False), (False, w is not None)]:
        check_kernel("rms_norm_backward", g, x, rstd, w, normalized_ndim=k, eps=1e-6, need=need, **SUM_TOL[dtype])


def test_norms_non_contiguous_nonfinite_and_empty():
    x = _noncontig(_rand((6, 9), np.float32))
    x[1, 2], x[3, 4], x[4, 0] = np.nan, np.inf, -np.inf
    w, b = _rand(9, np.float32, 1), _rand(9, np.float32, 2)
    y, mean, rstd = check_kernel("layer_norm", x, w, b, normalized_ndim=1, eps=1e-5, **TOL[np.float32])
    g = _noncontig(_rand((6, 9), np.float32, 3))
    check_kernel("layer_norm_backward", g, x, mean, rstd, w, normalized_ndim=1, eps=1e-5, need=(True, True, True),
                 **SUM_TOL[np.float32])
    check_kernel("rms_norm", x, w, normalized_ndim=1, eps=1e-5, **TOL[np.float32])
    e = np.zeros((0, 4), np.float32)
    check_kernel("layer_norm", e, None, None, normalized_ndim=1, eps=1e-5)


def test_norm_mixed_dtypes_take_the_numpy_path():
    x, w = _rand((3, 4), np.float32), _rand(4, np.float64)
    check_kernel("layer_norm", x, w, None, normalized_ndim=1, eps=1e-5, exact=True)
    check_kernel("layer_norm", x.astype(np.float16), None, None, normalized_ndim=1, eps=1e-5, exact=True)


# --- softmax family --------------------------------------------------------------------------------
SOFTMAX = ["softmax", "log_softmax"]
SOFTMAX_SHAPES = [(16, 4, 64, 64), (3, 7), (5, 1), (2, 3, 33), (2, 100)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES)
@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_and_backward(name, shape, dtype):
    x = _rand(shape, dtype)
    y = check_kernel(name, x, dim=len(shape) - 1, **TOL[dtype])
    g = _rand(shape, dtype, 1)
    check_kernel(name + "_backward", g, y, dim=len(shape) - 1, **TOL[dtype])
    check_kernel(name, _noncontig(x), dim=len(shape) - 1, **TOL[dtype])


@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_nonfinite_rows(name):
    x = _rand((7, 10), np.float32)
    x[0] = -np.inf  # all -inf: nan
    x[1, :9] = -np.inf  # one finite value: 1 (0 after log)
    x[2, 3] = np.nan
    x[3, 4] = np.inf
    x[4] += 1000.0  # large values: shifted by the row max
    x[5] -= 1000.0
    x[6, ::2] = -np.inf  # a causal mask
    y = check_kernel(name, x, dim=1, **TOL[np.float32])
    assert np.isnan(y[0]).all() and np.isnan(y[2]).all()
    check_kernel(name + "_backward", _rand((7, 10), np.float32, 1), np.where(np.isfinite(y), y, 0), dim=1,
                 **TOL[np.float32])


@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_other_dims_and_dtypes_take_the_numpy_path(name):
    x = _rand((3, 4, 5), np.float32)
    check_kernel(name, x, dim=1, exact=True)
    check_kernel(name, x.astype(np.float16), dim=2, exact=True)
    check_kernel(name, np.zeros((3, 0), np.float32), dim=1, exact=True)


# --- cross_entropy ---------------------------------------------------------------------------------
CE = dict(cdim=1, label_smoothing=0.0, soft=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(1024, 96), (128, 10), (7, 3), (5, 1)])
def test_cross_entropy(shape, reduction, dtype):
    n, c = shape
    x = _rand(shape, dtype)
    t = np.random.default_rng(1).integers(0, c, n)
    t[::3] = -1  # ignored rows
    attrs = dict(CE, reduction=reduction, ignore_index=-1)
    loss, lse = check_kernel("cross_entropy", x, t, None, **attrs, **TOL[dtype])
    g = _rand(loss.shape, dtype, 2)
    check_kernel("cross_entropy_backward", g, x, t, None, lse, **attrs, **TOL[dtype])
    check_kernel("cross_entropy", _noncontig(x), t, None, **attrs, **TOL[dtype])


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_every_row_ignored_and_nonfinite(reduction):
    x = _rand((5, 4), np.float32)
    x[0, 1], x[1], x[2, 0], x[3] = np.nan, -np.inf, np.inf, np.inf
    attrs = dict(CE, reduction=reduction, ignore_index=-100)
    for t in (np.array([0, 1, -100, 3, 2]), np.full(5, -100)):
        loss, lse = check_kernel("cross_entropy", x, t, None, **attrs, **TOL[np.float32])
        g = np.ones(loss.shape, np.float32)
        check_kernel("cross_entropy_backward", g, x, t, None, lse, **attrs, **TOL[np.float32])


@pytest.mark.parametrize("bad", [4, -2])
def test_cross_entropy_target_out_of_bounds(bad):
    x, t = _rand((3, 4), np.float32), np.array([0, bad, 1])
    for fused in (True, False):
        with pytest.raises(IndexError, match=f"target {bad} is out of bounds"):
            if fused:
                KERNELS["cross_entropy"](x, t, None, **CE, reduction="mean", ignore_index=-100)
            else:
                with jit.disabled():
                    KERNELS["cross_entropy"](x, t, None, **CE, reduction="mean", ignore_index=-100)
