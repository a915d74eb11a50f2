"""The safetensors format, read and written with NumPy alone.

Layout: an 8-byte little-endian header length N, N bytes of JSON header
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}}``
padded with spaces to a multiple of 8, then the little-endian tensor bytes, each
tensor's offsets relative to the start of that data region, contiguous and in order.

Ember writes tensors largest itemsize first so that every tensor is aligned for
zero-copy loading, and records in ``__metadata__["ember.crc32"]`` (other readers
ignore it) the CRC-32 of the data region followed by the canonical JSON of the rest
of the header (sorted keys, no spaces), so a flipped bit anywhere is caught: in
tensor bytes, names, shapes, or metadata such as ``ember.save``'s structure.

Loading with ``mmap=True`` maps the file privately (copy-on-write): tensors are
zero-copy views of the page cache, writable, and writes to them never reach the
file. Ember replaces files atomically, so overwriting a checkpoint that is
still mapped is safe (the mapping keeps the old file alive).
"""
from __future__ import annotations

import json
import os
import sys
import zlib

import ml_dtypes
import numpy as np

from ._files import CheckpointError, atomic_write, display_name, is_path, map_file, readinto_exact, read_exact

DTYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8),
          "I16": np.dtype(np.int16), "I32": np.dtype(np.int32), "I64": np.dtype(np.int64),
          "F16": np.dtype(np.float16), "BF16": np.dtype(ml_dtypes.bfloat16),
          "F32": np.dtype(np.float32), "F64": np.dtype(np.float64)}
CODES = {v: k for k, v in DTYPES.items()}
# dtypes the format defines that Ember has no tensors for
_UNSUPPORTED = {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64", "C128"}
MAX_HEADER = 100_000_000  # the reference implementation's limit
CRC_KEY = "ember.crc32"
_LITTLE = sys.byteorder == "little"
_CHUNK = 1 << 26


class Entry:
    __slots__ = ("name", "dtype", "shape", "begin", "end")

    def __init__(self, name, dtype, shape, begin, end):
        self.name, self.dtype, self.shape, self.begin, self.end = name, dtype, shape, begin, end


# --- writing -----------------------------------------------------------------------------------
def as_array(value, who, name):
    """The NumPy array behind a Tensor / ndarray value to be saved."""
    arr = getattr(value, "_data", None)
    if not isinstance(arr, np.ndarray):
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{who}: {name!r} must be a Tensor or a NumPy array, got {type(value).__name__}")
        arr = value
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype not in CODES:
        raise TypeError(f"{who}: {name!r} has dtype {arr.dtype}, which safetensors files from Ember cannot "
                        f"hold (supported: {', '.join(str(d) for d in CODES)})")
    return arr


def _le_bytes(arr):
    arr = np.ascontiguousarray(arr)
    if not _LITTLE and arr.itemsize > 1:
        arr = arr.byteswap()
    return arr.reshape(-1).view(np.uint8)


def write(f, arrays, metadata=None, checksum=True):
    """Write ``arrays`` (name -> ndarray, in the header's order) to the binary file ``f``."""
    order = sorted(arrays, key=lambda k: -arrays[k].itemsize)  # stable: keeps insertion order per itemsize
    blobs = [_le_bytes(arrays[k]) for k in order]
    entries, pos = {}, 0
    for k, blob in zip(order, blobs):
        entries[k] = (pos, pos + blob.size)
        pos += blob.size
    meta = dict(metadata or {})
    meta.pop(CRC_KEY, None)
    header = {"__metadata__": meta}
    for k, arr in arrays.items():
        header[k] = {"dtype": CODES[arr.dtype], "shape": list(arr.shape), "data_offsets": list(entries[k])}
    if checksum:
        crc = 0
        for blob in blobs:
            crc = zlib.crc32(blob, crc)
        meta[CRC_KEY] = f"{_header_crc(header, crc):08x}"
    if not meta:
        del header["__metadata__"]
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    f.write(len(raw).to_bytes(8, "little"))
    f.write(raw)
    for blob in blobs:
        f.write(blob)


def save_file(tensors, path, metadata=None):
    """Save a ``{name: Tensor}`` dict as a safetensors file (atomically when ``path`` is a path).

    ``metadata`` is an optional ``{str: str}`` dict stored in the header."""
    who = "ember.io.save_file"
    if not isinstance(tensors, dict):
        raise TypeError(f"{who}: expected a dict of name -> Tensor, got {type(tensors).__name__}")
    arrays = {}
    for k, v in tensors.items():
        if not isinstance(k, str) or k == "__metadata__":
            raise TypeError(f"{who}: tensor names must be strings other than '__metadata__', got {k!r}")
        arrays[k] = as_array(v, who, k)
    if metadata is not None and not (isinstance(metadata, dict) and
                                     all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError(f"{who}: metadata must be a dict of str -> str, got {metadata!r:.200}")
    if is_path(path):
        atomic_write(path, lambda f: write(f, arrays, metadata))
    else:
        write(path, arrays, metadata)


# --- reading -----------------------------------------------------------------------------------
class _Duplicate(ValueError):
    pass


def _pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(f"duplicate key {k!r} in the header")
        out[k] = v
    return out


def _is_int(x):
    return type(x) is int and x >= 0


def parse_header(raw, err):
    """Validate a header's JSON; returns (entries in header order, metadata dict)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise err(f"the header is not UTF-8 text ({e}): not a safetensors file") from None
    if not text.startswith("{"):
        raise err(f"the header does not start with '{{' (starts with {raw[:16]!r}): not a safetensors file")
    try:
        header = json.loads(text, object_pairs_hook=_pairs)
    except _Duplicate as e:
        raise err(str(e)) from None
    except ValueError as e:
        raise err(f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise err("the header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and
                                 all(isinstance(v, str) for v in meta.values())):
        raise err("__metadata__ must map strings to strings")
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise err(f"tensor {name!r}: expected an object with keys dtype, shape, data_offsets, "
                      f"got {json.dumps(info)[:120]}")
        code, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if code not in DTYPES:
            why = "is not supported by Ember" if code in _UNSUPPORTED else "is unknown"
            raise err(f"tensor {name!r}: dtype {code!r} {why} (supported: {', '.join(DTYPES)})")
        if not isinstance(shape, list) or not all(_is_int(d) for d in shape):
            raise err(f"tensor {name!r}: shape must be a list of non-negative integers, got {shape!r:.120}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(_is_int(o) for o in offs) and offs[0] <= offs[1]):
            raise err(f"tensor {name!r}: data_offsets must be [begin, end] with 0 <= begin <= end, got {offs!r:.120}")
        dt = DTYPES[code]
        need = dt.itemsize
        for d in shape:
            need *= d
        if offs[1] - offs[0] != need:
            raise err(f"tensor {name!r}: data_offsets {offs} span {offs[1] - offs[0]} bytes but {code} "
                      f"shape {shape} needs {need}")
        entries.append(Entry(name, dt, tuple(shape), offs[0], offs[1]))
    return entries, meta or {}


def check_layout(entries, err):
    """Offsets must tile [0, data size) with no gap or overlap; returns the data size."""
    pos, prev = 0, None
    for e in sorted(entries, key=lambda e: (e.begin, e.end)):
        if e.begin != pos:
            what = f"overlaps {prev.name!r} (which ends at {pos})" if e.begin < pos and prev is not None \
                else f"leaves a gap: expected it to begin at {pos}"
            raise err(f"tensor {e.name!r} begins at byte {e.begin} of the data and {what}")
        pos, prev = e.end, e
    return pos


def _header_crc(header, crc):
    """Continue ``crc`` (of the data) over the header's canonical JSON, less the checksum itself."""
    meta = {k: v for k, v in header.get("__metadata__", {}).items() if k != CRC_KEY}
    canon = dict(header, __metadata__=meta)
    return zlib.crc32(json.dumps(canon, sort_keys=True, separators=(",", ":")).encode(), crc)


def _crc(buf, crc=0):
    mv = memoryview(buf).cast("B")
    for i in range(0, len(mv), _CHUNK):
        crc = zlib.crc32(mv[i:i + _CHUNK], crc)
    return crc


def _native(arr):
    if not _LITTLE and arr.itemsize > 1:
        arr = arr.byteswap()
    return arr


def view_array(buf, e, base):
    """A zero-copy array of entry ``e`` over ``buf`` (copied only if misaligned)."""
    count = e.end - e.begin
    if not count:
        return np.empty(e.shape, e.dtype)
    arr = np.frombuffer(buf, dtype=e.dtype, count=count // e.dtype.itemsize, offset=base + e.begin).reshape(e.shape)
    return _native(arr if arr.flags.aligned else arr.copy())


class Layout:
    """A validated header: entries, metadata and where the data region lies."""

    def __init__(self, f, size, fname, who):
        self.fname = fname
        self.err = err = lambda msg: CheckpointError(f"{who}: cannot load {fname!r}: {msg}")
        head = read_exact(f, 8)
        if len(head) < 8:
            raise err(f"the file is {len(head)} bytes, too short for a safetensors file "
                      f"(it starts with an 8-byte header length)")
        n = int.from_bytes(head, "little")
        if n > MAX_HEADER:
            raise err(f"the header length field says {n} bytes, over the {MAX_HEADER}-byte limit: "
                      f"corrupt or not a safetensors file")
        if size is not None and n > size - 8:
            raise err(f"the header length field says {n} bytes but only {size - 8} follow: "
                      f"truncated or not a safetensors file")
        raw = read_exact(f, n)
        if len(raw) < n:
            raise err(f"truncated: the header length field says {n} bytes but only {len(raw)} follow")
        self.entries, self.metadata = parse_header(raw, err)
        self.header = {e.name: {"dtype": CODES[e.dtype], "shape": list(e.shape), "data_offsets": [e.begin, e.end]}
                       for e in self.entries}
        self.header["__metadata__"] = self.metadata
        self.base = 8 + n
        self.data_size = check_layout(self.entries, err)
        if size is not None:
            actual = size - self.base
            if actual < self.data_size:
                raise err(f"truncated: the header describes {self.data_size} bytes of tensor data "
                          f"but the file holds {actual}")
            if actual > self.data_size:
                raise err(f"{actual - self.data_size} bytes follow the tensor data that the header does not "
                          f"describe (corrupt header or not a safetensors file)")
        crc = self.metadata.get(CRC_KEY)
        if crc is not None:
            try:
                self.crc = int(crc, 16)
            except ValueError:
                raise err(f"metadata {CRC_KEY} is not a hex checksum: {crc!r:.40}") from None
        else:
            self.crc = None

    def check_crc(self, data_crc):
        if self.crc is None:
            return
        crc = _header_crc(self.header, data_crc)
        if crc != self.crc:
            raise self.err(f"checksum mismatch: the file's contents have CRC-32 {crc:08x} but its header records "
                           f"{self.crc:08x}: the file is corrupted")

    def read_arrays(self, f):
        """Read every tensor into its own array (sequentially from the data region's start)."""
        out, crc = {}, 0
        for e in sorted(self.entries, key=lambda e: (e.begin, e.end)):
            arr = np.empty(e.shape, e.dtype)
            if e.end > e.begin:
                flat = arr.reshape(-1).view(np.uint8)
                got = readinto_exact(f, flat)
                if got < flat.size:
                    raise self.err(f"truncated: tensor {e.name!r} needs {flat.size} bytes at data offset "
                                   f"{e.begin} but only {got} remain")
                crc = zlib.crc32(flat, crc)
            out[e.name] = _native(arr)
        return {e.name: out[e.name] for e in self.entries}, crc


def read(src, *, mmap=True, verify=True, who="ember.io.load_file"):
    """(arrays in header order, metadata) of a safetensors path or binary file object.

    A file object is read from its current position up to the end of the data
    the header describes (no memory map, nothing after it is consumed)."""
    fname = display_name(src)
    if not is_path(src):
        lay = Layout(src, None, fname, who)
        arrays, crc = lay.read_arrays(src)
        if verify:
            lay.check_crc(crc)
        return arrays, lay.metadata
    with open(src, "rb") as f:
        lay = Layout(f, os.fstat(f.fileno()).st_size, fname, who)
        if not mmap or not lay.data_size:
            arrays, crc = lay.read_arrays(f)
            if verify:
                lay.check_crc(crc)
            return arrays, lay.metadata
        buf = map_file(f, 0)
    if verify and lay.crc is not None:
        lay.check_crc(_crc(memoryview(buf)[lay.base:lay.base + lay.data_size]))
    return {e.name: view_array(buf, e, lay.base) for e in lay.entries}, lay.metadata


def _tensor(arr):
    from ..creation import from_numpy
    return from_numpy(arr)


def load_file(path, mmap=True, verify=True):
    """Load a safetensors file as ``{name: Tensor}`` (in header order).

    ``mmap=True`` maps the file copy-on-write (zero-copy, writable, the file is never
    modified); ``mmap=False`` reads each tensor into its own array. ``verify`` checks
    the data CRC-32 Ember records (files without one are only structure-checked)."""
    arrays, _ = read(path, mmap=mmap, verify=verify, who="ember.io.load_file")
    return {k: _tensor(a) for k, a in arrays.items()}


def load_metadata(path):
    """The ``__metadata__`` dict of a safetensors file (reads only the header)."""
    with safe_open(path) as f:
        return f.metadata()


class safe_open:
    """Lazy access to a safetensors file, as the ``safetensors`` package's ``safe_open``:

        with ember.io.safe_open("model.safetensors") as f:
            w = f.get_tensor("fc.weight")

    The header is validated on open; tensors are copy-on-write views of a memory map,
    read from disk only when touched. No checksum is verified (that would read everything)."""

    def __init__(self, filename, framework="ember", device="cpu"):
        if framework not in ("ember", "numpy", "np", "pt"):
            raise ValueError(f"ember.io.safe_open: framework must be 'ember' or 'numpy', got {framework!r}")
        from ..device import device as _device
        _device(device).check_available()
        self._numpy = framework in ("numpy", "np")
        with open(filename, "rb") as f:
            self._layout = Layout(f, os.fstat(f.fileno()).st_size, display_name(filename), "ember.io.safe_open")
            self._buf = map_file(f, 0) if self._layout.data_size else b""
        self._by_name = {e.name: e for e in self._layout.entries}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Drop this handle's map (tensors already returned keep theirs alive)."""
        self._buf = None

    def keys(self):
        return list(self._by_name)

    def metadata(self):
        return dict(self._layout.metadata)

    def _entry(self, name):
        if self._buf is None:
            raise ValueError(f"ember.io.safe_open: {self._layout.fname!r} is closed")
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"ember.io.safe_open: no tensor {name!r} in {self._layout.fname!r}") from None

    def _out(self, arr):
        return arr if self._numpy else _tensor(arr)

    def get_tensor(self, name):
        return self._out(view_array(self._buf, self._entry(name), self._layout.base))

    def get_slice(self, name):
        return _Slice(self, self._entry(name))


class _Slice:
    """``f.get_slice(name)[0:2]``: reads only the indexed part of a tensor."""

    def __init__(self, owner, entry):
        self._owner, self._entry = owner, entry

    def get_shape(self):
        return list(self._entry.shape)

    def get_dtype(self):
        return CODES[self._entry.dtype]

    def __getitem__(self, index):
        arr = view_array(self._owner._buf, self._entry, self._owner._layout.base)
        return self._owner._out(np.array(arr[index]))
