"""DataLoader with worker processes: same batches as in-process, sharding of iterable datasets,
per-worker seeding, errors and deaths surfacing in the main process, and no process left behind."""
import gc
import math
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest

import ember
from ember.data import DataLoader, TensorDataset
from data_fixtures import (Boom, DiesAt, Info, Range, RandomSample, Sleepy, Squares, WorkerTagged, flat,
                           record_worker_init)


@pytest.fixture(autouse=True)
def no_leftover_workers():
    yield
    if multiprocessing.active_children():  # an iterator kept alive by a cycle (a failed test's traceback)
        gc.collect()
    assert multiprocessing.active_children() == []


def batches(seed, **kwargs):
    ember.manual_seed(seed)
    return flat(list(DataLoader(Squares(), **kwargs)))


@pytest.mark.parametrize("kwargs", [dict(batch_size=5, shuffle=True), dict(batch_size=4, shuffle=True, drop_last=True),
                                    dict(batch_size=None, shuffle=True), dict(batch_size=3, prefetch_factor=1),
                                    dict(batch_size=2, shuffle=True, num_workers=3, prefetch_factor=4)])
def test_workers_give_the_same_batches_as_the_main_process(kwargs):
    kwargs = dict(kwargs)
    workers = kwargs.pop("num_workers", 2)
    serial = batches(0, **{k: v for k, v in kwargs.items() if k != "prefetch_factor"})
    assert batches(0, num_workers=workers, **kwargs) == serial
    assert multiprocessing.active_children() == []  # joined at the end of the epoch, no gc needed
    if kwargs.get("shuffle"):
        assert batches(1, num_workers=workers, **kwargs) != serial


def test_worker_info_and_prefetch_depth():
    got = list(DataLoader(Info(), batch_size=None, num_workers=2))
    assert [g[:3] for g in got] == [[0, 2, "Info"], [1, 2, "Info"]] * 2
    assert got[0][3] != got[1][3] != os.getpid()
    it = iter(DataLoader(Squares(), batch_size=1, num_workers=2, prefetch_factor=3))
    assert it._send_idx - it._rcvd_idx == 6  # prefetch_factor * num_workers batches in flight
    for _ in range(3):
        next(it)
        assert it._send_idx - it._rcvd_idx == 6 and it._tasks_outstanding <= 6
    del it


def test_out_of_order_delivery_gives_the_same_batches():
    ordered = batches(0, batch_size=3, shuffle=True)
    got = batches(0, batch_size=3, shuffle=True, num_workers=2, in_order=False)
    assert sorted(map(str, got)) == sorted(map(str, ordered))


def test_spawn_context_with_tensor_dataset():
    ds = TensorDataset(ember.arange(12.0).reshape(6, 2), ember.arange(6))
    serial = flat(list(DataLoader(ds, batch_size=4)))
    assert flat(list(DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn"))) == serial


def test_spawn_rejects_unpicklable_dataset_clearly():
    ds = TensorDataset(ember.arange(4))
    with pytest.raises(RuntimeError, match="pickled to reach the workers"):
        iter(DataLoader(ds, num_workers=1, collate_fn=lambda b: b, multiprocessing_context="spawn"))


def test_iterable_dataset_sharded_with_get_worker_info_matches_torch():
    torch = pytest.importorskip("torch")
    tud = torch.utils.data

    class TRange(tud.IterableDataset):
        def __init__(self, start, end):
            self.start, self.end = start, end

        def __iter__(self):
            info = tud.get_worker_info()
            per = math.ceil((self.end - self.start) / info.num_workers)
            lo = self.start + info.id * per
            return iter(range(lo, min(lo + per, self.end)))

    for kwargs in (dict(batch_size=2), dict(batch_size=2, drop_last=True), dict(batch_size=None)):
        e = [getattr(b, "tolist", lambda: b)() for b in DataLoader(Range(3, 20), num_workers=2, **kwargs)]
        t = [getattr(b, "tolist", lambda: b)() for b in tud.DataLoader(TRange(3, 20), num_workers=2, **kwargs)]
        assert e == t
    assert sorted(sum([b.tolist() for b in DataLoader(Range(3, 20), num_workers=3, batch_size=4)], [])) == \
        list(range(3, 20))


def test_iterable_dataset_without_sharding_is_replicated_per_worker():
    got = list(DataLoader(WorkerTagged(), num_workers=2, batch_size=2))
    wids = [w for b in got for w in b[0].tolist()]
    assert sorted(wids) == [0] * 5 + [1] * 5
    assert [b[0].tolist() for b in got[:2]] == [[0, 0], [1, 1]]  # round-robin between workers


def test_per_worker_seeding_and_worker_init_fn():
    def run(**kw):
        ember.manual_seed(42)
        return [tuple(s) for s in DataLoader(RandomSample(), batch_size=None, num_workers=2, **kw)]
    a, b = run(), run()
    assert a == b  # reproducible from ember.manual_seed
    seeds = [s[2] for s in a]
    assert seeds[1] == seeds[0] + 1 and seeds[::2] == [seeds[0]] * 4  # base_seed + worker_id
    assert a[0][0] != a[1][0] and a[0][1] != a[1][1]  # ember's and NumPy's RNGs differ per worker
    ember.manual_seed(43)
    assert [s[2] for s in DataLoader(RandomSample(), batch_size=None, num_workers=2)][0] != seeds[0]
    c = run(worker_init_fn=record_worker_init)
    assert c[0][1] == np.random.RandomState(1000).rand() and c[1][1] == np.random.RandomState(1001).rand()
    g = run(generator=ember.Generator().manual_seed(9))
    assert g == run(generator=ember.Generator().manual_seed(9)) and g[0][2] != seeds[0]


def test_worker_exception_surfaces_with_its_traceback():
    it = iter(DataLoader(Boom(), batch_size=None, num_workers=2))
    got = [next(it) for _ in range(7)]
    assert got == list(range(7))
    with pytest.raises(ValueError) as err:
        next(it)
    msg = str(err.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.\nOriginal Traceback")
    assert "data_fixtures.py" in msg and "bad sample 7" in msg
    assert next(it) == 8  # the iterator goes on, as torch's does
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1"):
        next(it)
    del it, err


def test_workers_stop_as_soon_as_the_exception_is_dropped():
    gc.disable()  # no cycle keeps the iterator alive: plain reference counting frees it
    try:
        try:
            list(DataLoader(Boom(), batch_size=2, num_workers=2))
        except ValueError:
            pass
        assert multiprocessing.active_children() == []
    finally:
        gc.enable()


def test_worker_init_fn_exception_surfaces():
    def bad_init(worker_id):
        raise RuntimeError(f"init failed in {worker_id}")
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0"):
        list(DataLoader(range(4), num_workers=2, worker_init_fn=bad_init))


def test_unpicklable_batch_is_an_error_not_a_hang():
    with pytest.raises(Exception, match="DataLoader worker process 0"):
        list(DataLoader(range(4), num_workers=1, collate_fn=lambda b: (lambda: b)))


def test_dead_worker_raises_quickly():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(DataLoader(DiesAt(5), batch_size=2, num_workers=2))
    assert time.monotonic() - start < 10
    assert multiprocessing.active_children() == []  # the survivors were shut down too


def test_sigkilled_worker_raises():
    it = iter(DataLoader(Sleepy(0.05), batch_size=1, num_workers=2))
    next(it)
    os.kill(it._workers[1].pid, signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="exited unexpectedly with exit code\\(s\\) -9"):
        list(it)
    assert time.monotonic() - start < 10
    del it


def test_timeout():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Sleepy(2.0), num_workers=1, timeout=0.2))
    assert time.monotonic() - start < 5


def test_keyboard_interrupt_shuts_workers_down():
    def interrupt(*_):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        it = iter(DataLoader(Sleepy(1.0), num_workers=2))
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            next(it)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert multiprocessing.active_children() == []
    del it


def test_deleting_a_half_consumed_iterator_stops_its_workers():
    it = iter(DataLoader(Squares(), batch_size=2, num_workers=2))
    next(it)
    assert len(multiprocessing.active_children()) == 2
    del it
    assert multiprocessing.active_children() == []


def test_persistent_workers():
    loader = DataLoader(Squares(12), batch_size=4, num_workers=2, persistent_workers=True, shuffle=True)
    ember.manual_seed(0)
    e1 = flat(list(loader))
    pids = [w.pid for w in loader._iterator._workers]
    e2 = flat(list(loader))
    assert [w.pid for w in loader._iterator._workers] == pids and e1 != e2
    assert sorted(y for b in e2 for y in b["y"][1]) == list(range(12))
    it = iter(loader)
    next(it)
    assert len(flat(list(loader))) == 3  # a new epoch starts cleanly after an abandoned one
    stream = DataLoader(Range(0, 10), batch_size=3, num_workers=2, persistent_workers=True)
    assert flat(list(stream)) == flat(list(stream))
    del loader, it, stream
    assert multiprocessing.active_children() == []


def test_dataset_tensors_and_worker_created_tensors_cross_processes():
    ds = TensorDataset(ember.randn(6, 3), ember.arange(6).to(ember.bfloat16), ember.ones(6, requires_grad=True))
    serial, workers = list(DataLoader(ds, batch_size=4)), list(DataLoader(ds, batch_size=4, num_workers=2))
    for b_serial, b_workers in zip(serial, workers, strict=True):
        for a, b in zip(b_serial, b_workers, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a.float().detach().numpy(), b.float().detach().numpy())
