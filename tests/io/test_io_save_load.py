"""ember.save / ember.load (via ember.io): nested structures, exact plain values, atomic writes."""
import io
import json
import os
import re
import struct
import subprocess
import sys
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import ember
import ember.io as eio
import ember.nn  # noqa: F401
from ember.io import CheckpointError
from ember.io import safetensors as st

from _io_helpers import DTYPES, arr, parse, same_bits, sample, shapes_of


def same(a, b):
    """Deep equality with exact types: 1 != 1.0 != True, floats bitwise, tensors bitwise."""
    if isinstance(a, ember.Tensor):
        return (type(b) is type(a) and same_bits(arr(a), arr(b)) and a.requires_grad == b.requires_grad)
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and same_bits(a, b)
    if isinstance(a, np.generic):
        return type(b) is type(a) and same_bits(np.asarray(a), np.asarray(b))
    if type(a) is not type(b) and not (isinstance(a, dict) and type(b) is dict) and \
            not (isinstance(a, tuple) and type(b) is tuple):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(type(k) is type(kb) for k, kb in zip(a, b)) and \
            all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


Point = namedtuple("Point", "x y")


def nested():
    tensors = {k: ember.from_numpy(a) for name in DTYPES for k, a in shapes_of(name).items()}
    w = ember.randn(3, 2)
    return {
        "tensors": tensors,
        "state": {0: {"step": ember.tensor(3.0), "exp_avg": ember.zeros(2)}, 1: {}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False,
                          "weight_decay": 0, "foreach": None}],
        "ints": [0, -1, 2 ** 63, -2 ** 100, True, False],
        "floats": [0.1, -0.0, 1e308, 5e-324, float("nan"), float("inf"), -float("inf"), 1.0, 2.5e-17],
        "strs": ["", "ünïcødé ✓", "$tensor", '{"json": 1}', "a.b"],
        "keys": {1: "int", "1": "str", 2.5: "float", None: "none", True: "bool", (1, "a"): "tuple"},
        "$dollar": {"$tensor": "not a tensor"},
        "a.b": 1, "a": {"b": ember.ones(1)},  # names that collide once flattened
        "numpy": {"f": sample("float64", (3, 2)).T, "i": np.arange(5, dtype=np.int16),
                  "scalar": np.float32(1.5), "i64": np.int64(-7), "b": np.bool_(True)},
        "bytes": b"\x00\xffbinary",
        "nested": [[[]], ((),), {"deep": [{"deeper": (None, w)}]}],
        "tied": (w, w),
        "grad": ember.ones(2).requires_grad_(),
        "param": ember.nn.Parameter(ember.randn(2, 2)),
        "frozen": ember.nn.Parameter(ember.randn(2), requires_grad=False),
        "point": Point(1, ember.zeros(1)),
        "ordered": OrderedDict([("z", 1), ("a", 2)]),
    }


@pytest.mark.parametrize("mmap", [True, False])
def test_nested_round_trip(tmp_path, mmap):
    obj = nested()
    path = tmp_path / "obj.ember"
    eio.save(obj, path)
    out = eio.load(path, mmap=mmap)
    obj["point"] = tuple(obj["point"])  # namedtuples load as plain tuples
    for k in obj:
        assert same(obj[k], out[k]), k
    assert out["tied"][0] is out["tied"][1]  # one tensor saved twice loads as one tensor
    assert type(out["param"]) is ember.nn.Parameter and out["param"].requires_grad
    assert type(out["frozen"]) is ember.nn.Parameter and not out["frozen"].requires_grad


def test_top_level_values():
    for obj in [ember.arange(3), 5, 2.5, "s", None, [1, ember.ones(1)], (ember.ones(1),), {}]:
        buf = io.BytesIO()
        eio.save(obj, buf)
        buf.seek(0)
        assert same(obj if not isinstance(obj, tuple) else tuple(obj), eio.load(buf))


def test_state_dict_is_a_plain_safetensors_file(tmp_path):
    model = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.BatchNorm1d(3))
    model(ember.randn(5, 4))  # updates the BatchNorm running stats and its int64 counter
    path = tmp_path / "model.safetensors"
    eio.save(model.state_dict(), path)
    header, _, _ = parse(str(path))
    assert set(header) - {"__metadata__"} == set(model.state_dict())
    assert header["1.num_batches_tracked"]["dtype"] == "I64"
    plain = eio.load_file(path)
    fresh = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.BatchNorm1d(3))
    fresh.load_state_dict(eio.load(path))
    for k, v in model.state_dict().items():
        assert same_bits(arr(v), arr(plain[k])) and same_bits(arr(v), arr(fresh.state_dict()[k]))


def test_unsupported_values_name_the_path(tmp_path):
    path = tmp_path / "bad.ember"
    for obj, match in [({"a": [1, {2, 3}]}, r"cannot save set at obj\['a'\]\[1\]"),
                       ({"f": lambda: 0}, "cannot save function"), ({"o": object()}, "never pickles"),
                       ({frozenset(): 1}, "dict key"), ({"c": np.zeros(2, complex)}, "complex128")]:
        with pytest.raises(TypeError, match="^ember.save: ") as e:
            eio.save(obj, path)
        assert re.search(match, str(e.value)), str(e.value)
    cyc = []
    cyc.append(cyc)
    with pytest.raises(ValueError, match="contains itself"):
        eio.save({"c": cyc}, path)
    assert not os.listdir(tmp_path)  # refused before anything was written


def test_map_location(tmp_path):
    path = tmp_path / "m.ember"
    eio.save({"w": ember.randn(2, 2, dtype=ember.float64), "i": ember.arange(3), "n": 1.5}, path)
    for loc in ["cpu", ember.device("cpu"), {"cuda:0": "cpu"}, None]:
        assert eio.load(path, map_location=loc)["w"].dtype is ember.float64
    out = eio.load(path, map_location=ember.float16)
    assert out["w"].dtype is ember.float16 and out["i"].dtype is ember.int64 and out["n"] == 1.5
    assert eio.load(path, map_location="bfloat16")["w"].dtype is ember.bfloat16
    with pytest.raises(RuntimeError, match="not available"):
        eio.load(path, map_location="cuda")
    with pytest.raises(ValueError, match="map_location"):
        eio.load(path, map_location=ember.int32)
    with pytest.raises(ValueError, match="map_location"):
        eio.load(path, map_location=3)


def test_file_objects_and_non_seekable_streams():
    buf = io.BytesIO()
    eio.save({"a": ember.arange(4), "k": [1, 2]}, buf)

    class Stream:  # read() only, like a socket or a pipe
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def read(self, n=-1):
            return self.data.read(n)

    out = eio.load(Stream(buf.getvalue()))
    assert out["k"] == [1, 2] and arr(out["a"]).tolist() == [0, 1, 2, 3]


def test_plain_safetensors_loads_as_dict(tmp_path):
    path = tmp_path / "p.safetensors"
    eio.save_file({"x": ember.ones(2), "y": ember.arange(2)}, path)
    out = eio.load(path)
    assert list(out) == ["x", "y"] and isinstance(out["x"], ember.Tensor)


def _with_structure(tmp_path, structure):
    path = tmp_path / "s.ember"
    with open(path, "wb") as f:
        st.write(f, {"t": np.zeros(2, np.float32)}, {"ember.structure": structure})
    return path


@pytest.mark.parametrize("structure,match", [
    ('{"format":"ember.save","version":99,"root":null}', "format version 99"),
    ('{"format":"other","version":1,"root":null}', "is not an ember.save structure"),
    ("{not json", "not valid JSON"),
    ('{"format":"ember.save","version":1,"root":{"$tensor":"missing"}}', "does not contain"),
    ('{"format":"ember.save","version":1,"root":{"$what":1}}', "unknown entry $what"),
    ('{"format":"ember.save","version":1,"root":{"$dict":[[[1],2]]}}', "malformed $dict"),
    ('{"format":"ember.save","version":1,"root":{"$bytes":"!!"}}', "malformed $bytes"),
    ('{"format":"ember.save","version":1,"root":{"$tuple":"abc"}}', "malformed $tuple"),
])
def test_bad_structure_is_refused(tmp_path, structure, match):
    path = _with_structure(tmp_path, structure)
    with pytest.raises(CheckpointError, match="ember.load: cannot load") as e:
        eio.load(path)
    assert match in str(e.value) and str(path) in str(e.value)


def test_deep_structure_is_refused(tmp_path):
    path = _with_structure(tmp_path, '{"format":"ember.save","version":1,"root":' + "[" * 10 ** 5 + "]" * 10 ** 5 + "}")
    with pytest.raises(CheckpointError, match="nested too deeply"):
        eio.load(path)


def test_truncated_and_flipped_saves_are_refused(tmp_path):
    path = tmp_path / "n.ember"
    eio.save({"epoch": 3, "w": ember.randn(4, 4)}, path)
    raw = path.read_bytes()
    bad = tmp_path / "bad.ember"
    for cut in range(0, len(raw), 29):
        bad.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError, match="ember.load: cannot load"):
            eio.load(bad)
    b = bytearray(raw)
    b[b.index(b'epoch\\":3') + 8] ^= 1  # epoch 3 -> 2 inside the structure JSON: the checksum catches it
    bad.write_bytes(b)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        eio.load(bad)


# --- atomic writes ------------------------------------------------------------------------------
def _assert_old_intact(tmp_path, path, old):
    assert path.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == [path.name], os.listdir(tmp_path)  # no temp file left


def test_failed_replace_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.ember"
    eio.save({"v": 1}, path)
    old = path.read_bytes()

    def boom(*a):
        raise OSError("disk on fire")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        eio.save({"v": 2, "w": ember.ones(100)}, path)
    _assert_old_intact(tmp_path, path, old)


def test_failure_mid_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.ember"
    eio.save({"v": 1}, path)
    old = path.read_bytes()
    real = st.write

    def half(f, arrays, meta=None, checksum=True):
        f.write(b"\x00" * 100)  # some bytes reached the temp file
        raise KeyboardInterrupt  # BaseException too
    monkeypatch.setattr(st, "write", half)
    with pytest.raises(KeyboardInterrupt):
        eio.save({"v": 2}, path)
    _assert_old_intact(tmp_path, path, old)
    monkeypatch.setattr(st, "write", real)
    eio.save({"v": 3}, path)
    assert eio.load(path) == {"v": 3}


def test_process_killed_mid_write_keeps_old_file(tmp_path):
    path = tmp_path / "ckpt.ember"
    eio.save({"v": 1, "w": ember.ones(3)}, path)
    old = path.read_bytes()
    # the child dies (no cleanup, no exception handling) right before the data reaches the disk
    code = ("import os, ember, ember.io as eio\n"
            "os.fsync = lambda fd: os._exit(3)\n"
            f"eio.save({{'v': 2, 'w': ember.zeros(100000)}}, {str(path)!r})\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root] + sys.path))
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert res.returncode == 3, res.stderr.decode()
    assert path.read_bytes() == old and eio.load(path)["v"] == 1
    leftovers = [n for n in os.listdir(tmp_path) if n != path.name]
    assert all(n.startswith(".ckpt.ember.") and n.endswith(".tmp") for n in leftovers)  # only a named temp


def test_mode_and_symlink(tmp_path):
    path = tmp_path / "m.ember"
    eio.save({"v": 1}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    os.chmod(path, 0o640)
    eio.save({"v": 2}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640  # an existing file keeps its mode
    link = tmp_path / "latest"
    link.symlink_to(path.name)
    eio.save({"v": 3}, link)
    assert link.is_symlink() and eio.load(path) == {"v": 3}


def test_weights_only_flag_is_accepted():
    buf = io.BytesIO()
    eio.save({"x": 1}, buf)
    for wo in (True, False):
        buf.seek(0)
        assert eio.load(buf, weights_only=wo) == {"x": 1}


def test_structure_metadata_is_json_with_version(tmp_path):
    path = tmp_path / "v.ember"
    eio.save({"a": 1, "t": ember.ones(1)}, path)
    header, _, _ = parse(str(path))
    s = json.loads(header["__metadata__"]["ember.structure"])
    assert s["format"] == "ember.save" and s["version"] == 1
    assert s["root"] == {"a": 1, "t": {"$tensor": "t"}}


def test_top_level_ember_save_load(tmp_path):
    ember.save({"w": ember.ones(2), "epoch": 1}, tmp_path / "top.ember")
    out = ember.load(tmp_path / "top.ember", map_location="cpu")
    assert out["epoch"] == 1 and arr(out["w"]).tolist() == [1, 1]
