"""What ``fit`` / ``evaluate`` / ``predict`` accept, turned into batches, with the checks that
fail before training starts.

- arrays: ``x`` (a tensor or NumPy array, or a tuple / list / dict of them for several inputs)
  with ``y`` and ``sample_weight``; NumPy floats become the default dtype and every integer
  array becomes int64 (class indices, token ids). Batched by ``ArrayLoader``.
- an ``ember.data.Dataset``: wrapped in a ``DataLoader``.
- a ``DataLoader`` or any other re-iterable of batches: used as it is.

A batch is ``x``, ``(x,)``, ``(x, y)``, ``(x, y, sample_weight)`` or a dict with keys ``x`` /
``inputs`` / ``input``, ``y`` / ``targets`` / ``target`` / ``labels`` / ``label`` and
``sample_weight``.
"""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor

X_KEYS, Y_KEYS = ("x", "inputs", "input"), ("y", "targets", "target", "labels", "label")


def tree_map(fn, obj):
    if isinstance(obj, (tuple, list)):
        return type(obj)(tree_map(fn, o) for o in obj)
    if isinstance(obj, dict):
        return {k: tree_map(fn, v) for k, v in obj.items()}
    return fn(obj)


def leaves(obj):
    if isinstance(obj, (tuple, list)):
        for o in obj:
            yield from leaves(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from leaves(o)
    elif obj is not None:
        yield obj


def batch_len(obj):
    """Number of samples in a batch structure (the first dim of its first tensor)."""
    for leaf in leaves(obj):
        shape = getattr(leaf, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
    return 0


def unpack(batch):
    """(x, y, sample_weight) of a batch; y and sample_weight may be None."""
    if isinstance(batch, dict):
        x = next((batch[k] for k in X_KEYS if k in batch), None)
        if x is None:
            raise ValueError(f"ember.train: a dict batch needs the inputs under one of the keys {', '.join(X_KEYS)}; "
                             f"got keys {', '.join(map(str, batch))}")
        return x, next((batch[k] for k in Y_KEYS if k in batch), None), batch.get("sample_weight")
    if isinstance(batch, (tuple, list)):
        if not 1 <= len(batch) <= 3:
            raise ValueError(f"ember.train: expected batches of (x,), (x, y) or (x, y, sample_weight), got a "
                             f"{type(batch).__name__} of {len(batch)} items; put several inputs in a tuple: "
                             f"((x1, x2), y)")
        return tuple(batch) + (None,) * (3 - len(batch))
    return batch, None, None


# --- arrays ---------------------------------------------------------------------------------------
def _is_array(a):
    return isinstance(a, (Tensor, np.ndarray, np.generic, int, float)) or (
        isinstance(a, list) and not any(isinstance(e, (Tensor, np.ndarray)) for e in a))


def is_array_input(x):
    """True for a tensor / array, or a tuple / list / dict of them."""
    if isinstance(x, dict):
        return bool(x) and all(is_array_input(v) for v in x.values())
    if isinstance(x, (tuple, list)) and x and any(isinstance(e, (Tensor, np.ndarray, tuple, dict)) for e in x):
        return all(is_array_input(v) for v in x)
    return _is_array(x)


def to_numpy(a, what):
    from .. import dtypes
    if isinstance(a, Tensor):
        arr = a.detach().numpy()
        return arr.astype(np.int64) if arr.dtype.kind in "iu" and arr.dtype != np.int64 else arr
    arr = np.asarray(a)
    if arr.dtype.kind == "f":
        return arr.astype(dtypes.get_default_dtype().np, copy=False)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "b":
        return arr
    raise TypeError(f"ember.train: {what} has dtype {arr.dtype}, which cannot be used as a tensor")


def arrays(x, y=None, sample_weight=None):
    """The batch structure of NumPy arrays ``(x, y, sample_weight)`` (trailing Nones dropped) and its
    number of samples; raises when the lengths differ."""
    data = [tree_map(lambda a: to_numpy(a, "x"), x)]
    for name, v in (("y", y), ("sample_weight", sample_weight)):
        if v is not None:
            if not is_array_input(v):
                raise TypeError(f"ember.train: {name} must be a tensor or an array when x is, got {type(v).__name__}")
            data.append(tree_map(lambda a, name=name: to_numpy(a, name), v))
    if sample_weight is not None and y is None:
        raise ValueError("ember.train: sample_weight was given without y")
    lengths = {}
    for name, part in zip(("x", "y", "sample_weight"), data):
        for leaf in leaves(part):
            if leaf.ndim == 0:
                raise ValueError(f"ember.train: {name} must have a batch dimension, got a 0-d array")
            lengths.setdefault(name, set()).add(len(leaf))
    if len(lengths.get("x", ())) > 1:
        raise ValueError(f"ember.train: the inputs in x have different numbers of samples: {sorted(lengths['x'])}")
    n = next(iter(lengths["x"])) if lengths.get("x") else 0
    for name in ("y", "sample_weight"):
        for m in lengths.get(name, ()):
            if m != n:
                raise ValueError(f"ember.train: x and {name} must have the same number of samples, got {n} in x and "
                                 f"{m} in {name}")
    return tuple(data), n


class ArrayLoader:
    """Batches of in-memory arrays: ``data`` is a structure (tuples, lists, dicts) of NumPy arrays
    of ``n`` samples. Each pass draws from ember's default generator exactly what iterating
    ``DataLoader(TensorDataset(...), batch_size, shuffle)`` draws (the iterator's base seed, then
    with ``shuffle`` the sampler's seed for ``randperm``), so ``fit`` sees the same batches and
    random numbers as that loop, without per-sample indexing and collation."""

    def __init__(self, data, n, batch_size, shuffle=False):
        self.data, self.n, self.batch_size, self.shuffle = data, n, batch_size, shuffle

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        from ..creation import from_numpy, randperm
        from ..random import Generator, rng
        rng().integers(0, 2 ** 63 - 1)  # the DataLoader iterator's base seed
        if self.shuffle:
            g = Generator().manual_seed(int(rng().integers(0, 2 ** 63 - 1)))
            order = randperm(self.n, generator=g).numpy()
        for start in range(0, self.n, self.batch_size):
            idx = order[start:start + self.batch_size] if self.shuffle else slice(start, start + self.batch_size)
            yield tree_map(lambda a: from_numpy(np.array(a[idx])), self.data)  # a copy, as collation makes


def split(data, n, validation_split):
    """(train, val) structures: the last ``validation_split`` fraction is held out, as Keras does."""
    at = int(math.floor(n * (1.0 - validation_split)))
    if at == 0 or at == n:
        raise ValueError(f"ember.train: validation_split={validation_split} of {n} samples leaves "
                         f"{'no training' if at == 0 else 'no validation'} samples")
    return tree_map(lambda a: a[:at], data), at, tree_map(lambda a: a[at:], data), n - at


# --- datasets and loaders ----------------------------------------------------------------------------------------
def loader(x, y=None, sample_weight=None, *, batch_size=32, shuffle=False, what="x"):
    """(an iterable of batches, the structure of one sample or batch to check the targets of, or None)."""
    from ..data import DataLoader, Dataset, IterableDataset
    if x is None:
        raise ValueError(f"ember.train: no data given ({what} is None)")
    if is_array_input(x):
        data, n = arrays(x, y, sample_weight)
        if n == 0:
            raise ValueError(f"ember.train: {what} holds no samples")
        return ArrayLoader(data, n, batch_size, shuffle), data
    if y is not None or sample_weight is not None:
        raise ValueError(f"ember.train: y and sample_weight must not be given when {what} is a "
                         f"{type(x).__name__} (it yields the targets itself)")
    if isinstance(x, Dataset):
        iterable = isinstance(x, IterableDataset)
        return DataLoader(x, batch_size=batch_size, shuffle=shuffle and not iterable), _first_sample(x)
    if isinstance(x, DataLoader):
        return x, _first_sample(x.dataset)
    if hasattr(x, "__iter__") and not isinstance(x, (str, bytes)):
        if iter(x) is x:
            raise TypeError(f"ember.train: {what} is a one-shot iterator ({type(x).__name__}); pass a re-iterable "
                            f"(a DataLoader, a Dataset or a list of batches) so every epoch sees the data")
        return x, None
    raise TypeError(f"ember.train: {what} must be a tensor / array (or a tuple / dict of them), a Dataset or a "
                    f"DataLoader, got {type(x).__name__}")


def _first_sample(dataset):
    """The first sample of a map-style dataset with a batch dim added, to check targets early; None
    when it cannot be had cheaply (iterable datasets)."""
    from ..data import IterableDataset
    if isinstance(dataset, IterableDataset) or not hasattr(dataset, "__getitem__"):
        return None
    try:
        if len(dataset) == 0:
            return None
        sample = dataset[0]
    except Exception:  # noqa: BLE001 - a dataset that cannot be indexed is only checked later
        return None
    def batched(a):
        return to_numpy(a, "the dataset's sample")[None] if isinstance(a, (Tensor, np.ndarray, int, float)) else a
    return tree_map(batched, sample if isinstance(sample, (tuple, list, dict)) else (sample,))


_SOFT = ("cross_entropy", "CrossEntropyLoss")  # losses that also take class probabilities


def check_targets(loss, batch):
    """Raise when the targets in ``batch`` (a batch structure) have the wrong dtype for ``loss``."""
    if loss.kind is None or batch is None:
        return
    _, y, _ = unpack(batch)
    if y is None or not hasattr(y, "dtype"):
        return
    npd = y.dtype.np if isinstance(y, Tensor) else np.dtype(y.dtype)
    kind, dname, shape = loss.kind, npd.name, tuple(y.shape)
    is_int, is_float = npd.kind in "iu", npd.kind == "f" or dname == "bfloat16"
    if kind == "class":
        if is_int or is_float and loss.name in _SOFT and len(shape) >= 2:
            return
        hint = " or float class probabilities of shape (N, C)" if loss.name in _SOFT else ""
        raise TypeError(f"ember.train: loss {loss.name!r} expects integer class indices as targets (int64, shape "
                        f"(N,)){hint}, got y of dtype {dname} and shape {shape}; convert with y.long() "
                        f"(NumPy: y.astype('int64'))")
    if not is_float:
        what = "0.0 / 1.0 labels" if kind == "binary" else "values"
        raise TypeError(f"ember.train: loss {loss.name!r} expects floating-point targets ({what} of the prediction's "
                        f"shape), got y of dtype {dname} and shape {shape}; convert with y.float() "
                        f"(NumPy: y.astype('float32'))")


def iterate(batches, steps=None):
    """The batches of one epoch: all of them, or exactly ``steps`` (starting the data over when it
    runs out, so an epoch can be shorter or longer than one pass)."""
    if steps is None:
        yield from batches
        return
    done = 0
    while done < steps:
        empty = True
        for batch in batches:
            empty = False
            yield batch
            done += 1
            if done >= steps:
                return
        if empty:
            raise ValueError("ember.train: the data yielded no batches")


def num_batches(batches, steps=None):
    if steps is not None:
        return steps
    try:
        return len(batches)
    except TypeError:
        return None
