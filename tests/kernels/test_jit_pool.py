"""The fused pooling loops compute what the NumPy pooling kernels compute.

Max pooling must agree bit for bit (values, the sign of a zero maximum, nan payloads) and
index for index: the first maximum on ties, the last nan, -inf next to the padding.
"""
import numpy as np
import pytest

from ember.kernels.cpu import KERNELS
from .jit_check import both_paths, check_kernel, needs_numba

# without the fused loops (no numba, or EMBER_JIT=0) both paths are the NumPy one
pytestmark = needs_numba

DTYPES = [np.float32, np.float64]

# (input shape, window attributes): 1-d, 2-d and 3-d, odd sizes, padding, dilation, ceil_mode,
# overlapping (stride < kernel) and gapped (stride > kernel) windows
MAX_CASES = [
    ((3, 4, 9, 8), dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False)),
    ((2, 3, 9, 8), dict(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1), ceil_mode=True)),
    ((2, 3, 9, 8), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1), ceil_mode=True)),
    ((2, 3, 13, 12), dict(kernel_size=(3, 2), stride=(3, 1), padding=(0, 0), dilation=(2, 2), ceil_mode=False)),
    ((2, 3, 13, 12), dict(kernel_size=(3, 3), stride=(3, 3), padding=(1, 1), dilation=(1, 1), ceil_mode=True)),
    ((2, 3, 11), dict(kernel_size=(3,), stride=(2,), padding=(1,), dilation=(1,), ceil_mode=True)),
    ((2, 3, 11), dict(kernel_size=(2,), stride=(3,), padding=(0,), dilation=(3,), ceil_mode=False)),
    ((2, 2, 4, 6, 5), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0), dilation=(1, 1, 1),
                           ceil_mode=False)),
    ((1, 2, 5, 6, 7), dict(kernel_size=(3, 2, 3), stride=(2, 2, 2), padding=(1, 1, 1), dilation=(1, 2, 1),
                           ceil_mode=True)),
    # windows over 16 elements: offsets as an array, not an unrolled tuple
    ((2, 3, 11, 9), dict(kernel_size=(5, 4), stride=(2, 3), padding=(2, 1), dilation=(1, 1), ceil_mode=True)),
]

AVG_CASES = [
    ((3, 4, 9, 8), dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False)),
    ((2, 3, 9, 8), dict(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True)),
    ((2, 3, 9, 8), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), ceil_mode=True)),
    ((2, 3, 11), dict(kernel_size=(3,), stride=(2,), padding=(1,), ceil_mode=False)),
    ((2, 2, 4, 6, 5), dict(kernel_size=(2, 3, 2), stride=(1, 2, 3), padding=(1, 1, 0), ceil_mode=True)),
    ((2, 2, 5, 6, 7), dict(kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1), ceil_mode=False)),
]


def _overlapping(attrs):
    return any(s < d * (k - 1) + 1 for k, s, d in
               zip(attrs["kernel_size"], attrs["stride"], attrs.get("dilation", (1,) * len(attrs["stride"]))))


def _tricky(shape, dtype, seed=0):
    """Few distinct values (ties, +-0), -inf blocks (whole windows next to the padding), nans."""
    rs = np.random.default_rng(seed)
    x = rs.choice(np.array([-np.inf, -1.0, -0.0, 0.0, 1.0, 2.0]), shape).astype(dtype)
    x[(0, 0) + (slice(0, 3),) * (len(shape) - 2)] = -np.inf
    x.reshape(-1)[rs.choice(x.size, max(1, x.size // 40), replace=False)] = np.nan
    return x


def _assert_bits(fused, plain):
    """Identical dtype, shape and bytes (sign of zero and nan payloads included)."""
    assert fused.dtype == plain.dtype and fused.shape == plain.shape
    np.testing.assert_array_equal(np.ascontiguousarray(fused).view(np.uint8),
                                  np.ascontiguousarray(plain).view(np.uint8))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,attrs", MAX_CASES)
def test_max_pool_bit_exact(shape, attrs, dtype):
    for x in (_tricky(shape, dtype), np.random.default_rng(1).standard_normal(shape).astype(dtype)):
        (fv, fi), (pv, pi) = both_paths(KERNELS["max_pool"], x, **attrs)
        _assert_bits(fv, pv)
        assert fi.dtype == np.int64 and np.array_equal(fi, pi)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_nan_payload_and_noncontiguous(dtype):
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 10)).astype(dtype)
    x[0, 0, 1, 1] = -np.nan  # the sign bit set: the max is this very nan, not a fresh one
    x[1, 2, 4:6, 4:6] = np.nan
    attrs = dict(kernel_size=(2, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1), ceil_mode=True)
    (fv, fi), (pv, pi) = both_paths(KERNELS["max_pool"], x.transpose(1, 0, 3, 2), **attrs)
    _assert_bits(fv, pv)
    assert np.array_equal(fi, pi)


def test_max_pool_empty_batch():
    attrs = dict(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1), ceil_mode=False)
    v, i = check_kernel("max_pool", np.zeros((0, 3, 5, 4), np.float32), exact=True, **attrs)
    assert v.shape == i.shape == (0, 3, 3, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,attrs", MAX_CASES)
def test_max_pool_backward(shape, attrs, dtype):
    """The scatter through the forward's indices; overlapping windows sum (in the input's dtype,
    as PyTorch, where the NumPy bincount rounds once from float64)."""
    x = _tricky(shape, dtype)
    _, idx = KERNELS["max_pool"](x, **attrs)
    g = np.random.default_rng(3).standard_normal(idx.shape).astype(dtype)
    for unique in (False,) if _overlapping(attrs) else (False, True):
        check_kernel("max_pool_backward", g, idx, input_shape=shape, unique=unique, rtol=1e-6, atol=1e-6)
    # a non-contiguous gradient (e.g. from a transpose) and an empty batch
    gt = np.ascontiguousarray(g.swapaxes(0, 1)).swapaxes(0, 1)
    check_kernel("max_pool_backward", gt, idx, input_shape=shape, rtol=1e-6, atol=1e-6)
    gx = check_kernel("max_pool_backward", g[:0], idx[:0], input_shape=(0,) + shape[1:])
    assert gx.shape == (0,) + shape[1:]


def test_max_pool_backward_index_out_of_plane():
    g = np.ones((1, 1, 2), np.float32)
    with pytest.raises(IndexError):
        KERNELS["max_pool_backward"](g, np.array([[[0, 4]]]), input_shape=(1, 1, 4))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,attrs", AVG_CASES)
@pytest.mark.parametrize("divisor", [dict(count_include_pad=True, divisor_override=None),
                                     dict(count_include_pad=False, divisor_override=None),
                                     dict(count_include_pad=False, divisor_override=3)])
def test_avg_pool_forward_and_backward(shape, attrs, divisor, dtype):
    """Forward: the same additions and division, bit for bit; backward: the same shares, summed
    in another order where windows overlap."""
    x = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    x.reshape(-1)[::17] = -0.0
    y = check_kernel("avg_pool", x, exact=True, **attrs, **divisor)
    g = np.random.default_rng(5).standard_normal(y.shape).astype(dtype)
    check_kernel("avg_pool_backward", g, input_shape=shape, exact=not _overlapping(attrs), **attrs, **divisor)
    # non-contiguous input and gradient
    check_kernel("avg_pool", np.ascontiguousarray(x.swapaxes(0, 1)).swapaxes(0, 1), exact=True, **attrs, **divisor)
    check_kernel("avg_pool_backward", np.ascontiguousarray(g.swapaxes(0, 1)).swapaxes(0, 1), input_shape=shape,
                 **attrs, **divisor)


def test_avg_pool_inf_nan_and_empty():
    x = np.random.default_rng(6).standard_normal((2, 3, 6, 7)).astype(np.float32)
    x[0, 0, 0, 0], x[0, 1, 2, 3], x[1, 2, 5, 6] = np.inf, -np.inf, np.nan
    attrs = dict(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True, count_include_pad=False,
                 divisor_override=None)
    check_kernel("avg_pool", x, exact=True, **attrs)
    y = check_kernel("avg_pool", x[:0], exact=True, **attrs)
    check_kernel("avg_pool_backward", y, input_shape=(0, 3, 6, 7), **attrs)
