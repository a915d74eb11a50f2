"""Thread settings (``ember.set_num_threads``): the BLAS pool behind NumPy's matmul is
the only parallel part of the CPU backend."""
import os

_num_threads = None


def get_num_threads():
    if _num_threads is not None:
        return _num_threads
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def set_num_threads(n):
    """Limit the BLAS threads used by matrix products. Applied through threadpoolctl when it
    is installed; otherwise set OPENBLAS_NUM_THREADS before starting Python."""
    global _num_threads
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"ember.set_num_threads: expected a positive int, got {n!r}")
    _num_threads = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")
