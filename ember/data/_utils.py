"""Pieces shared by the DataLoader and its worker processes: fetchers, worker info,
exception transport, and how batches cross the process boundary."""
from __future__ import annotations

import io
import pickle
import sys
import traceback
from dataclasses import dataclass

from .._tensor import Tensor

# Seconds between liveness checks while the main process waits for a batch (torch
# waits 5 s; a short interval makes a dead worker an error within a blink).
MP_STATUS_CHECK_INTERVAL = 0.2


class _DatasetKind:
    Map, Iterable = 0, 1


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker process."""
    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """The current worker's ``WorkerInfo`` (id, num_workers, seed, dataset); None in the main process."""
    return _worker_info


class KeyErrorMessage(str):
    """KeyError repr()s its argument; this keeps a multi-line traceback readable."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception with its formatted traceback, to be re-raised in another process."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception class that wants other constructor arguments
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:  # no frame -> exception -> traceback -> frame cycle: the iterator is freed
            del exception  # as soon as the caller lets go of the exception, not at the next gc


class _IterableDatasetStopIteration:
    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers at the start of each epoch; echoed back as an ack."""


# --- fetchers: turn an index (or a batch of indices) into a collated batch ----------
class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.getitems = getattr(dataset, "__getitems__", None) if auto_collation else None

    def fetch(self, index):
        if self.auto_collation:
            data = self.getitems(index) if self.getitems else [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.it = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.it))
        data = []
        for _ in index:
            try:
                data.append(next(self.it))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
    cls = _MapDatasetFetcher if kind == _DatasetKind.Map else _IterableDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


# --- crossing the process boundary ----------------------------------------------------
# Tensors refuse pickle (files must never be unpickled); between our own processes they
# travel as NumPy arrays and are rebuilt on the other side.
def _rebuild_tensor(cls, array, requires_grad):
    from .._tensor import _wrap
    t = _wrap(array)
    if cls is not Tensor:
        t.__class__ = cls  # nn.Parameter and other subclasses without extra state
    return t.requires_grad_(True) if requires_grad else t


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            leaf_grad = obj.requires_grad and obj.is_leaf
            return _rebuild_tensor, (type(obj), obj.detach().numpy(), leaf_grad)
        return NotImplemented


def dumps(obj):
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def loads(data):
    """Rebuild a batch our own worker process just pickled (IPC only; files are never unpickled)."""
    return pickle.Unpickler(io.BytesIO(data)).load()
