"""Image datasets read from local files: MNIST and Fashion-MNIST (IDX files, optionally
gzipped) and CIFAR-10 (binary batches). Every header, size and label is checked; a bad
file is rejected with its path and what is wrong with it.

Samples are ``(image, label)``: a float32 tensor (C, H, W) scaled to [0, 1] (what
torchvision gives after ``ToTensor()``) and an int. ``.data`` holds all images as uint8,
``.targets`` all labels as int64.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from ..dataset import Dataset
from . import fetch as _dl

# IDX type codes (http://yann.lecun.com/exdb/mnist/): data is big-endian
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip, whatever the file is called
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from None
    return raw


def read_idx(path):
    """The array stored in an IDX file (``*-ubyte``, or ``*-ubyte.gz``) as a NumPy array."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] or raw[1] or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic number {raw[:4].hex() or 'missing'}; expected "
                         f"0000, a type code in {[hex(c) for c in _IDX_DTYPES]}, and the number of dims)")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, {ndim} dims need {header})")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(f"{path}: {what}: its header says shape {shape} of {dtype.name}, "
                         f"{expected} bytes in all, but it holds {len(raw)} bytes")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(root, names, subdirs, dataset):
    """The first of root/subdir/name(.gz) that exists, for each name."""
    found = []
    for name in names:
        for d in subdirs:
            hits = [p for p in (os.path.join(root, d, name), os.path.join(root, d, name + ".gz"))
                    if os.path.isfile(p)]
            if hits:
                found.append(hits[0])
                break
        else:
            dirs = ", ".join(os.path.normpath(os.path.join(root, d)) for d in subdirs)
            raise FileNotFoundError(
                f"{dataset}: {name} (or {name}.gz) not found in {dirs}. Pass download=True (needs "
                f"network access), or put the files there yourself: "
                f"{_dl.instructions(dataset.lower(), root)}")
    return found


class _ImageDataset(Dataset):
    def __init__(self, images, labels, transform, target_transform):
        from ...creation import from_numpy
        self._images, self._labels = images, labels
        self.data, self.targets = from_numpy(images), from_numpy(labels)
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        from ...creation import from_numpy
        img = self._images[index]
        img = from_numpy((img[None] if img.ndim == 2 else img).astype(np.float32) / np.float32(255))
        target = int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self):
        return (f"{type(self).__name__}({'train' if self.train else 'test'}: {len(self)} images "
                f"{tuple(self.data.shape[1:])}, root={self.root!r})")


class MNIST(_ImageDataset):
    """MNIST digits from ``root`` (IDX files in ``root/MNIST/raw`` as torchvision keeps them,
    or in ``root`` itself); ``download=True`` fetches them first."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root, self.train = os.fspath(root), train
        name = type(self).__name__
        if download:
            _dl.download(name.lower(), self.root)
        prefix = "train" if train else "t10k"
        img_path, lbl_path = _find(self.root, [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"],
                                   [os.path.join(name, "raw"), "."], name)
        images, labels = read_idx(img_path), read_idx(lbl_path)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(f"{img_path}: expected uint8 images of shape (N, H, W), got "
                             f"{images.dtype} {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{lbl_path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{img_path} holds {len(images)} images but {lbl_path} holds {len(labels)} labels")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"{lbl_path}: label {labels.max()} is outside 0..{len(self.classes) - 1}")
        super().__init__(images, labels.astype(np.int64), transform, target_transform)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's file format and layout, clothing instead of digits."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]


_CIFAR_RECORD = 1 + 3 * 32 * 32


def read_cifar10_batch(path):
    """``(images, labels)`` of a CIFAR-10 binary batch: uint8 (N, 3, 32, 32) and int64 (N,)."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    if not raw or len(raw) % _CIFAR_RECORD:
        raise ValueError(f"{path}: {len(raw)} bytes is not a whole number of {_CIFAR_RECORD}-byte CIFAR-10 "
                         f"records (1 label byte + 3x32x32 pixel bytes each); truncated or not a CIFAR-10 "
                         f"binary batch")
    records = np.frombuffer(raw, np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise ValueError(f"{path}: record {bad} has label {labels[bad]}, outside 0..9; not a CIFAR-10 "
                         f"binary batch (CIFAR-100's records have 2 label bytes)")
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


class CIFAR10(_ImageDataset):
    """CIFAR-10 from the binary version's batches (``data_batch_1.bin`` ... ``data_batch_5.bin``,
    ``test_batch.bin``) in ``root/cifar-10-batches-bin`` or ``root``; ``download=True``
    fetches and unpacks ``cifar-10-binary.tar.gz`` first."""

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root, self.train = os.fspath(root), train
        if download:
            _dl.download("cifar10", self.root)
        paths = _find(self.root, self.train_list if train else self.test_list, ["cifar-10-batches-bin", "."],
                      "CIFAR10")
        batches = [read_cifar10_batch(p) for p in paths]
        super().__init__(np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches]),
                         transform, target_transform)
