"""ember.io.load_torch_checkpoint: real torch.save files match torch's own loader; code never runs."""
import builtins
import io
import os
import pickle
import subprocess
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.io as eio
from ember.io import CheckpointError, UnsafeCheckpointError

from _io_helpers import arr, same_bits

torch = pytest.importorskip("torch")

TORCH_DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16,
                torch.bfloat16, torch.float32, torch.float64]


def to_np(t):
    t = t.detach()
    if t.dtype == torch.bfloat16:
        import ml_dtypes
        return t.contiguous().view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def assert_matches(ours, theirs, where="obj"):
    """``ours`` (ember) equals ``theirs`` (torch) exactly, recursively."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor) and type(ours) is ember.Tensor, where
        assert same_bits(arr(ours), to_np(theirs)), where
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), where
        for k in theirs:
            assert_matches(ours[k], theirs[k], f"{where}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_matches(a, b, f"{where}[{i}]")
    else:
        assert type(ours) is type(theirs) and ours == theirs, where


def torch_model():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Flatten(),
                            torch.nn.Linear(12, 4))
    m(torch.randn(5, 2, 4, 4)).sum().backward()  # running stats and num_batches_tracked move
    return m


def rich_object():
    m = torch_model()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.8, 0.9))
    opt.step()
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return {"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": 0.25, "tag": "run-1",
            "dtypes": {str(d): (torch.rand(3, 2) * 100).to(d) for d in TORCH_DTYPES},
            "scalar": torch.tensor(2.5, dtype=torch.float64), "empty": torch.zeros(0, 3),
            "transposed": base.t(), "column": base[:, 1], "offset": base[2:], "strided": base[::2, ::3],
            "shared_a": base[1], "shared_b": base.view(2, 12),
            "expanded": torch.arange(3.).expand(4, 3),
            "param": torch.nn.Parameter(torch.randn(2, 2)),
            "nested": [1, (2.0, None), {"x": torch.ones(2, dtype=torch.bfloat16)}],
            "size": torch.Size([2, 3])}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("pt")
    obj = rich_object()
    paths = {"zip": d / "model.pt", "legacy": d / "legacy.pt"}
    torch.save(obj, paths["zip"])
    torch.save(obj, paths["legacy"], _use_new_zipfile_serialization=False)
    return obj, paths


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
@pytest.mark.parametrize("mmap", [True, False])
def test_matches_torch_load(saved, fmt, mmap):
    obj, paths = saved
    theirs = torch.load(paths[fmt], weights_only=True)
    ours = eio.load_torch_checkpoint(paths[fmt], mmap=mmap)
    theirs["size"] = tuple(theirs["size"])  # torch.Size loads as a plain tuple
    assert_matches(ours, theirs)
    assert isinstance(ours["model"], OrderedDict)
    assert ours["model"]["1.num_batches_tracked"].dtype is ember.int64
    assert ours["transposed"].stride() == (1, 6)  # strided views stay views of their storage
    if fmt == "zip" and mmap:
        assert np.shares_memory(arr(ours["shared_a"]), arr(ours["shared_b"]))


def test_file_object_and_ember_load(saved):
    obj, paths = saved
    theirs = torch.load(paths["zip"], weights_only=True)
    theirs["size"] = tuple(theirs["size"])
    with open(paths["zip"], "rb") as f:
        assert_matches(eio.load_torch_checkpoint(io.BytesIO(f.read())), theirs)
    assert_matches(eio.load(paths["zip"]), theirs)  # ember.load recognises a torch checkpoint
    half = eio.load(paths["legacy"], map_location=ember.float16)
    assert half["model"]["3.weight"].dtype is ember.float16 and half["epoch"] == 3


def test_state_dict_loads_into_ember_model(tmp_path):
    import ember.nn as nn
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    tm(torch.randn(6, 4))
    torch.save(tm.state_dict(), tmp_path / "sd.bin")
    em = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    em.load_state_dict(eio.load_torch_checkpoint(tmp_path / "sd.bin"))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    em.eval()
    tm.eval()
    np.testing.assert_allclose(arr(em(ember.from_numpy(x)).detach()), tm(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


# --- hostile and damaged files ------------------------------------------------------------------
def _zip_checkpoint(path, pkl, records=None, prefix="archive/"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(prefix + "data.pkl", pkl)
        z.writestr(prefix + "byteorder", "little")
        for name, data in (records or {}).items():
            z.writestr(prefix + "data/" + name, data)
        z.writestr(prefix + "version", "3\n")
    return path


class _Exploit:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _marker_payloads(marker):
    cmd = f"touch {marker}"
    return {"os.system": _Exploit(os.system, cmd),
            "builtins.eval": _Exploit(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
            "builtins.exec": _Exploit(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
            "subprocess.Popen": _Exploit(subprocess.Popen, ["touch", str(marker)]),
            "nested_in_state_dict": OrderedDict(w=1, evil=_Exploit(os.system, cmd))}


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "builtins.exec", "subprocess.Popen",
                                  "nested_in_state_dict"])
def test_code_execution_is_refused(tmp_path, name):
    marker = tmp_path / "pwned"
    payload = _marker_payloads(marker)[name]
    path = _zip_checkpoint(tmp_path / "evil.pt", pickle.dumps(payload, protocol=2))
    for load in (eio.load_torch_checkpoint, eio.load):
        for weights_only in (True, False):
            with pytest.raises(UnsafeCheckpointError, match="refusing to load") as e:
                load(path) if load is eio.load_torch_checkpoint else load(path, weights_only=weights_only)
            assert isinstance(e.value, pickle.UnpicklingError)
            assert str(path) in str(e.value) and "only tensors, OrderedDicts and plain containers" in str(e.value)
    assert not marker.exists()
    ran = pickle.loads(pickle.dumps(payload, protocol=2))  # the same payload does run under plain pickle
    if hasattr(ran, "wait"):
        ran.wait()
    assert marker.exists()


def test_refused_global_is_named(tmp_path):
    path = _zip_checkpoint(tmp_path / "evil.pt", pickle.dumps(_Exploit(os.system, "true"), protocol=2))
    with pytest.raises(UnsafeCheckpointError, match=r"refusing to load '(posix|os|nt)\.system' from .*evil\.pt"):
        eio.load_torch_checkpoint(path)
    path = _zip_checkpoint(tmp_path / "np.pt", pickle.dumps({"a": np.zeros(2)}, protocol=2))
    with pytest.raises(UnsafeCheckpointError, match="numpy"):
        eio.load_torch_checkpoint(path)


def test_legacy_format_exploit_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    for part in (0x1950a86a20f9469cfc6c, 1001, {"protocol_version": 1001, "little_endian": True},
                 _Exploit(os.system, f"touch {marker}")):
        pickle.dump(part, buf, protocol=2)
    path = tmp_path / "legacy_evil.pt"
    path.write_bytes(buf.getvalue())
    with pytest.raises(UnsafeCheckpointError):
        eio.load_torch_checkpoint(path)
    assert not marker.exists()


class _FakeStorage:
    def __init__(self, key, numel, stype=None):
        self.key, self.numel, self.stype = key, numel, stype or torch.FloatStorage


class _StoragePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _FakeStorage):
            return ("storage", obj.stype, obj.key, "cpu", obj.numel)
        return None


def _crafted(tmp_path, obj, records):
    buf = io.BytesIO()
    _StoragePickler(buf, protocol=2).dump(obj)
    return _zip_checkpoint(tmp_path / "crafted.pt", buf.getvalue(), records)


def _tensor(storage, offset, size, stride):
    return _Exploit(torch._utils._rebuild_tensor_v2, storage, offset, size, stride, False, OrderedDict())


def test_crafted_geometry_is_checked(tmp_path):
    data = {"0": np.arange(4, dtype=np.float32).tobytes()}
    ok = _crafted(tmp_path, {"t": _tensor(_FakeStorage("0", 4), 1, (3,), (1,))}, data)
    assert arr(eio.load_torch_checkpoint(ok)["t"]).tolist() == [1, 2, 3]
    for obj, match in [({"t": _tensor(_FakeStorage("0", 4), 2, (3,), (1,))}, "reaches element 4"),
                       ({"t": _tensor(_FakeStorage("0", 4), 0, (2, 2), (3, 1))}, "reaches element 4"),
                       ({"t": _tensor(_FakeStorage("0", 4), -1, (2,), (1,))}, "bad tensor geometry"),
                       ({"t": _tensor(_FakeStorage("0", 4), 0, (2,), (1, 1))}, "bad tensor geometry"),
                       ({"t": _tensor(_FakeStorage("0", 5), 0, (2,), (1,))}, "holds 16 bytes"),
                       ({"t": _tensor(_FakeStorage("9", 4), 0, (2,), (1,))}, "'archive/data/9' is missing"),
                       ({"t": _tensor(_FakeStorage("../x", 4), 0, (2,), (1,))}, "malformed storage id"),
                       ({"t": _tensor(_FakeStorage("0", 1, torch.ComplexFloatStorage), 0, (1,), (1,))},
                        "refusing to load 'torch.ComplexFloatStorage'"),
                       ({"a": _tensor(_FakeStorage("0", 4), 0, (4,), (1,)),
                         "b": _tensor(_FakeStorage("0", 2, torch.DoubleStorage), 0, (2,), (1,))}, "used as both")]:
        path = _crafted(tmp_path, obj, data)
        with pytest.raises(CheckpointError, match=match) as e:
            eio.load_torch_checkpoint(path)
        assert str(path) in str(e.value)


def test_deeply_nested_pickle_is_refused(tmp_path):
    n = 200000
    path = _zip_checkpoint(tmp_path / "deep.pt", b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b".")
    with pytest.raises(CheckpointError, match="nested too deeply"):
        eio.load_torch_checkpoint(path)


def test_build_on_allowed_globals_is_refused(tmp_path):
    # BUILD with slot state would setattr on whatever object the pickle holds: never on our stand-ins
    class SetState:
        def __reduce__(self):
            return (OrderedDict, (), (None, {"x": 1}))
    path = _zip_checkpoint(tmp_path / "build.pt", pickle.dumps(SetState(), protocol=2))
    eio.load_torch_checkpoint(path)  # a real OrderedDict instance: attributes are harmless
    raw = pickle.dumps(OrderedDict, protocol=2)[:-1] + pickle.dumps({"name": "x"}, protocol=2)[2:-1] + b"b."
    path = _zip_checkpoint(tmp_path / "build2.pt", raw)
    with pytest.raises(CheckpointError, match="set state"):
        eio.load_torch_checkpoint(path)


def test_damaged_and_foreign_files(tmp_path, saved):
    _, paths = saved
    raw = paths["zip"].read_bytes()
    bad = tmp_path / "bad.pt"
    for cut in sorted({0, 3, 10, 100, len(raw) // 2, len(raw) - 30, len(raw) - 1, *range(0, len(raw), 997)}):
        bad.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError) as e:
            eio.load_torch_checkpoint(bad)
        assert str(bad) in str(e.value)
    legacy = paths["legacy"].read_bytes()
    for cut in range(0, len(legacy), 331):
        bad.write_bytes(legacy[:cut])
        with pytest.raises(CheckpointError, match=str(bad)):
            eio.load_torch_checkpoint(bad)
    for content, match in [(b"", "not a PyTorch checkpoint"), (np.random.default_rng(1).bytes(3000),
                                                                 "not a PyTorch checkpoint"),
                           (b'{"json": true}', "not a PyTorch checkpoint")]:
        bad.write_bytes(content)
        with pytest.raises(CheckpointError, match=match):
            eio.load_torch_checkpoint(bad)
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(CheckpointError, match="no data.pkl"):
        eio.load_torch_checkpoint(bad)


@pytest.mark.parametrize("mmap", [True, False])
def test_flipped_storage_byte_fails_zip_crc(tmp_path, saved, mmap):
    _, paths = saved
    raw = bytearray(paths["zip"].read_bytes())
    with zipfile.ZipFile(paths["zip"]) as z:
        info = z.getinfo("model/data/0")
    start = info.header_offset + 30 + int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little") \
        + int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    raw[start + 1] ^= 0x01
    bad = tmp_path / "flip.pt"
    bad.write_bytes(raw)
    with pytest.raises(CheckpointError, match="corrupted"):
        eio.load_torch_checkpoint(bad, mmap=mmap)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_and_tar_are_explained(tmp_path):
    ts = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), ts)
    with pytest.raises(CheckpointError, match="TorchScript"):
        eio.load_torch_checkpoint(ts)
    tar = tmp_path / "old.tar"
    import tarfile
    with tarfile.open(tar, "w") as t:
        t.add(ts, arcname="pickle")
    with pytest.raises(CheckpointError, match="pre-1.0 tar"):
        eio.load_torch_checkpoint(tar)
