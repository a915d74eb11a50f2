"""Read PyTorch ``torch.save`` checkpoints without torch and without running pickle code.

A ``.pt`` file is a zip (``<name>/data.pkl`` + ``<name>/data/<key>`` raw storages +
``byteorder``/``version`` records) or, from ``_use_new_zipfile_serialization=False``,
the legacy stream (pickled magic number, protocol, sys info, the object, the storage
keys, then each storage as an int64 element count and its bytes).

``data.pkl`` is read by ``_RestrictedUnpickler``: ``find_class`` resolves only an
allow-list (OrderedDict, torch's tensor/parameter rebuild functions, storage types,
dtypes, torch.Size / torch.device, set) to Ember's own inert stand-ins, which only
record what the pickle describes; anything else is refused with
``UnsafeCheckpointError`` before it is ever looked up, so no code from the file
runs. Tensors are then built from the storages, with every offset, size and stride
checked against the storage's bounds.
"""
from __future__ import annotations

import collections
import io as _io
import pickle
import re
import struct
import sys
import zipfile
import zlib

import numpy as np

from ._files import (CheckpointError, UnsafeCheckpointError, display_name, is_path, map_file,
                     readinto_exact, read_exact)
from .. import dtypes as _dt

_STORAGES = {"FloatStorage": _dt.float32, "DoubleStorage": _dt.float64, "HalfStorage": _dt.float16,
             "BFloat16Storage": _dt.bfloat16, "LongStorage": _dt.int64, "IntStorage": _dt.int32,
             "ShortStorage": _dt.int16, "CharStorage": _dt.int8, "ByteStorage": _dt.uint8,
             "BoolStorage": _dt.bool_, "UntypedStorage": _dt.uint8}
_TORCH_DTYPES = {"float32": _dt.float32, "float": _dt.float32, "float64": _dt.float64, "double": _dt.float64,
                 "float16": _dt.float16, "half": _dt.float16, "bfloat16": _dt.bfloat16, "int64": _dt.int64,
                 "long": _dt.int64, "int32": _dt.int32, "int": _dt.int32, "int16": _dt.int16, "short": _dt.int16,
                 "int8": _dt.int8, "uint8": _dt.uint8, "bool": _dt.bool_}
_LEGACY_MAGIC, _LEGACY_PROTOCOL = 0x1950a86a20f9469cfc6c, 1001
_KEY = re.compile(r"^\w{1,64}$")


class _Refuse(Exception):
    """Raised inside the unpickler; turned into a CheckpointError naming the file."""


class _Inert:
    """Stand-ins handed to the pickle: BUILD on them (which would set attributes) is refused."""
    __slots__ = ()

    def __setstate__(self, state):
        raise _Refuse(f"the pickle tries to set state on {self!r}")


class _Global(_Inert):
    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self):
        return self.name


class _StorageType(_Inert):
    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"torch.{self.name}"


class _Marker(_Inert):
    """torch.Tensor / torch.nn.Parameter / torch dtypes as named tokens."""
    __slots__ = ("name", "value")

    def __init__(self, name, value=None):
        self.name, self.value = name, value

    def __repr__(self):
        return self.name


class _StorageRef(_Inert):
    __slots__ = ("key", "dtype", "numel", "array", "root", "offset")

    def __init__(self, key, dtype, numel, root=None, offset=0):
        self.key, self.dtype, self.numel, self.array, self.root, self.offset = key, dtype, numel, None, root, offset


class _TensorRef(_Inert):
    __slots__ = ("storage", "offset", "size", "stride", "dtype")

    def __init__(self, storage, offset, size, stride, dtype=None):
        if not isinstance(storage, _StorageRef):
            raise _Refuse(f"a tensor's storage is {type(storage).__name__}, not a storage")
        if not (_is_index(offset) and isinstance(size, tuple) and isinstance(stride, tuple) and
                len(size) == len(stride) and all(map(_is_index, size)) and all(map(_is_index, stride))):
            raise _Refuse(f"bad tensor geometry (offset {offset!r:.40}, size {size!r:.80}, stride {stride!r:.80})")
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.dtype = dtype if dtype is not None else storage.dtype

    def __repr__(self):
        return "tensor"


def _is_index(x):
    return type(x) is int and x >= 0


def _rebuild_tensor(storage, storage_offset, size, stride, *_):
    return _TensorRef(storage, storage_offset, tuple(size) if isinstance(size, list) else size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, *_):
    if not isinstance(dtype, _Marker) or not isinstance(dtype.value, _dt.dtype):
        raise _Refuse(f"_rebuild_tensor_v3 got dtype {dtype!r:.40}")
    return _TensorRef(storage, storage_offset, size, stride, dtype.value)


def _rebuild_parameter(data, requires_grad, backward_hooks, *_):
    if not isinstance(data, _TensorRef):
        raise _Refuse("_rebuild_parameter got no tensor")
    return data  # Parameters load as plain tensors


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in _REBUILDERS or not (isinstance(new_type, _Marker) and new_type.name in _TENSOR_TYPES):
        raise _Refuse(f"_rebuild_from_type_v2({func!r}, {new_type!r}) is not a plain tensor")
    return func(*args)


def _size(*args):
    if len(args) != 1 or not all(type(x) is int for x in args[0]):
        raise _Refuse("torch.Size expects a tuple of ints")
    return tuple(args[0])


def _device(*args):
    return ":".join(str(a) for a in args if a is not None)  # devices load as strings ('cuda:0')


def _encode(text, encoding="latin1"):
    # protocol-2 pickles store bytes as _codecs.encode(str, 'latin1')
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refuse("_codecs.encode is only allowed for latin1 text")
    return text.encode("latin1")


def _builtin_set(items=()):
    return set(items)


def _builtin_frozenset(items=()):
    return frozenset(items)


_TENSOR_TYPES = ("torch.Tensor", "torch.nn.parameter.Parameter")
_ALLOWED = {("collections", "OrderedDict"): _Global("collections.OrderedDict", collections.OrderedDict),
            ("torch", "Size"): _Global("torch.Size", _size),
            ("torch", "device"): _Global("torch.device", _device),
            ("builtins", "set"): _Global("set", _builtin_set),
            ("builtins", "frozenset"): _Global("frozenset", _builtin_frozenset),
            ("_codecs", "encode"): _Global("_codecs.encode", _encode),
            ("torch", "Tensor"): _Marker("torch.Tensor"),
            ("torch.nn.parameter", "Parameter"): _Marker("torch.nn.parameter.Parameter")}
for _name, _fn in [("_rebuild_tensor", _rebuild_tensor), ("_rebuild_tensor_v2", _rebuild_tensor),
                   ("_rebuild_tensor_v3", _rebuild_tensor_v3), ("_rebuild_parameter", _rebuild_parameter),
                   ("_rebuild_parameter_with_state", _rebuild_parameter)]:
    _ALLOWED["torch._utils", _name] = _Global("torch._utils." + _name, _fn)
_REBUILDERS = {g for (m, _), g in _ALLOWED.items() if m == "torch._utils"}
_ALLOWED["torch._tensor", "_rebuild_from_type_v2"] = _Global("torch._tensor._rebuild_from_type_v2",
                                                             _rebuild_from_type_v2)
for _name, _d in _STORAGES.items():
    _ALLOWED["torch", _name] = _StorageType(_name, _d)
_ALLOWED["torch.storage", "UntypedStorage"] = _ALLOWED["torch", "UntypedStorage"]
for _name, _d in _TORCH_DTYPES.items():
    _ALLOWED["torch", _name] = _Marker("torch." + _name, _d)


class _RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only the allow-list above and records storages it meets."""

    def __init__(self, file, refuse, legacy=False):
        super().__init__(file, encoding="utf-8")
        self.refuse, self.legacy, self.storages = refuse, legacy, {}

    def find_class(self, module, name):
        obj = _ALLOWED.get((module, name))
        if obj is None:
            raise self.refuse(f"{module}.{name}")
        return obj

    def persistent_load(self, pid):
        n = 6 if self.legacy else 5
        if not (isinstance(pid, tuple) and len(pid) == n and pid[0] == "storage"):
            raise _Refuse(f"unexpected persistent id {pid!r:.80} (only storages are supported)")
        stype, key, location, numel = pid[1:5]
        if not isinstance(stype, _StorageType):
            raise _Refuse(f"storage type {stype!r:.40} is not a storage type")
        if not (isinstance(key, str) and _KEY.match(key) and isinstance(location, str) and _is_index(numel)):
            raise _Refuse(f"malformed storage id {pid!r:.120}")
        ref = self.storages.get(key)
        if ref is None:
            ref = self.storages[key] = _StorageRef(key, stype.dtype, numel)
        elif (ref.dtype, ref.numel) != (stype.dtype, numel):
            raise _Refuse(f"storage {key!r} is used as both {ref.dtype} x {ref.numel} and {stype.dtype} x {numel}")
        view = pid[5] if self.legacy else None
        if view is None:
            return ref
        if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str) and _KEY.match(view[0])
                and _is_index(view[1]) and _is_index(view[2]) and view[1] + view[2] <= numel):
            raise _Refuse(f"malformed storage view {view!r:.80}")
        sub = self.storages.get(view[0])
        if sub is None:
            sub = self.storages[view[0]] = _StorageRef(view[0], ref.dtype, view[2], root=ref, offset=view[1])
        return sub


def _unpickle(data, refuse, legacy=False):
    u = _RestrictedUnpickler(data, refuse, legacy)
    return _RestrictedUnpickler.load(u), u.storages


# --- building arrays ---------------------------------------------------------------------------
def _overlaps(size, stride):
    extent = 0  # dims sorted by stride: each must step past everything the smaller ones span
    for t, s in sorted((t, s) for s, t in zip(size, stride) if s > 1):
        if t <= extent:
            return True
        extent += (s - 1) * t
    return False


def _tensor_array(ref, fail):
    """The array a _TensorRef describes: a view of its storage where that is safe."""
    st, dt = ref.storage, ref.dtype.np
    base = st.array
    if base.dtype != dt:  # _rebuild_tensor_v3: an untyped (byte) storage viewed as dtype
        nbytes = base.nbytes - base.nbytes % dt.itemsize
        base = base.view(np.uint8)[:nbytes].view(dt)
    numel = 1
    for s in ref.size:
        numel *= s
    if numel == 0:
        return np.empty(ref.size, dt)
    last = ref.offset + sum((s - 1) * t for s, t in zip(ref.size, ref.stride))
    if last >= base.size:
        raise fail(f"a tensor (offset {ref.offset}, size {ref.size}, stride {ref.stride}) reaches element {last} "
                   f"of storage {st.key!r}, which holds {base.size}")
    flat = base[ref.offset:]
    contiguous, expect = True, 1
    for s, t in zip(reversed(ref.size), reversed(ref.stride)):
        if s > 1 and t != expect:
            contiguous = False
        expect *= s
    if contiguous:
        return flat[:numel].reshape(ref.size)
    view = np.lib.stride_tricks.as_strided(flat, ref.size, tuple(t * dt.itemsize for t in ref.stride))
    return view.copy() if _overlaps(ref.size, ref.stride) else view


def _materialize(obj, fail):
    from ..creation import from_numpy
    memo = {}

    def walk(x):
        if isinstance(x, (str, bytes, int, float, type(None))):
            return x
        got = memo.get(id(x))
        if got is not None:
            return got
        if isinstance(x, _TensorRef):
            out = from_numpy(_tensor_array(x, fail))
        elif isinstance(x, _StorageRef):  # a bare storage saved as a value: its 1-d data
            out = from_numpy(x.array)
        elif isinstance(x, _Marker) and isinstance(x.value, _dt.dtype):
            out = x.value
        elif isinstance(x, dict):
            if any(isinstance(k, _Inert) for k in x):
                raise fail("the pickle uses a tensor or storage as a dict key")
            memo[id(x)] = out = x
            for k in list(x):
                x[k] = walk(x[k])
        elif isinstance(x, list):
            memo[id(x)] = out = x
            x[:] = [walk(v) for v in x]
        elif type(x) in (tuple, set, frozenset):
            out = type(x)(walk(v) for v in x)
        elif isinstance(x, _Inert):
            raise fail(f"the pickle returns {x!r} where data was expected")
        else:
            out = x
        memo[id(x)] = out
        return out

    try:
        return walk(obj)
    except RecursionError:
        raise fail("the pickled object is nested too deeply") from None


# --- the two container formats ------------------------------------------------------------------
def _load_zip(src, fname, use_mmap, verify, fail, refuse):
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise fail(f"not a readable zip archive ({e}): corrupted or not a torch.save checkpoint") from None
    with zf:
        names = zf.namelist()
        pkls = [n for n in names if n.endswith("data.pkl") and n.count("/") <= 1 and n.rsplit("/", 1)[-1] == "data.pkl"]
        if len(pkls) != 1:
            raise fail("the zip archive has no data.pkl: not a torch.save checkpoint" if not pkls
                       else f"the zip archive has several data.pkl records ({', '.join(pkls)})")
        prefix = pkls[0][:-len("data.pkl")]
        if prefix + "constants.pkl" in names or any(n.startswith(prefix + "code/") for n in names):
            raise fail("this is a TorchScript archive (torch.jit.save); save a state_dict with torch.save instead")
        try:
            data = zf.read(pkls[0])
            order = zf.read(prefix + "byteorder").decode() if prefix + "byteorder" in names else "little"
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
            raise fail(f"corrupted zip archive ({e})") from None
        if order not in ("little", "big"):
            raise fail(f"unknown byteorder record {order!r:.20}")
        obj, storages = _run_unpickler(_io.BytesIO(data), fail, refuse)
        mm = map_file(src, 0) if use_mmap else None
        for key, ref in storages.items():
            name = f"{prefix}data/{key}"
            try:
                info = zf.getinfo(name)
            except KeyError:
                raise fail(f"storage record {name!r} is missing from the archive") from None
            nbytes = ref.numel * ref.dtype.itemsize
            if info.file_size != nbytes:
                raise fail(f"storage record {name!r} holds {info.file_size} bytes but the pickle describes "
                           f"{ref.numel} x {ref.dtype.name} = {nbytes}")
            try:
                arr = _record_view(mm, info, verify) if mm is not None else None
                if arr is None:
                    arr = np.empty(nbytes, np.uint8)
                    with zf.open(info) as rec:
                        if readinto_exact(rec, arr) != nbytes:
                            raise fail(f"storage record {name!r} is truncated")
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
                raise fail(f"storage record {name!r} is corrupted ({e})") from None
            ref.array = _typed(arr, ref.dtype, order)
    return _materialize(obj, fail)


def _record_view(mm, info, verify):
    """A zero-copy view of a stored (uncompressed) zip record, or None to read it normally."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    head = mm[info.header_offset:info.header_offset + 30]
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
    n, extra = struct.unpack("<HH", head[26:30])
    start = info.header_offset + 30 + n + extra
    if start + info.file_size > len(mm):
        raise zipfile.BadZipFile(f"record {info.filename!r} runs past the end of the file")
    arr = np.frombuffer(mm, np.uint8, count=info.file_size, offset=start) if info.file_size else np.empty(0, np.uint8)
    if verify and zlib.crc32(arr) != info.CRC:
        raise zipfile.BadZipFile(f"CRC-32 mismatch in {info.filename!r}")
    return arr


def _typed(raw, dtype, order):
    """Bytes -> a 1-d array of ``dtype`` in native byte order (copied only if misaligned or swapped)."""
    arr = raw.view(dtype.np) if raw.size else np.empty(0, dtype.np)
    if not arr.flags.aligned:
        arr = arr.copy()
    if (order == "little") != (sys.byteorder == "little") and arr.itemsize > 1:
        arr = arr.byteswap()
    return arr


def _run_unpickler(stream, fail, refuse, legacy=False):
    try:
        return _unpickle(stream, refuse, legacy)
    except (UnsafeCheckpointError, CheckpointError):
        raise
    except _Refuse as e:
        raise fail(f"unsupported or malformed pickle: {e}") from None
    except RecursionError:
        raise fail("the pickle is nested too deeply") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            struct.error, UnicodeDecodeError, OverflowError) as e:
        raise fail(f"corrupted pickle data ({type(e).__name__}: {e})") from None


def _load_legacy(f, fail, refuse):
    def plain():
        return _run_unpickler(f, fail, refuse)[0]
    if plain() != _LEGACY_MAGIC:
        raise fail("bad magic number: not a torch.save checkpoint")
    if plain() != _LEGACY_PROTOCOL:
        raise fail("unsupported legacy protocol version")
    info = plain()
    if not isinstance(info, dict):
        raise fail("malformed sys_info record")
    order = "little" if info.get("little_endian", True) else "big"
    obj, storages = _run_unpickler(f, fail, refuse, legacy=True)
    keys = plain()
    if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise fail("malformed storage key list")
    for key in keys:
        ref = storages.get(key)
        if ref is None or ref.root is not None:
            raise fail(f"the file stores storage {key!r:.40}, which the pickle never mentions")
        head = read_exact(f, 8)
        if len(head) < 8:
            raise fail(f"truncated: storage {key!r} is missing")
        numel = int.from_bytes(head, "little", signed=True)
        if numel != ref.numel:
            raise fail(f"storage {key!r} records {numel} elements but the pickle describes {ref.numel}")
        arr = np.empty(numel * ref.dtype.itemsize, np.uint8)
        if readinto_exact(f, arr) != arr.size:
            raise fail(f"truncated: storage {key!r} needs {arr.size} bytes")
        ref.array = _typed(arr, ref.dtype, order)
    for ref in storages.values():
        if ref.root is not None and ref.root.array is not None:
            ref.array = ref.root.array[ref.offset:ref.offset + ref.numel]
        if ref.array is None:
            raise fail(f"storage {ref.key!r} has no data in the file")
    return _materialize(obj, fail)


def load_torch_checkpoint(path, mmap=True, verify=True, *, _who="ember.io.load_torch_checkpoint"):
    """Load a PyTorch ``torch.save`` file (a state_dict or nested dicts / lists of tensors and plain
    data) as Ember tensors, without torch and without executing pickle code.

    Handles the zip format (zero-copy memory map of stored records with ``mmap=True``) and the
    legacy stream format; storage offsets, strided views, shared storages and all dtypes Ember
    has. Parameters load as plain tensors. Anything that is not data (classes, functions,
    ``__reduce__`` payloads) raises ``UnsafeCheckpointError``; damaged files raise
    ``CheckpointError``; both name the file."""
    fname = display_name(path)
    fail = lambda msg: CheckpointError(f"{_who}: cannot load {fname!r}: {msg}")  # noqa: E731
    refuse = lambda g: UnsafeCheckpointError(  # noqa: E731
        f"{_who}: refusing to load '{g}' from {fname!r}: only tensors, OrderedDicts and plain containers are "
        f"allowed (a pickled object could run code; save model.state_dict(), not the model)")
    if is_path(path):
        with open(path, "rb") as f:
            return _load_stream(f, fname, mmap, verify, fail, refuse)
    if not (hasattr(path, "seekable") and path.seekable()):
        path = _io.BytesIO(path.read())
    return _load_stream(path, fname, False, verify, fail, refuse)


def _load_stream(f, fname, use_mmap, verify, fail, refuse):
    start = f.tell()
    head = read_exact(f, 512)
    f.seek(start)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _load_zip(f, fname, use_mmap, verify, fail, refuse)
    if head[:4] == b"\x80\x02\x8a\x0a":
        return _load_legacy(f, fail, refuse)
    if head[257:262] == b"ustar":
        raise fail("this is PyTorch's pre-1.0 tar checkpoint format, which Ember does not read; "
                   "re-save it with a recent torch.save")
    raise fail(f"not a PyTorch checkpoint: expected a zip archive (torch.save) or torch's legacy format, "
               f"but the file starts with {head[:8]!r}")
