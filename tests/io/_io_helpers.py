"""Sample arrays of every dtype and exact (bitwise) comparison for the io tests."""
import json
import struct

import ml_dtypes
import numpy as np

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


def np_dtype(name):
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def sample(name, shape, seed=0):
    """Random values covering the dtype's range; floats include inf, nan and -0.0."""
    rs = np.random.default_rng(seed)
    dt = np_dtype(name)
    if name == "bool":
        return np.asarray(rs.random(shape) > 0.5)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return np.asarray(rs.integers(info.min, info.max, shape, endpoint=True, dtype=dt))
    a = np.asarray((rs.standard_normal(shape) * 100).astype(dt))
    flat = a.reshape(-1)
    for i, v in enumerate([np.inf, -np.inf, np.nan, -0.0][:flat.size]):
        flat[i] = v
    return a


def shapes_of(name):
    """0-d, empty, plain and non-contiguous (transposed / strided) arrays of one dtype."""
    base = sample(name, (4, 6), seed=1)
    return {f"{name}.scalar": sample(name, (), seed=2), f"{name}.empty": sample(name, (0,)),
            f"{name}.empty3d": sample(name, (2, 0, 3)), f"{name}.vec": sample(name, (7,), seed=3),
            f"{name}.mat": sample(name, (3, 5), seed=4), f"{name}.transposed": base.T,
            f"{name}.strided": base[::2, 1::2]}


def same_bits(a, b):
    """Same dtype, shape and bytes (NaN payloads and -0.0 included)."""
    a, b = np.asarray(a), np.asarray(b)
    return (a.dtype == b.dtype and a.shape == b.shape and
            np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())


def arr(t):
    return t._data if isinstance(t, ember.Tensor) else np.asarray(t)


def parse(path_or_bytes):
    """An independent byte-level safetensors parse: (header dict, data bytes, header length)."""
    raw = path_or_bytes if isinstance(path_or_bytes, bytes) else open(path_or_bytes, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:], n


def craft(header, data=b"", pad=True):
    """Bytes of a safetensors file with an arbitrary header (dict or raw bytes)."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    if pad:
        raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data
