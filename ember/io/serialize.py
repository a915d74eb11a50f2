"""``ember.save`` / ``ember.load``: nested containers of tensors in one safetensors file, never pickle.

Tensors go into the safetensors body under their path in the object
(``model.fc.weight``, ``optimizer.state.0.exp_avg``), so a saved state dict is
a plain safetensors file any reader understands. The structure and every
non-tensor value are JSON in ``__metadata__["ember.structure"]``:

    {"format": "ember.save", "version": 1, "root": <value>}

    value := null | true | false | int | float | "str" | [value, ...]        (list)
           | {"str key": value, ...}                 (dict whose keys are all str, none starting with "$")
           | {"$dict": [[key, value], ...]}           (any other dict: int/float/bool/None/tuple keys)
           | {"$tuple": [value, ...]} | {"$float": "nan" | "inf" | "-inf"} | {"$bytes": "<base64>"}
           | {"$tensor": name, "requires_grad": true?, "parameter": true?}
           | {"$ndarray": name} | {"$numpy_scalar": name}

Ints are exact at any size, floats round-trip exactly (JSON numbers are written with
``repr``), tuple subclasses such as namedtuples load as plain tuples, dict subclasses
(OrderedDict) as dicts, and a tensor object saved twice loads as one tensor (tied weights).
"""
from __future__ import annotations

import base64
import io as _io
import json
import math

import numpy as np

from ._files import CheckpointError, atomic_write, display_name, is_path
from . import safetensors as st

STRUCT_KEY = "ember.structure"
FORMAT, VERSION = "ember.save", 1
_TAGS = ("$tensor", "$ndarray", "$numpy_scalar", "$tuple", "$dict", "$float", "$bytes")
_ALLOWED = ("tensors, NumPy arrays and scalars, str, int, float, bool, None, bytes, "
            "and dicts / lists / tuples of them")


class _Encoder:
    def __init__(self):
        self.arrays = {}      # safetensors name -> ndarray
        self.names = {}       # id(tensor or array) -> name, so an object saved twice is stored once
        self.keep = []        # keeps those objects alive while their ids are in use
        self.active = set()   # ids of the containers being encoded (cycle check)

    def _store(self, obj, arr, path):
        name = self.names.get(id(obj))
        if name is None:
            base = ".".join(str(p) for p in path) or "tensor"
            name, i = base, 0
            while name in self.arrays or name == "__metadata__":
                i += 1
                name = f"{base}#{i}"
            self.arrays[name] = st.as_array(arr, "ember.save", _where(path))
            self.names[id(obj)] = name
            self.keep.append(obj)
        return name

    def enc(self, x, path):
        from .._tensor import Tensor
        if x is None or x is True or x is False:
            return x
        if isinstance(x, str):
            return str(x)
        if isinstance(x, Tensor):
            out = {"$tensor": self._store(x, x._data, path)}
            if x.requires_grad:
                out["requires_grad"] = True
            if type(x).__name__ == "Parameter":
                out["parameter"] = True
            return out
        if isinstance(x, np.ndarray):
            return {"$ndarray": self._store(x, x, path)}
        if isinstance(x, np.generic):
            return {"$numpy_scalar": self._store(x, np.asarray(x), path)}
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            x = float(x)
            return x if math.isfinite(x) else {"$float": repr(x)}
        if isinstance(x, (bytes, bytearray)):
            return {"$bytes": base64.b64encode(bytes(x)).decode()}
        if not isinstance(x, (dict, list, tuple)):
            raise TypeError(f"ember.save: cannot save {type(x).__name__} at {_where(path)}: only {_ALLOWED} "
                            f"can be saved (Ember never pickles)")
        if id(x) in self.active:
            raise ValueError(f"ember.save: {_where(path)} contains itself (a cycle); cannot save it")
        self.active.add(id(x))
        try:
            if isinstance(x, list):
                return [self.enc(v, path + (i,)) for i, v in enumerate(x)]
            if isinstance(x, tuple):
                return {"$tuple": [self.enc(v, path + (i,)) for i, v in enumerate(x)]}
            if all(isinstance(k, str) and not k.startswith("$") for k in x):
                return {str(k): self.enc(v, path + (k,)) for k, v in x.items()}
            return {"$dict": [[self.key(k, path), self.enc(v, path + (k,))] for k, v in x.items()]}
        finally:
            self.active.discard(id(x))

    def key(self, k, path):
        if isinstance(k, np.generic) and k.dtype.kind in "biuf":
            k = k.item()
        if k is None or isinstance(k, (str, int, float)):
            return self.enc(k, path)
        if isinstance(k, tuple):
            return {"$tuple": [self.key(v, path) for v in k]}
        raise TypeError(f"ember.save: dict key {k!r:.60} of type {type(k).__name__} at {_where(path)} cannot be "
                        f"saved: keys must be str, int, float, bool, None or tuples of them")


def _where(path):
    return "obj" + "".join(f"[{p!r}]" for p in path)


def save(obj, f):
    """Save ``obj`` (a state dict, or nested dicts / lists / tuples of tensors and plain
    data) to ``f``: a path (written atomically: temp file, fsync, rename) or a binary
    file object. The result is a safetensors file; nothing is pickled."""
    enc = _Encoder()
    root = enc.enc(obj, ())
    structure = json.dumps({"format": FORMAT, "version": VERSION, "root": root},
                           separators=(",", ":"), allow_nan=False)
    meta = {STRUCT_KEY: structure}
    if is_path(f):
        atomic_write(f, lambda fh: st.write(fh, enc.arrays, meta))
    else:
        st.write(f, enc.arrays, meta)


class _Decoder:
    def __init__(self, arrays, cast, err):
        self.arrays, self.cast, self.err = arrays, cast, err
        self.tensors = {}

    def array(self, name):
        if not isinstance(name, str) or name not in self.arrays:
            raise self.err(f"the structure refers to tensor {name!r:.80}, which the file does not contain")
        return self.arrays[name]

    def tensor(self, node):
        name = node["$tensor"]
        t = self.tensors.get(name)
        if t is None:
            from ..creation import from_numpy
            t = from_numpy(self.array(name))
            if self.cast is not None and t.is_floating_point() and t.dtype is not self.cast:
                t = t.to(self.cast)
            if node.get("parameter"):
                from ..nn.parameter import Parameter
                t = Parameter(t, requires_grad=bool(node.get("requires_grad")))
            elif node.get("requires_grad") and t.is_floating_point():
                t.requires_grad_(True)
            self.tensors[name] = t
        return t

    def dec(self, x):
        if x is None or isinstance(x, (str, bool, int, float)):
            return x
        if isinstance(x, list):
            return [self.dec(v) for v in x]
        if not isinstance(x, dict):
            raise self.err(f"unexpected value {x!r:.80} in the structure")
        tag = next((k for k in x if k.startswith("$")), None)
        if tag is None:
            return {k: self.dec(v) for k, v in x.items()}
        v = x[tag]
        try:
            if tag == "$tensor":
                return self.tensor(x)
            if tag == "$ndarray":
                return self.array(v)
            if tag == "$numpy_scalar":
                return self.array(v)[()]
            if tag == "$tuple" and isinstance(v, list):
                return tuple(self.dec(e) for e in v)
            if tag == "$dict" and isinstance(v, list):
                return {self.dec(k): self.dec(e) for k, e in v}
            if tag == "$float" and v in ("nan", "inf", "-inf"):
                return float(v)
            if tag == "$bytes":
                return base64.b64decode(v.encode(), validate=True)
        except CheckpointError:
            raise
        except (TypeError, ValueError, IndexError) as e:
            raise self.err(f"malformed {tag} entry in the structure ({e})") from None
        if tag in _TAGS:
            raise self.err(f"malformed {tag} entry in the structure: {v!r:.60}")
        raise self.err(f"unknown entry {tag}={v!r:.60} in the structure (written by a newer Ember?)")


def _map_location_dtype(map_location):
    """map_location -> the dtype floating tensors are cast to (or None); checks devices."""
    from ..device import device
    from ..dtypes import dtype, to_dtype
    if map_location is None:
        return None
    if isinstance(map_location, dtype):
        return map_location if map_location.is_floating_point else _bad_map(map_location)
    if isinstance(map_location, dict):  # torch's {'cuda:0': 'cpu'} remapping
        for v in map_location.values():
            device(v).check_available()
        return None
    if isinstance(map_location, device):
        map_location.check_available()
        return None
    if isinstance(map_location, str):
        try:
            d = device(map_location)
        except ValueError:
            try:
                return _map_location_dtype(to_dtype(map_location))
            except TypeError:
                _bad_map(map_location)
        d.check_available()
        return None
    _bad_map(map_location)


def _bad_map(m):
    raise ValueError(f"ember.load: map_location must be None, 'cpu', a device, a dict of device names, or a "
                     f"floating dtype to cast floating tensors to; got {m!r}")


def sniff(f):
    """'safetensors', 'torch-zip' or 'torch-legacy' from a file's first bytes (rewinds ``f``)."""
    if is_path(f):
        with open(f, "rb") as fh:
            head = fh.read(8)
    else:
        pos = f.tell()
        head = f.read(8)
        f.seek(pos)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "torch-zip"
    if head[:4] == b"\x80\x02\x8a\x0a":  # protocol-2 pickle of torch's legacy magic number
        return "torch-legacy"
    return "safetensors"


def load(f, map_location=None, mmap=True, weights_only=True, *, verify=True):
    """Load what ``ember.save`` wrote (or any safetensors file: a ``{name: Tensor}`` dict;
    or a PyTorch ``torch.save`` checkpoint, read without executing pickle code).

    ``map_location``: 'cpu' / a device (checked; Ember computes on the CPU), torch's dict form,
    or a floating dtype to cast every floating tensor to. ``mmap=True`` maps the file
    copy-on-write (zero-copy; see ``ember.io.safetensors``). ``weights_only`` is accepted for
    PyTorch compatibility: Ember never runs code from a file, whatever its value.
    ``verify`` checks the data checksum Ember records."""
    cast = _map_location_dtype(map_location)
    if not is_path(f) and not (hasattr(f, "seekable") and f.seekable()):
        f = _io.BytesIO(f.read())
    kind = sniff(f)
    if kind != "safetensors":
        from .torch_format import load_torch_checkpoint
        obj = load_torch_checkpoint(f, mmap=mmap, verify=verify, _who="ember.load")
        return obj if cast is None else _cast_tree(obj, cast, {})
    err = lambda msg: CheckpointError(f"ember.load: cannot load {display_name(f)!r}: {msg}")
    arrays, meta = st.read(f, mmap=mmap, verify=verify, who="ember.load")
    text = meta.get(STRUCT_KEY)
    dec = _Decoder(arrays, cast, err)
    if text is None:
        return {k: dec.tensor({"$tensor": k}) for k in arrays}
    try:
        s = json.loads(text)
    except ValueError as e:
        raise err(f"metadata {STRUCT_KEY} is not valid JSON ({e})") from None
    except RecursionError:
        raise err(f"metadata {STRUCT_KEY} is nested too deeply") from None
    if not isinstance(s, dict) or s.get("format") != FORMAT or "root" not in s:
        raise err(f"metadata {STRUCT_KEY} is not an {FORMAT} structure")
    if not isinstance(s.get("version"), int) or s["version"] > VERSION:
        raise err(f"written with {FORMAT} format version {s.get('version')!r}; this Ember reads "
                  f"version {VERSION} and older (upgrade Ember)")
    try:
        return dec.dec(s["root"])
    except RecursionError:
        raise err(f"metadata {STRUCT_KEY} is nested too deeply") from None


def _cast_tree(x, dt, memo):
    from .._tensor import Tensor
    if id(x) in memo:
        return memo[id(x)]
    if isinstance(x, Tensor):
        out = x.to(dt) if x.is_floating_point() else x
    elif isinstance(x, dict):
        out = type(x)() if type(x) is not dict else {}
        memo[id(x)] = out
        for k, v in x.items():
            out[k] = _cast_tree(v, dt, memo)
    elif isinstance(x, list):
        out = []
        memo[id(x)] = out
        out.extend(_cast_tree(v, dt, memo) for v in x)
    elif type(x) is tuple:
        out = tuple(_cast_tree(v, dt, memo) for v in x)
    else:
        out = x
    memo[id(x)] = out
    return out
