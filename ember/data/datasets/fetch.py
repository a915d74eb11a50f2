"""Fetching dataset files: where they come from, their checksums, and where they go.

Downloads need network access; each file is verified (MD5, as published) and written
atomically (temporary file, fsync, rename), so an interrupted download never leaves a
half-written file where a good one is expected. Without network access, ``instructions``
says which files to fetch elsewhere and where to put them.
"""
from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.request

_MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

SOURCES = {
    "mnist": dict(
        subdir=os.path.join("MNIST", "raw"),
        mirrors=["https://ossci-datasets.s3.amazonaws.com/mnist/"],
        files=dict(zip(_MNIST_FILES, ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                                      "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"]))),
    "fashionmnist": dict(
        subdir=os.path.join("FashionMNIST", "raw"),
        mirrors=["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        files=dict(zip(_MNIST_FILES, ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                                      "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"]))),
    "cifar10": dict(
        subdir="",  # the archive unpacks into cifar-10-batches-bin/
        mirrors=["https://www.cs.toronto.edu/~kriz/"],
        files={"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"},
        members=[f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin", "batches.meta.txt"]),
}
_ALIASES = {"fashion-mnist": "fashionmnist", "fashion_mnist": "fashionmnist", "cifar-10": "cifar10",
            "cifar_10": "cifar10"}


def _source(name):
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in SOURCES:
        raise ValueError(f"ember.data.datasets.download: unknown dataset {name!r}; known: {sorted(SOURCES)}")
    return key, SOURCES[key]


def instructions(name, root):
    """Where to get ``name``'s files by hand, and where to put them under ``root``."""
    key, src = _source(name)
    dest = os.path.normpath(os.path.join(root, src["subdir"]))
    urls = ", ".join(src["mirrors"][0] + f for f in src["files"])
    extra = " and unpack it there (it creates cifar-10-batches-bin/)" if key == "cifar10" else ""
    return f"download {urls}, put them in {dest}{extra}"


def _md5(path):
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_url(url, path, md5=None, timeout=60):
    """Fetch ``url`` into ``path`` atomically, checking ``md5`` when given."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
    try:
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if md5 is not None and (got := _md5(tmp)) != md5:
            raise ValueError(f"{url}: checksum mismatch (MD5 {got}, expected {md5}); the download is "
                             f"corrupt or the file changed upstream; nothing was written to {path}")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _extract_members(archive, dest, members):
    """Only the expected regular files, by base name: an archive can't write anywhere else."""
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar.getmembers():
            name = os.path.basename(m.name)
            if m.isfile() and name in members:
                with tar.extractfile(m) as src, open(os.path.join(dest, name), "wb") as out:
                    out.write(src.read())


def download(name, root, timeout=60):
    """Fetch dataset ``name`` ("mnist", "fashionmnist", "cifar10") under ``root``, skipping
    files already there with the right checksum; returns the folder holding the files."""
    key, src = _source(name)
    dest = os.path.join(os.fspath(root), src["subdir"])
    for fname, md5 in src["files"].items():
        path = os.path.join(dest, fname)
        if os.path.isfile(path) and _md5(path) == md5:
            continue
        errors = []
        for mirror in src["mirrors"]:
            try:
                download_url(mirror + fname, path, md5, timeout)
                break
            except (urllib.error.URLError, OSError) as e:  # URLError covers HTTP errors
                errors.append(f"{mirror + fname}: {e}")
        else:
            raise RuntimeError(f"ember.data.datasets: could not download {name} ({'; '.join(errors)}). "
                               f"Downloading needs network access; without it, {instructions(name, root)}")
    if key == "cifar10":
        batches = os.path.join(os.fspath(root), "cifar-10-batches-bin")
        if not all(os.path.isfile(os.path.join(batches, m)) for m in src["members"]):
            _extract_members(os.path.join(dest, "cifar-10-binary.tar.gz"), batches, src["members"])
        return batches
    return dest
