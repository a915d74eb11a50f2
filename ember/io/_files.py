"""Errors, atomic writes and byte sources shared by Ember's file formats."""
from __future__ import annotations

import mmap as _mmap
import os
import pickle
import tempfile


class CheckpointError(ValueError):
    """A file that is truncated, corrupt, or not in the expected format."""


class NotATrainingCheckpoint(CheckpointError):
    """A valid Ember file that holds weights only, not a ``save_checkpoint`` training state."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A pickle that asks for a global outside the allow-list (it could run code)."""


def display_name(f):
    """The path of ``f`` (str / PathLike / file object) for error messages."""
    if isinstance(f, (str, bytes, os.PathLike)):
        return os.fsdecode(f)
    name = getattr(f, "name", None)
    return os.fsdecode(name) if isinstance(name, (str, bytes)) else f"<{type(f).__name__}>"


def is_path(f):
    return isinstance(f, (str, bytes, os.PathLike))


def _new_file_mode():
    # mkstemp creates 0600 files; give new checkpoints the mode open() would (0666 & ~umask)
    try:
        with open("/proc/self/status") as st:
            for line in st:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def atomic_write(path, write):
    """Call ``write(f)`` on a temp file next to ``path``, fsync it, then rename it over ``path``.

    A crash or an exception at any point leaves the old file untouched and removes
    the temp file. A symlink at ``path`` is followed (its target gets replaced)."""
    target = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(target)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def _fsync_dir(folder):
    # makes the rename itself durable; not possible on every platform (Windows)
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def map_file(f, size):
    """A private copy-on-write memory map of an open file: arrays over it are writable,
    writes stay in this process and never reach the file."""
    return _mmap.mmap(f.fileno(), size, access=_mmap.ACCESS_COPY)


def readinto_exact(f, buf):
    """Fill ``buf`` (a writable buffer) from ``f``; returns the number of bytes read (short = EOF)."""
    mv = memoryview(buf).cast("B")
    got, n = 0, len(mv)
    readinto = getattr(f, "readinto", None)
    while got < n:
        if readinto is not None:
            k = readinto(mv[got:])
        else:
            chunk = f.read(n - got)
            k = len(chunk)
            mv[got:got + k] = chunk
        if not k:
            break
        got += k
    return got


def read_exact(f, n):
    out = bytearray(n)
    return bytes(out[:readinto_exact(f, out)])
