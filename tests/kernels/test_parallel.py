"""Large loops split over threads compute exactly what one NumPy call computes."""
import os
import sys
import subprocess

import numpy as np
import pytest

from ember.kernels.cpu import KERNELS, _parallel
from .jit_check import check_kernel, needs_numba

BIG = 2 * _parallel.MIN_PER_THREAD + 123  # odd size: the slices do not divide evenly


@pytest.fixture
def two_threads():
    old = _parallel.get_threads()
    _parallel.set_threads(2)
    yield
    _parallel.set_threads(old)


def _rand(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("op,ufunc", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                                      ("div", np.true_divide)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_split_matches_numpy(two_threads, op, ufunc, dtype):
    a = _rand((BIG // 64 + 1, 64), dtype)
    cases = [(a, _rand(a.shape, dtype, 1)), (a, _rand((64,), dtype, 2)), (a, _rand((a.shape[0], 1), dtype, 3)),
             (_rand((1, 64), dtype, 4), a), (a, 2.5), (a, np.float64(0.5)), (a.T, a.T), (a[::2], a[1::2])]
    for x, y in cases:
        got, want = KERNELS[op](x, y), ufunc(x, y)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_relu_split(two_threads):
    x = _rand((3, BIG))
    x[0, :5] = [np.nan, -np.inf, np.inf, -0.0, 0.0]
    np.testing.assert_array_equal(KERNELS["relu"](x), np.maximum(x, 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_split(two_threads, dtype):
    g, out = _rand((BIG,), dtype), np.maximum(_rand((BIG,), dtype, 1), 0)
    out[:3] = [np.nan, 0.0, -0.0]
    res = check_kernel("relu_backward", g, out, exact=True)
    np.testing.assert_array_equal(res, np.where(out > 0, g, 0) + np.where(np.isnan(out), g, 0))


def test_one_thread_does_not_split():
    old = _parallel.get_threads()
    _parallel.set_threads(1)
    try:
        calls = []
        _parallel.parallel_for(lambda lo, hi: calls.append((lo, hi)), 10 ** 7)
        assert calls == [(0, 10 ** 7)]
    finally:
        _parallel.set_threads(old)


def test_slices_cover_the_range_once(two_threads):
    hits = np.zeros(BIG, np.int64)

    def mark(lo, hi):
        hits[lo:hi] += 1
    _parallel.parallel_for(mark, BIG)
    assert (hits == 1).all()


def test_worker_error_reaches_the_caller(two_threads):
    def fail_in_second_half(lo, hi):
        if lo > 0:
            raise ValueError("boom in worker")
    with pytest.raises(ValueError, match="boom in worker"):
        _parallel.parallel_for(fail_in_second_half, BIG)
    _parallel.parallel_for(lambda lo, hi: None, BIG)  # the pool still works afterwards


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_split_works_in_a_forked_child():
    code = ("import os, numpy as np\n"
            "from ember.kernels.cpu import KERNELS, _parallel\n"
            "_parallel.set_threads(2)\n"
            "a = np.ones(1 << 20, np.float32)\n"
            "KERNELS['add'](a, a)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    ok = (KERNELS['add'](a, a) == 2).all()\n"
            "    os._exit(0 if ok else 1)\n"
            "_, status = os.waitpid(pid, 0)\n"
            "raise SystemExit(os.waitstatus_to_exitcode(status))\n")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 37, BIG])
def test_relu_fused_matches_numpy(dtype, n):
    x = _rand((n,), dtype)
    x[:min(n, 5)] = [np.nan, -np.inf, np.inf, -0.0, 0.0][:min(n, 5)]
    got = check_kernel("relu", x, exact=True)
    if n >= 4:
        assert np.signbit(got[3])  # relu(-0.0) is -0.0, as PyTorch's (NumPy's maximum gives +0.0)
    check_kernel("relu", x[::2], exact=True)  # non-contiguous: NumPy path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_and_pool_loops_split_over_threads_match_numpy(two_threads, dtype):
    """Large convolutions and poolings split their compiled loops by rows/samples/planes."""
    x, w, b = _rand((16, 16, 32, 32), dtype), _rand((32, 16, 3, 3), dtype, 1), _rand((32,), dtype, 2)
    g = _rand((16, 32, 32, 32), dtype, 3)
    kw = dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    check_kernel("conv", x, w, b, rtol=1e-4, atol=1e-4, **kw)
    check_kernel("conv_backward_input", g, w, input_shape=x.shape, rtol=1e-4, atol=1e-3, **kw)
    check_kernel("conv_backward_weight", x, g, weight_shape=w.shape, rtol=1e-4, atol=1e-2, **kw)
    pool = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False)
    values, indices = check_kernel("max_pool", g, exact=True, **pool)
    check_kernel("max_pool_backward", values, indices, input_shape=g.shape, exact=True)


def test_a_family_that_fails_to_load_falls_back_to_numpy(monkeypatch):
    from ember.kernels.cpu import jit
    monkeypatch.setattr(jit, "_modules", {})
    monkeypatch.setattr(jit, "_enabled", True)

    def broken(name):
        raise RuntimeError("no LLVM here")
    monkeypatch.setattr(jit.importlib, "import_module", broken)
    with pytest.warns(RuntimeWarning, match="fused activation loops failed to load"):
        assert jit.kernels("activation") is None
    assert jit.kernels("norm") is None  # disabled from then on
    x = _rand((5,))
    np.testing.assert_array_equal(KERNELS["relu"](x), np.maximum(x, 0))
