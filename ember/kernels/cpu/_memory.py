"""Allocator setting for array-heavy loops: keep freed memory instead of returning it to the OS.

glibc gives large freed blocks back to the kernel (``munmap``, or trimming the top of the
heap), so the next step's arrays of the same sizes start on fresh pages and fault on first
touch: ~1,600 page faults and 1.7 ms per step of the bench transformer (24.2 -> 22.5 ms),
~2,000 faults and 4 ms per step of the bench CNN (25 -> 21 ms). A 256 MiB top pad keeps
that memory mapped between steps (64 MiB was enough for the transformer, not for the CNN's
14 MB im2col columns); peak RSS of a step does not change, but up to the pad of freed
memory stays resident after it.

Skipped when the user chose allocator settings (``MALLOC_TOP_PAD_`` and friends), with
``EMBER_MALLOC_TUNING=0``, and off glibc (no ``mallopt``).
"""
import ctypes
import os
import sys

__all__ = ["tune_malloc"]

_M_TOP_PAD = -2
TOP_PAD = 256 << 20
_USER_VARS = ("MALLOC_TOP_PAD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX")


def tune_malloc():
    """Set glibc's top pad once per process; returns whether it was set."""
    if not sys.platform.startswith("linux") or os.environ.get("EMBER_MALLOC_TUNING") == "0":
        return False
    if any(v in os.environ for v in _USER_VARS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_TOP_PAD, TOP_PAD) == 1
