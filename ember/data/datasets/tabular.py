"""scikit-learn's bundled toy datasets (digits, iris, wine, breast cancer, diabetes) as
``ArrayDataset``s. They ship inside scikit-learn, so nothing is downloaded; scikit-learn
itself is the optional extra ``pip install ember[data]``."""
from __future__ import annotations

import math

import numpy as np

from ..dataset import TensorDataset


class ArrayDataset(TensorDataset):
    """Features and targets: ``ds[i] == (data[i], targets[i])``, plus ``classes`` /
    ``feature_names`` when known, and ``train_test_split``."""

    def __init__(self, data, targets, *, classes=None, feature_names=None, name=""):
        super().__init__(data, targets)
        self.classes, self.feature_names, self.name = classes, feature_names, name

    @property
    def data(self):
        return self.tensors[0]

    @property
    def targets(self):
        return self.tensors[1]

    def _take(self, idx):
        from ...creation import as_tensor
        i = as_tensor(np.asarray(idx, dtype=np.int64))
        return ArrayDataset(self.data[i], self.targets[i], classes=self.classes,
                            feature_names=self.feature_names, name=self.name)

    def train_test_split(self, test_size=0.25, *, shuffle=True, stratify=False, generator=None):
        """``(train, test)``: ``test_size`` is a fraction (rounded up, as scikit-learn does)
        or a count. ``stratify=True`` keeps each class's share (classification targets)."""
        n = len(self)
        n_test = math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size)
        if not 0 < n_test < n:
            raise ValueError(f"train_test_split: test_size={test_size} leaves an empty split of "
                             f"a dataset of {n} samples")
        from ...creation import randperm
        order = randperm(n, generator=generator).numpy() if shuffle else np.arange(n)
        if not stratify:
            return self._take(order[n_test:]), self._take(order[:n_test])
        labels = self.targets.numpy()[order]
        test = np.zeros(n, dtype=bool)
        for c in np.unique(labels):  # the first round(share) of each class, in shuffled order
            members = np.flatnonzero(labels == c)
            test[members[:round(len(members) * n_test / n)]] = True
        return self._take(order[~test]), self._take(order[test])

    def __repr__(self):
        return (f"ArrayDataset({self.name or 'unnamed'}: {len(self)} samples, data {tuple(self.data.shape)} "
                f"{self.data.dtype}, targets {tuple(self.targets.shape)} {self.targets.dtype})")


def _sklearn_datasets(fn):
    try:
        from sklearn import datasets
    except ImportError as e:
        raise ImportError(f"ember.data.datasets.{fn} needs scikit-learn, which is not installed: "
                          f"pip install ember[data] (or pip install scikit-learn)") from e
    return datasets


def _build(fn, bunch, features, target_dtype, dtype, classes):
    from ... import dtypes
    from ...creation import from_numpy
    fdt = (dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()).np
    tdt = fdt if target_dtype == "float" else np.int64
    data = from_numpy(np.ascontiguousarray(features, dtype=fdt))
    targets = from_numpy(np.asarray(bunch.target).astype(tdt))
    names = getattr(bunch, "feature_names", None)
    return ArrayDataset(data, targets, classes=classes, name=fn.removeprefix("load_"),
                        feature_names=[str(f) for f in names] if names is not None else None)


def _classification(fn, dtype):
    bunch = getattr(_sklearn_datasets(fn), fn)()
    return _build(fn, bunch, bunch.data, "int", dtype, [str(c) for c in bunch.target_names])


def load_digits(dtype=None):
    """8x8 handwritten digits: images (1797, 8, 8) scaled to [0, 1], int64 labels 0-9."""
    bunch = _sklearn_datasets("load_digits").load_digits()
    return _build("load_digits", bunch, np.asarray(bunch.images) / 16.0, "int", dtype,
                  [str(c) for c in bunch.target_names])


def load_iris(dtype=None):
    """150 iris flowers: 4 features, 3 classes."""
    return _classification("load_iris", dtype)


def load_wine(dtype=None):
    """178 wines: 13 features, 3 classes."""
    return _classification("load_wine", dtype)


def load_breast_cancer(dtype=None):
    """569 tumours: 30 features, 2 classes (malignant, benign)."""
    return _classification("load_breast_cancer", dtype)


def load_diabetes(dtype=None):
    """442 patients: 10 (scaled) features, a float regression target."""
    bunch = _sklearn_datasets("load_diabetes").load_diabetes()
    return _build("load_diabetes", bunch, bunch.data, "float", dtype, None)
