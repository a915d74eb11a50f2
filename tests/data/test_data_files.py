"""Dataset files: IDX (MNIST / Fashion-MNIST) and CIFAR-10 readers on generated files, the
download helper (never touching the network), and the scikit-learn loaders."""
import gzip
import hashlib
import io
import os
import struct
import sys
import tarfile
import types
import urllib.error

import numpy as np
import pytest

import ember
from ember.data import DataLoader
from ember.data import datasets as D


def write_idx(path, arr, code=0x08, gz=False):
    arr = np.asarray(arr)
    raw = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + \
        arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(gzip.compress(raw) if gz else raw)
    return path


def write_mnist(root, sub, n_train=5, n_test=3, gz=False, shape=(4, 3)):
    rs = np.random.default_rng(0)
    d = os.path.join(root, sub)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rs.integers(0, 256, (n, *shape), dtype=np.uint8)
        labels = rs.integers(0, 10, n, dtype=np.uint8)
        ext = ".gz" if gz else ""
        write_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte{ext}"), imgs, gz=gz)
        write_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte{ext}"), labels, gz=gz)
        out[prefix] = imgs, labels
    return out


def cifar_bytes(labels, seed=0):
    px = np.random.default_rng(seed).integers(0, 256, (len(labels), 3072), dtype=np.uint8)
    return np.concatenate([np.asarray(labels, np.uint8)[:, None], px], axis=1).tobytes(), px


def write_cifar(root):
    d = os.path.join(root, "cifar-10-batches-bin")
    os.makedirs(d, exist_ok=True)
    pixels = []
    for i in range(1, 6):
        raw, px = cifar_bytes([i, 9 - i], seed=i)
        pixels.append(px)
        with open(os.path.join(d, f"data_batch_{i}.bin"), "wb") as f:
            f.write(raw)
    with open(os.path.join(d, "test_batch.bin"), "wb") as f:
        f.write(cifar_bytes([0, 1, 2])[0])
    return d, np.concatenate(pixels)


# --- IDX -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
                                        (np.float32, 0x0D), (np.float64, 0x0E)])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_roundtrip(tmp_path, dtype, code, gz):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    got = D.read_idx(write_idx(str(tmp_path / "a-idx3-ubyte"), arr, code, gz))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


@pytest.mark.parametrize("corrupt,match", [
    (lambda raw: raw[:-1], "truncated: its header says shape \\(2, 3, 4\\)"),
    (lambda raw: raw + b"\0", "has trailing bytes"),
    (lambda raw: b"\x01" + raw[1:], "not an IDX file"),
    (lambda raw: raw[:2] + b"\x07" + raw[3:], "not an IDX file"),
    (lambda raw: raw[:9], "truncated IDX header"),
    (lambda raw: b"", "not an IDX file \\(magic number missing"),
    (lambda raw: gzip.compress(raw)[:30], "corrupt or truncated gzip"),
])
def test_read_idx_rejects_bad_files_naming_them(tmp_path, corrupt, match):
    path = write_idx(str(tmp_path / "bad-idx3-ubyte"), np.zeros((2, 3, 4), np.uint8))
    with open(path, "rb") as f:
        raw = f.read()
    with open(path, "wb") as f:
        f.write(corrupt(raw))
    with pytest.raises(ValueError, match=match) as err:
        D.read_idx(path)
    assert path in str(err.value)


@pytest.mark.parametrize("cls,sub,gz", [(D.MNIST, "MNIST/raw", False), (D.MNIST, ".", True),
                                        (D.FashionMNIST, "FashionMNIST/raw", True)])
def test_mnist_from_generated_files(tmp_path, cls, sub, gz):
    arrays = write_mnist(str(tmp_path), sub, gz=gz)
    for train, prefix in ((True, "train"), (False, "t10k")):
        ds = cls(tmp_path, train=train)
        imgs, labels = arrays[prefix]
        assert len(ds) == len(labels) and ds.data.dtype == ember.uint8 and ds.targets.dtype == ember.int64
        img, target = ds[1]
        assert img.dtype == ember.float32 and tuple(img.shape) == (1, 4, 3) and target == int(labels[1])
        np.testing.assert_allclose(img.numpy()[0], imgs[1] / 255.0, rtol=1e-6)
    assert len(cls.classes) == 10
    x, y = next(iter(DataLoader(cls(tmp_path, transform=lambda t: t * 2), batch_size=4)))
    assert tuple(x.shape) == (4, 1, 4, 3) and y.dtype == ember.int64 and float(x.max()) <= 2.0


def test_mnist_validation_errors(tmp_path):
    root = str(tmp_path)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*download=True") as err:
        D.MNIST(root)
    assert os.path.join(root, "MNIST", "raw") in str(err.value)
    d = os.path.join(root, "MNIST", "raw")
    write_mnist(root, "MNIST/raw")
    write_idx(os.path.join(d, "train-labels-idx1-ubyte"), np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="holds 5 images but .*train-labels-idx1-ubyte holds 4 labels"):
        D.MNIST(root)
    write_idx(os.path.join(d, "train-labels-idx1-ubyte"), np.full(5, 10, np.uint8))
    with pytest.raises(ValueError, match="label 10 is outside 0..9"):
        D.MNIST(root)
    write_idx(os.path.join(d, "train-images-idx3-ubyte"), np.zeros((5, 2), np.uint8))
    with pytest.raises(ValueError, match="expected uint8 images of shape \\(N, H, W\\)"):
        D.MNIST(root)


# --- CIFAR-10 -----------------------------------------------------------------------
def test_cifar10_from_generated_batches(tmp_path):
    d, pixels = write_cifar(str(tmp_path))
    train, test = D.CIFAR10(tmp_path), D.CIFAR10(tmp_path, train=False)
    assert len(train) == 10 and len(test) == 3
    assert train.targets.tolist() == [1, 8, 2, 7, 3, 6, 4, 5, 5, 4]
    img, label = train[3]
    assert tuple(img.shape) == (3, 32, 32) and img.dtype == ember.float32 and label == 7
    np.testing.assert_allclose(img.numpy().reshape(-1), pixels[3] / 255.0, rtol=1e-6)
    assert tuple(train.data.shape) == (10, 3, 32, 32) and train.data.dtype == ember.uint8
    images, labels = D.read_cifar10_batch(os.path.join(d, "test_batch.bin"))
    assert images.shape == (3, 3, 32, 32) and labels.tolist() == [0, 1, 2]


@pytest.mark.parametrize("content,match", [
    (lambda raw: raw[:-5], "is not a whole number of 3073-byte CIFAR-10 records"),
    (lambda raw: b"", "0 bytes is not a whole number"),
    (lambda raw: b"\x0c" + raw[1:], "record 0 has label 12, outside 0..9"),
])
def test_cifar10_rejects_bad_batches_naming_them(tmp_path, content, match):
    d, _ = write_cifar(str(tmp_path))
    path = os.path.join(d, "data_batch_3.bin")
    with open(path, "rb") as f:
        raw = f.read()
    with open(path, "wb") as f:
        f.write(content(raw))
    with pytest.raises(ValueError, match=match) as err:
        D.CIFAR10(tmp_path)
    assert path in str(err.value)
    os.remove(path)
    with pytest.raises(FileNotFoundError, match="data_batch_3.bin"):
        D.CIFAR10(tmp_path)


# --- downloads (the network is never used) -------------------------------------------
def fake_urlopen(payloads):
    def urlopen(url, timeout=None):
        name = url.rsplit("/", 1)[-1]
        if name not in payloads:
            raise urllib.error.URLError("no network in tests")
        return io.BytesIO(payloads[name])
    return urlopen


def test_download_without_network_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen({}))
    with pytest.raises(RuntimeError, match="needs network access") as err:
        D.MNIST(tmp_path, download=True)
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and os.path.join(str(tmp_path), "MNIST", "raw") in msg
    with pytest.raises(RuntimeError, match="cifar-10-binary.tar.gz.*unpack it"):
        D.download("cifar-10", tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        D.download("imagenet", tmp_path)
    assert not any(name.startswith(".download-") for _, _, files in os.walk(tmp_path) for name in files)


def test_download_url_is_atomic_and_checks_md5(tmp_path, monkeypatch):
    data = b"hello ember"
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen({"f.bin": data}))
    target = tmp_path / "sub" / "f.bin"
    with pytest.raises(ValueError, match="checksum mismatch"):
        D.download_url("https://example.invalid/f.bin", str(target), md5="0" * 32)
    assert not target.exists() and os.listdir(tmp_path / "sub") == []
    D.download_url("https://example.invalid/f.bin", str(target), md5=hashlib.md5(data).hexdigest())
    assert target.read_bytes() == data


def test_download_mnist_and_cifar_from_a_fake_mirror(tmp_path, monkeypatch):
    from ember.data.datasets import fetch as dl
    src = tmp_path / "src"
    arrays = write_mnist(str(src), ".", gz=True)
    payloads = {p.name: p.read_bytes() for p in src.iterdir()}
    # a CIFAR archive with the real layout plus a member that tries to escape the folder
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin", "../../evil.bin"]:
            raw = cifar_bytes([3])[0]
            info = tarfile.TarInfo(name if name.startswith("..") else f"cifar-10-batches-bin/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    payloads["cifar-10-binary.tar.gz"] = buf.getvalue()
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(payloads))
    monkeypatch.setitem(dl.SOURCES["mnist"], "files", {k: hashlib.md5(payloads[k]).hexdigest()
                                                       for k in dl.SOURCES["mnist"]["files"]})
    monkeypatch.setitem(dl.SOURCES["cifar10"], "files",
                        {"cifar-10-binary.tar.gz": hashlib.md5(payloads["cifar-10-binary.tar.gz"]).hexdigest()})
    root = tmp_path / "root"
    ds = D.MNIST(root, download=True)
    assert ds.targets.tolist() == arrays["train"][1].tolist()
    cifar = D.CIFAR10(root, train=False, download=True)
    assert len(cifar) == 1 and cifar[0][1] == 3
    assert not (tmp_path / "evil.bin").exists() and not (root / "evil.bin").exists()
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen({}))  # already there: no network needed
    assert len(D.MNIST(root, download=True)) == 5


# --- scikit-learn toy datasets -------------------------------------------------------
def fake_sklearn():
    rs = np.random.default_rng(0)

    def bunch(n, f, classes, **extra):
        return types.SimpleNamespace(data=rs.normal(size=(n, f)), target=rs.integers(0, classes, n),
                                     target_names=np.array([f"c{i}" for i in range(classes)]),
                                     feature_names=[f"f{i}" for i in range(f)], **extra)
    datasets = types.SimpleNamespace(
        load_digits=lambda: bunch(30, 64, 10, images=rs.integers(0, 17, (30, 8, 8)).astype(float)),
        load_iris=lambda: bunch(150, 4, 3), load_wine=lambda: bunch(178, 13, 3),
        load_breast_cancer=lambda: bunch(569, 30, 2),
        load_diabetes=lambda: types.SimpleNamespace(data=rs.normal(size=(442, 10)), target=rs.normal(size=442) * 50,
                                                    feature_names=[f"f{i}" for i in range(10)]))
    return types.SimpleNamespace(datasets=datasets, __name__="sklearn")


def test_sklearn_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"load_iris needs scikit-learn.*pip install ember\[data\]"):
        D.load_iris()


def test_sklearn_loaders_convert_and_split(monkeypatch):
    fake = fake_sklearn()
    monkeypatch.setitem(sys.modules, "sklearn", fake)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", fake.datasets)
    digits = D.load_digits()
    assert tuple(digits.data.shape) == (30, 8, 8) and digits.data.dtype == ember.float32
    assert 0 <= float(digits.data.min()) and float(digits.data.max()) <= 1 and digits.targets.dtype == ember.int64
    iris = D.load_iris()
    assert tuple(iris.data.shape) == (150, 4) and iris.classes == ["c0", "c1", "c2"] and len(iris.feature_names) == 4
    assert D.load_wine(dtype=ember.float64).data.dtype == ember.float64
    assert len(D.load_breast_cancer()) == 569
    diabetes = D.load_diabetes()
    assert diabetes.targets.dtype == ember.float32 and diabetes.classes is None
    train, test = iris.train_test_split(0.2, generator=ember.Generator().manual_seed(0))
    assert (len(train), len(test)) == (120, 30)
    again = iris.train_test_split(0.2, generator=ember.Generator().manual_seed(0))[1]
    assert again.targets.tolist() == test.targets.tolist()
    all_rows = np.concatenate([train.data.numpy(), test.data.numpy()])
    assert sorted(map(tuple, all_rows.tolist())) == sorted(map(tuple, iris.data.numpy().tolist()))
    tr, te = iris.train_test_split(0.2, stratify=True, generator=ember.Generator().manual_seed(1))
    for c in range(3):
        share = (iris.targets.numpy() == c).mean()
        assert abs((te.targets.numpy() == c).mean() - share) < 0.05
    assert [len(s) for s in iris.train_test_split(15, shuffle=False)] == [135, 15]
    with pytest.raises(ValueError, match="empty split"):
        iris.train_test_split(0.0)
    x, y = next(iter(DataLoader(train, batch_size=16, shuffle=True)))
    assert tuple(x.shape) == (16, 4) and y.dtype == ember.int64


def test_real_sklearn_digits():
    pytest.importorskip("sklearn", reason="scikit-learn not installed (pip install ember[data])")
    digits = D.load_digits()
    assert tuple(digits.data.shape) == (1797, 8, 8) and digits.data.dtype == ember.float32
    assert float(digits.data.max()) == 1.0 and digits.targets.dtype == ember.int64
    for fn, n in ((D.load_iris, 150), (D.load_wine, 178), (D.load_breast_cancer, 569), (D.load_diabetes, 442)):
        assert len(fn()) == n
