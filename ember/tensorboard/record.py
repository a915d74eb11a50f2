"""TFRecord framing and the event file writer (no TensorBoard import needed here).

A record is ``uint64 length | masked crc32c(length) | data | masked crc32c(data)``, all
little-endian; an event file is a sequence of records, each a serialized ``Event`` proto.
"""
import itertools
import os
import socket
import struct
import time
import weakref

import numpy as np


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1  # Castagnoli polynomial, reflected
        table.append(c)
    return table


_TABLE = _crc32c_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)
_CHUNK = 256
_VECTOR_MIN = 1 << 14  # below ~16 KiB the plain loop is as fast (measured)


def _crc_bytes(crc, data):
    t = _TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def _gf2_times(mat, vec):
    """mat (32 column vectors) times vec over GF(2)."""
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def _shift_operator(nbytes):
    """32x32 GF(2) matrix advancing a raw CRC register over ``nbytes`` zero bytes (zlib's crc32_combine)."""
    op = [0x82F63B78] + [1 << n for n in range(31)]  # one zero bit
    result = [1 << n for n in range(32)]
    op = _gf2_square(_gf2_square(_gf2_square(op)))  # one zero byte
    while nbytes:
        if nbytes & 1:
            result = [_gf2_times(op, c) for c in result]
        nbytes >>= 1
        if nbytes:
            op = _gf2_square(op)
    return result


_SHIFT_CHUNK = _shift_operator(_CHUNK)


def crc32c(data):
    """CRC-32C (Castagnoli) of ``data``, as TFRecord uses it.

    Large buffers are cut into 256-byte chunks whose CRCs run side by side in NumPy (one table
    lookup per byte position across all chunks), then are chained with the zero-shift
    operator, because CRC is linear over GF(2): crc(a + b) = shift(crc(a), len(b)) ^ crc0(b).
    """
    data = bytes(data)
    n = len(data) // _CHUNK
    if len(data) < _VECTOR_MIN:
        return _crc_bytes(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    chunks = np.frombuffer(data, np.uint8, n * _CHUNK).reshape(n, _CHUNK)
    regs = np.zeros(n, np.uint32)
    regs[0] = 0xFFFFFFFF  # only the first chunk starts from the initial register
    for j in range(_CHUNK):
        regs = _TABLE_NP[(regs ^ chunks[:, j]) & 0xFF] ^ (regs >> 8)
    crc = int(regs[0])
    for r in regs[1:].tolist():
        crc = _gf2_times(_SHIFT_CHUNK, crc) ^ r
    return _crc_bytes(crc, data[n * _CHUNK:]) ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data):
    """One TFRecord: length, its masked CRC, the data, the data's masked CRC."""
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


_counter = itertools.count()  # distinct file names for writers opened in the same second


def _drain(file, pending):
    if not file.closed:
        file.write(b"".join(pending))
        pending.clear()
        file.flush()


def _close(file, pending):
    _drain(file, pending)
    file.close()


class EventFileWriter:
    """Appends framed, serialized events to ``<log_dir>/events.out.tfevents.<time>.<host>.<pid>.<n><suffix>``.

    Events are buffered and written when ``max_queue`` are pending, when ``flush_secs`` have
    passed since the last write (checked on each add: no background thread), on ``flush()``,
    on ``close()``, and when the writer is garbage-collected or the interpreter exits.
    """

    def __init__(self, log_dir, first_record, max_queue=10, flush_secs=120, filename_suffix=""):
        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        name = "events.out.tfevents.%010d.%s.%d.%d%s" % (time.time(), socket.gethostname(), os.getpid(),
                                                           next(_counter), filename_suffix)
        self.path = os.path.join(self.log_dir, name)
        self.max_queue, self.flush_secs = max(int(max_queue), 1), flush_secs
        self._file = open(self.path, "wb")
        self._pending = []
        self._last_flush = time.monotonic()
        self._finalizer = weakref.finalize(self, _close, self._file, self._pending)
        self.add(first_record)
        self.flush()  # the file_version record makes the file recognisable at once

    @property
    def closed(self):
        return self._file.closed

    def add(self, serialized_event):
        if self._file.closed:
            raise ValueError(f"ember.tensorboard: event file {self.path} is closed")
        self._pending.append(frame(serialized_event))
        if len(self._pending) >= self.max_queue or time.monotonic() - self._last_flush >= self.flush_secs:
            self.flush()

    def flush(self):
        _drain(self._file, self._pending)
        self._last_flush = time.monotonic()

    def close(self):
        self._finalizer()
