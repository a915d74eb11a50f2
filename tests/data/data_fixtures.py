"""Datasets and comparison helpers for tests/data (a module, so spawned workers can import them)."""
import math
import os
import time

import numpy as np

import ember
from ember.data import Dataset, IterableDataset, get_worker_info


def same(e, t):
    """Assert an ember structure equals a torch one: containers, types, tensor values and dtypes."""
    import torch
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"expected a tensor, got {type(e).__name__}"
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    elif isinstance(t, dict):
        assert type(e).__name__ == type(t).__name__ and list(e) == list(t)
        for k in t:
            same(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e).__name__ == type(t).__name__ and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            same(a, b)
    else:
        assert type(e) is type(t) and e == t, (e, t)


def flat(batch):
    """A batch as nested Python lists/numbers (to compare two ember loaders)."""
    if isinstance(batch, ember.Tensor):
        return (str(batch.dtype), batch.tolist())
    if isinstance(batch, dict):
        return {k: flat(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [flat(b) for b in batch]
    return batch


class Squares(Dataset):
    """Sample i: a dict with a float tensor, an int, a string and a NumPy array."""

    def __init__(self, n=24):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": ember.full((3,), float(i)), "y": i, "name": f"s{i}", "a": np.arange(2) * i}


class RandomSample(Dataset):
    """Draws from ember's and NumPy's global RNGs: shows per-worker seeding."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return ember.rand(1).item(), float(np.random.rand()), get_worker_info().seed


class Boom(Dataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == 7:
            raise ValueError(f"bad sample {i}")
        if i == 9:
            raise KeyError("missing")
        return i


class DiesAt(Dataset):
    """os._exit(3) in the worker that loads index ``at``."""

    def __init__(self, at=5):
        self.at = at

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == self.at:
            os._exit(3)
        return i


class Sleepy(Dataset):
    def __init__(self, seconds):
        self.seconds = seconds

    def __len__(self):
        return 8

    def __getitem__(self, i):
        time.sleep(self.seconds)
        return i


class Range(IterableDataset):
    """range(start, end), split between workers with get_worker_info (torch's docs example)."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __len__(self):
        return self.end - self.start

    def __iter__(self):
        info = get_worker_info()
        lo, hi = self.start, self.end
        if info is not None:
            per = math.ceil((hi - lo) / info.num_workers)
            lo = self.start + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))


class WorkerTagged(IterableDataset):
    """Every worker yields 5 items of (worker id, k): no sharding, so each worker's stream is whole."""

    def __iter__(self):
        info = get_worker_info()
        wid = -1 if info is None else info.id
        return iter([(wid, k) for k in range(5)])


def record_worker_init(worker_id):
    np.random.seed(1000 + worker_id)  # overrides the per-worker seeding, visibly


class Info(Dataset):
    """Sample i: what get_worker_info() says in the process that loads it."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return info.id, info.num_workers, type(info.dataset).__name__, os.getpid()
