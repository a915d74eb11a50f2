"""``DataLoader``: batches from a dataset, in the main process or in worker processes.

Same arguments and behaviour as torch.utils.data.DataLoader. With ``num_workers > 0``,
each worker process gets batches of indices on its own pipe and sends collated
batches back on one result queue; the main process keeps ``prefetch_factor *
num_workers`` batches in flight and hands them out in sampler order. A worker's
exception is re-raised in the main process with the worker's traceback; a worker that
dies makes the main process raise instead of hang.
"""
from __future__ import annotations

import atexit
import itertools
import multiprocessing
import os
import queue
import sys
import time

from . import _utils
from ._utils import (MP_STATUS_CHECK_INTERVAL, ExceptionWrapper, _DatasetKind,
                     _IterableDatasetStopIteration, _ResumeIteration, create_fetcher)
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _draw_seed

_python_exiting = False


@atexit.register
def _set_python_exiting():
    # multiprocessing's own atexit handler terminates our daemonic workers
    global _python_exiting
    _python_exiting = True


class _InfiniteConstantSampler(Sampler):
    """The "sampler" of an iterable dataset: workers ignore the indices, so None forever."""

    def __iter__(self):
        while True:
            yield None


def _mp_context(ctx):
    if ctx is None:
        # fork starts fast and accepts lambdas and local classes; elsewhere the platform default
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if sys.platform == "linux" and "fork" in methods else None)
    if isinstance(ctx, str):
        if ctx not in multiprocessing.get_all_start_methods():
            raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                             f"{multiprocessing.get_all_start_methods()!r}, but got multiprocessing_context={ctx!r}")
        return multiprocessing.get_context(ctx)
    if not hasattr(ctx, "Process"):
        raise TypeError(f"multiprocessing_context must be a start method name or a multiprocessing "
                        f"context, got {ctx!r}")
    return ctx


class DataLoader:
    """Iterate over ``dataset`` in batches (see torch.utils.data.DataLoader for every argument).

    ``pin_memory`` is accepted and ignored (there is no device memory to pin on CPU).
    """

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            if num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={num_workers}")
            _mp_context(multiprocessing_context)  # an unknown start method fails here, not later

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            for name, value, unset in (("shuffle", shuffle, shuffle in (None, False)),
                                       ("sampler", sampler, sampler is None),
                                       ("batch_sampler", batch_sampler, batch_sampler is None)):
                if not unset:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} "
                                     f"option, but got {name}={value}")
        else:
            self._dataset_kind = _DatasetKind.Map
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.prefetch_factor, self.timeout = num_workers, prefetch_factor, timeout
        self.pin_memory, self.pin_memory_device, self.in_order = pin_memory, pin_memory_device, in_order
        self.worker_init_fn, self.persistent_workers = worker_init_fn, persistent_workers
        self.multiprocessing_context = multiprocessing_context
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._iterator = None
        self.__initialized = True

    def __setattr__(self, name, value):
        if self.__initialized and name in self._FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if not (self.persistent_workers and self.num_workers > 0):
            return self._get_iterator()
        if self._iterator is None or self._iterator._shutdown:
            self._iterator = self._get_iterator()
        else:
            self._iterator._reset(self)
        return self._iterator

    def __len__(self):
        if self._dataset_kind == _DatasetKind.Iterable:
            n = len(self.dataset)  # TypeError when the dataset has no __len__, as in torch
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset, self._dataset_kind = loader.dataset, loader._dataset_kind
        self._auto_collation, self._drop_last = loader._auto_collation, loader.drop_last
        self._index_sampler, self._collate_fn = loader._index_sampler, loader.collate_fn
        self._num_workers, self._timeout = loader.num_workers, loader.timeout
        self._sampler_iter = iter(self._index_sampler)
        # drawn for every iterator, with or without workers, so both consume the generator alike
        self._base_seed = _draw_seed(loader.generator)
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0

    def _next_index(self):
        return next(self._sampler_iter)

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        return data

    def __len__(self):
        return len(self._index_sampler)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                       self._collate_fn, self._drop_last)

    def _next_data(self):
        return self._fetcher.fetch(self._next_index())  # StopIteration ends the epoch


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        self._shutdown, self._main_pid = True, os.getpid()  # nothing to shut down until workers exist
        super().__init__(loader)
        from ._worker import _worker_loop
        self._prefetch_factor, self._persistent = loader.prefetch_factor, loader.persistent_workers
        self._in_order = loader.in_order
        ctx = _mp_context(loader.multiprocessing_context)
        payload = (self._dataset, self._collate_fn, loader.worker_init_fn)
        if ctx.get_start_method() != "fork":  # pickle here, so a failure names its cause
            try:
                payload = _utils.dumps(payload)
            except Exception as e:
                raise RuntimeError(
                    f"DataLoader: with multiprocessing_context={ctx.get_start_method()!r} the dataset, "
                    f"collate_fn and worker_init_fn are pickled to reach the workers, and that failed "
                    f"({type(e).__name__}: {e}); define them at module level, or use the 'fork' "
                    f"context") from e
        self._data_queue, self._done_event = ctx.Queue(), ctx.Event()
        # indices travel on one pipe per worker: sent synchronously, so the main process
        # runs no feeder threads (forking other loaders' workers stays safe) and a None
        # sent at shutdown is never lost in a buffer
        self._workers, self._index_conns = [], []
        self._workers_status = [True] * self._num_workers
        self._shutdown = False
        try:
            for worker_id in range(self._num_workers):
                reader, writer = ctx.Pipe(duplex=False)
                w = ctx.Process(target=_worker_loop, daemon=True, args=(
                    self._dataset_kind, payload, reader, self._data_queue, self._done_event,
                    self._auto_collation, self._drop_last, self._base_seed, worker_id,
                    self._num_workers))
                w.start()
                reader.close()  # the worker's end: if the worker dies, sending fails instead of blocking
                self._index_conns.append(writer)
                self._workers.append(w)
            self._reset(loader, first_iter=True)
        except BaseException:
            self._shutdown_workers()
            raise

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        n = self._num_workers
        self._send_idx = self._rcvd_idx = self._tasks_outstanding = 0
        self._task_info = {}  # send index -> (worker_id,) or (worker_id, data) once it arrived
        self._workers_status = [True] * n
        self._workers_num_tasks = [0] * n
        self._worker_queue_idx_cycle = itertools.cycle(range(n))
        if not first_iter:  # persistent workers: drain the last epoch up to each worker's ack
            for i in range(n):
                self._send(i, _ResumeIteration())
            pending = n
            while pending:
                idx, _ = self._get_data()
                pending -= isinstance(idx, _ResumeIteration)
        for _ in range(self._prefetch_factor * n):
            self._try_put_index()

    def __next__(self):
        try:
            return super().__next__()
        except KeyboardInterrupt:
            self._shutdown_workers(grace=0.1)
            raise

    def _try_put_index(self):
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker (with room, if out of order)
            w = next(self._worker_queue_idx_cycle)
            if self._workers_status[w] and (
                    self._in_order or self._workers_num_tasks[w] < max_tasks // sum(self._workers_status)):
                break
        else:
            return
        self._send(w, (self._send_idx, index))
        self._task_info[self._send_idx] = (w,)
        self._workers_num_tasks[w] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _send(self, worker_id, message):
        try:
            self._index_conns[worker_id].send(message)
        except OSError:  # the worker closed its end: it died
            self._workers[worker_id].join(MP_STATUS_CHECK_INTERVAL)
            self._check_workers_alive()
            raise

    def _next_data(self):
        while True:
            # skip tasks of workers whose iterable dataset has ended
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:  # arrived earlier, out of order
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                if self._persistent:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    return self._process_data(data, self._task_info.pop(idx)[0])
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _process_data(self, data, worker_id):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _get_data(self):
        """The next (idx, data) from any worker; raises if a worker died or ``timeout`` passed."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = MP_STATUS_CHECK_INTERVAL
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            try:
                idx, payload = self._data_queue.get(timeout=wait)
            except queue.Empty:
                self._check_workers_alive()
                if deadline is not None and time.monotonic() >= deadline:
                    self._shutdown_workers(grace=0.1)
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds waiting "
                                       f"for a batch from its workers") from None
                continue
            return idx, (_utils.loads(payload) if payload is not None else None)

    def _check_workers_alive(self):
        failed = [w for i, w in enumerate(self._workers) if self._workers_status[i] and not w.is_alive()]
        if failed:
            pids = ", ".join(str(w.pid) for w in failed)
            codes = ", ".join(str(w.exitcode) for w in failed)
            self._shutdown_workers(grace=0.1)
            raise RuntimeError(
                f"DataLoader worker (pid(s) {pids}) exited unexpectedly with exit code(s) {codes} "
                f"(a negative code is the signal that killed it; -9 (SIGKILL) often means the system "
                f"ran out of memory)")

    def _mark_worker_as_unavailable(self, worker_id):
        self._index_conns[worker_id].send(None)  # the worker exits; joined at shutdown
        self._workers_status[worker_id] = False

    def _shutdown_workers(self, grace=2 * MP_STATUS_CHECK_INTERVAL + 0.5):
        """Stop and join the workers, terminating those still busy after ``grace`` seconds."""
        # a forked worker of another loader may garbage-collect its copy of this iterator
        if self._shutdown or _python_exiting or os.getpid() != self._main_pid:
            return
        self._shutdown = True
        try:
            self._done_event.set()  # workers poll it, so they stop even if a None gets lost
            for i in range(len(self._workers)):
                if self._persistent or self._workers_status[i]:
                    try:
                        self._mark_worker_as_unavailable(i)
                    except (ValueError, OSError):  # pipe already closed by its finalizer
                        pass
            deadline = time.monotonic() + grace
            for w in self._workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
            for c in self._index_conns:
                c.close()
        finally:
            for w in self._workers:
                if w.is_alive():  # stuck in a slow __getitem__: no need to wait for it
                    w.terminate()
            for w in self._workers:
                w.join(timeout=MP_STATUS_CHECK_INTERVAL * 5)
            self._data_queue.cancel_join_thread()
            self._data_queue.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:
            pass
