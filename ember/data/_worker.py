"""The loop a DataLoader worker process runs (see PyTorch's torch/utils/data/_utils/worker.py)."""
from __future__ import annotations

import os
import random

import numpy as np

from . import _utils
from ._utils import (MP_STATUS_CHECK_INTERVAL, ExceptionWrapper, WorkerInfo, _DatasetKind,
                     _IterableDatasetStopIteration, _ResumeIteration, create_fetcher)


def _seed_worker(base_seed, worker_id):
    """Seed Python's, NumPy's global and ember's default RNG as torch does: base_seed + worker_id."""
    from .. import random as ember_random
    seed = base_seed + worker_id
    random.seed(seed)
    ember_random.manual_seed(seed)
    # NumPy's legacy seed takes 32-bit words; hash both numbers so worker streams don't overlap
    np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(4))
    return seed


def _worker_loop(kind, payload, index_conn, data_queue, done_event, auto_collation, drop_last,
                 base_seed, worker_id, num_workers):
    where = f"in DataLoader worker process {worker_id}"
    parent_pid = os.getppid()  # the main process, or the forkserver: it changes when they die
    try:
        init_exception = None
        try:
            # spawn/forkserver children receive dataset, collate_fn, worker_init_fn pickled
            dataset, collate_fn, init_fn = _utils.loads(payload) if isinstance(payload, bytes) else payload
            seed = _seed_worker(base_seed, worker_id)
            _utils._worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=where)
        iteration_end = False
        while os.getppid() == parent_pid:  # else our parent died: stop
            try:
                if not index_conn.poll(MP_STATUS_CHECK_INTERVAL):
                    if done_event.is_set():  # shutdown, even if our None never arrives (see below)
                        break
                    continue
                r = index_conn.recv()
            except (EOFError, OSError):  # the main process closed its end
                break
            if isinstance(r, _ResumeIteration):  # persistent workers: a new epoch begins
                data_queue.put((r, None))
                iteration_end = False
                if init_exception is None:
                    try:
                        fetcher = create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_exception = ExceptionWrapper(where=where)
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:  # every batch reports it: there is no fetcher
                data = init_exception
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if kind != _DatasetKind.Iterable:
                        data = ExceptionWrapper(where=where)
                    else:
                        data, iteration_end = _IterableDatasetStopIteration(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where=where)
            data_queue.put((idx, _encode(data, where)))
            del data, idx, index, r
    except KeyboardInterrupt:
        pass  # the main process sees it too and shuts us down
    # When the main process drops its iterator inside a garbage-collected cycle, the pipes'
    # own finalizers may close them before our None is sent: hence the done_event check.
    if done_event.is_set():
        data_queue.cancel_join_thread()  # exit without waiting for the main process to read
        data_queue.close()


def _encode(data, where):
    """Pickle here, where a failure can still be reported, not in the queue's feeder thread."""
    try:
        return _utils.dumps(data)
    except Exception:
        if not isinstance(data, ExceptionWrapper):
            data = ExceptionWrapper(where=where)  # the batch itself can't be pickled
    try:
        return _utils.dumps(data)
    except Exception:  # the exception class can't be pickled (defined inside a function)
        data.exc_type = RuntimeError
        return _utils.dumps(data)
