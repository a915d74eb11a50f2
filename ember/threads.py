"""Thread settings (``ember.set_num_threads``): the BLAS pool behind NumPy's matmul, and the
threads that split large elementwise loops (``ember/kernels/cpu/_parallel.py``)."""


def get_num_threads():
    from .kernels.cpu import _parallel
    return _parallel.get_threads()


def set_num_threads(n):
    """Use ``n`` threads: for large elementwise loops, and for the BLAS behind matrix products
    (through threadpoolctl when it is installed; otherwise set OPENBLAS_NUM_THREADS before
    starting Python)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"ember.set_num_threads: expected a positive int, got {n!r}")
    from .kernels.cpu import _parallel
    _parallel.set_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")
