"""Fused CPU kernels compiled by numba: one loop where NumPy needs a chain of passes.

A NumPy kernel that has a fused twin asks ``jit.kernels("family")`` for the module of
compiled loops and falls back to its own NumPy code when that is None: numba not
installed (the lite runtime needs NumPy alone), or disabled with ``EMBER_JIT=0`` or
``with jit.disabled():`` (tests compare both paths). numba is imported on the first
call, never by ``import ember``; compiled code is cached on disk (``cache=True``), so
only the first run on a machine pays the compile (about 0.3 s per loop and dtype).

The loops are serial (``nogil``, no numba thread pool): numba's parallel pools spin
and fight OpenBLAS's threads on a 2-core machine (a GEMM next to a parallel loop ran
60x slower here); large loops are split over ``parallel_for``'s two Python threads
instead, which sleep when idle.
"""
import contextlib
import importlib
import os
import warnings

__all__ = ["kernels", "disabled", "available", "preload"]

_enabled = os.environ.get("EMBER_JIT", "1") != "0"
_modules = {}
_numba_ok = None


def available():
    """Whether numba can be imported (checked once)."""
    global _numba_ok
    if _numba_ok is None:
        try:
            import numba  # noqa: F401
            _numba_ok = True
        except ImportError:
            _numba_ok = False
    return _numba_ok


_SHARED = ("_njit.py", "_rows.py")  # modules other loop modules call into


def _refresh_stamp(family):
    """numba's disk cache checks only the source file of each cached loop, not the shared
    modules its loops call: after an edit of a shared module, bump the family's file time so
    that numba recompiles its loops instead of loading stale machine code."""
    here = os.path.dirname(__file__)
    try:
        mine = os.stat(os.path.join(here, f"{family}.py")).st_mtime_ns
        newest = max(os.stat(os.path.join(here, f)).st_mtime_ns for f in _SHARED)
        if newest > mine:
            os.utime(os.path.join(here, f"{family}.py"), ns=(newest, newest))
    except OSError:  # a read-only install: its files change only together, on reinstall
        pass


def kernels(family):
    """The compiled-loop module ``ember.kernels.cpu.jit.<family>``, or None (no numba / disabled)."""
    if not _enabled:
        return None
    mod = _modules.get(family)
    if mod is None:
        if not available():
            return None
        _refresh_stamp(family)
        try:
            mod = importlib.import_module(f"{__name__}.{family}")
        except Exception as e:  # a numba that cannot build our loops here: run the NumPy kernels
            _disable(f"ember: the fused {family} loops failed to load ({type(e).__name__}: {e}); "
                     f"using the NumPy kernels")
            return None
        _modules[family] = mod
    return mod


def _disable(message):
    global _enabled
    _enabled = False
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def preload():
    """Import numba and start its JIT engine now (one tiny cached loop), instead of inside the
    first training step: they take ~0.2 s and ~130 MB of resident memory, a runtime cost like
    the framework's own libraries, not a cost of the step. ``ember.nn`` calls this on import."""
    k = kernels("activation")
    if k is not None:
        import numpy as np
        x = np.zeros(1, np.float32)
        try:
            k.relu(x, x, 0, 1)
        except Exception as e:  # numba could not compile or load code on this machine
            _disable(f"ember: numba failed to run a fused loop ({type(e).__name__}: {e}); "
                     f"using the NumPy kernels")


@contextlib.contextmanager
def disabled():
    """Run the NumPy fallbacks inside the block (tests compare them with the fused loops)."""
    global _enabled
    old, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = old
