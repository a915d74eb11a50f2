"""Split one large loop over the CPU's cores: NumPy's ufuncs and ember's numba loops release
the GIL, so Python threads run their slices truly in parallel.

NumPy threads only its BLAS calls; PyTorch also runs elementwise kernels on every core. A
persistent pool of ``threads - 1`` workers (blocked on a semaphore when idle: they never
spin, so they do not steal cycles from OpenBLAS's threads) each takes one slice while the
caller runs the first. Loops below ``MIN_PER_THREAD`` elements per thread stay on the
calling thread. Waking a worker is cheap (~10 µs), but inside a training step the second
core is rarely free: after each threaded GEMM, OpenBLAS's worker spins on it for ~0.1 s, and a
loop of a millisecond or two then waits on a worker that shares its core with that spinner.
Splitting loops of 2^18+ elements per thread made the bench CNN and transformer steps
5-8% and 2-3% slower than not splitting at all; from 2^21 per thread on, they ran as fast
as unsplit, and alone (no GEMM nearby) a split loop of that size runs ~1.7x faster.
"""
import _thread
import os
import threading

import numpy as np

__all__ = ["parallel_for", "split_ufunc", "worth_splitting", "set_threads", "get_threads", "MIN_PER_THREAD"]

MIN_PER_THREAD = 1 << 21
_ALIGN = 64  # slice starts on multiples of this many elements (whole cache lines)

_pool = None
_pool_lock = threading.Lock()


def _default_threads():
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return max(1, int(os.environ[var]))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


_threads = _default_threads()
_min_split = 2 * MIN_PER_THREAD if _threads > 1 else float("inf")


def get_threads():
    return _threads


def set_threads(n):
    """Use ``n`` threads for large loops (``ember.set_num_threads`` calls this)."""
    global _threads, _min_split
    _threads = n
    _min_split = 2 * MIN_PER_THREAD if n > 1 else float("inf")


def worth_splitting(size):
    """Whether a loop over ``size`` elements should be split over threads."""
    return size >= _min_split


class _Worker:
    """A thread that runs one job per ``go`` release; raw locks as binary semaphores (a
    ``threading.Semaphore`` is Python code around a Condition, several times slower)."""

    def __init__(self):
        self.go, self.done = _thread.allocate_lock(), _thread.allocate_lock()
        self.go.acquire()
        self.done.acquire()
        self.job, self.error, self.alive = None, None, True
        threading.Thread(target=self._run, daemon=True, name="ember-kernel-worker").start()

    def _run(self):
        while True:
            self.go.acquire()
            if not self.alive:
                return
            fn, args = self.job
            try:
                fn(*args)
                self.error = None
            except BaseException as e:  # re-raised in the caller
                self.error = e
            self.job = None
            self.done.release()

    def stop(self):
        self.alive = False
        self.go.release()


class _Pool:
    def __init__(self, n):
        self.workers = [_Worker() for _ in range(n - 1)]
        self.busy = threading.Lock()  # one parallel loop at a time; others run serially

    def close(self):
        for w in self.workers:
            w.stop()


def _get_pool(n):
    global _pool
    pool = _pool
    if pool is None or len(pool.workers) != n - 1:
        with _pool_lock:
            if _pool is not None:
                _pool.close()
            pool = _pool = _Pool(n)
    return pool


def _reset_after_fork():
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()  # the workers did not survive fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def parallel_for(fn, n, *args, cost=1):
    """Call ``fn(*args, lo, hi)`` on slices covering ``range(n)``, one per thread; ``fn`` must
    release the GIL (a ufunc on slices, a ``nogil`` numba loop) and slices must be independent.
    ``cost``: elements of work per index (a row's length when ``n`` counts rows)."""
    t = min(_threads, n * cost // MIN_PER_THREAD, n)
    if t <= 1:
        fn(*args, 0, n)
        return
    pool = _get_pool(_threads)
    if not pool.busy.acquire(blocking=False):
        fn(*args, 0, n)
        return
    try:
        step = -(-n // t)
        if cost == 1:
            step += -step % _ALIGN
        used = []
        for i, w in enumerate(pool.workers[:t - 1], start=1):
            lo, hi = i * step, min(n, (i + 1) * step)
            if lo >= hi:
                break
            w.job = (fn, args + (lo, hi))
            w.go.release()
            used.append(w)
        try:
            fn(*args, 0, min(step, n))
        finally:
            for w in used:
                w.done.acquire()
        for w in used:
            if w.error is not None:
                raise w.error
    finally:
        pool.busy.release()


def _ufunc_rows(ufunc, operands, out, lo, hi):
    ufunc(*[a[lo:hi] if isinstance(a, np.ndarray) and a.ndim == out.ndim and a.shape[0] > 1 else a
            for a in operands], out=out[lo:hi])


def split_ufunc(ufunc, *operands, dtype=None, cost=None, shape=None):
    """``ufunc(*operands)`` computed in row blocks (axis 0 of the result) on all threads.

    Operands broadcast as in NumPy; one with fewer dims, or a leading dim of 1, is passed
    whole to every block. ``dtype``: the result's (default: ``np.result_type`` of the
    operands, right for arithmetic); ``cost``: work per row in element-op units (default: the
    row's size); ``shape``: the result's (a gufunc's differs from the broadcast shape). The
    caller checks ``worth_splitting`` first."""
    if shape is None:
        shape = np.broadcast_shapes(*[np.shape(a) for a in operands])
    if len(shape) == 0 or shape[0] < 2:
        return ufunc(*operands)
    out = np.empty(shape, np.result_type(*operands) if dtype is None else dtype)
    parallel_for(_ufunc_rows, shape[0], ufunc, operands, out, cost=out.size // shape[0] if cost is None else cost)
    return out
