"""DataLoader in the main process (num_workers=0): batches, lengths and argument checks vs torch."""
import numpy as np
import pytest

import ember
from ember.data import BatchSampler, DataLoader, Dataset, IterableDataset, SequentialSampler, TensorDataset
from data_fixtures import flat, same

torch = pytest.importorskip("torch")
tud = torch.utils.data


def make(T, base):
    """The same dataset for ember (T=ember) and torch (T=torch)."""
    class Dicts(base.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return {"x": T.full((2,), float(i)), "y": i, "s": str(i), "np": np.array([i, -i], dtype=np.int32)}
    return Dicts()


def make_iterable(T, base, n=7):
    class Stream(base.IterableDataset):
        def __len__(self):
            return n

        def __iter__(self):
            return iter((T.tensor([i, i * i]), float(i)) for i in range(n))
    return Stream()


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=7),
                                    dict(batch_size=10), dict(batch_size=None), dict(batch_size=1)])
def test_map_dataset_batches_match_torch(kwargs):
    e = DataLoader(make(ember, ember.data), **kwargs)
    t = tud.DataLoader(make(torch, tud), **kwargs)
    assert len(e) == len(t)
    e_batches, t_batches = list(e), list(t)
    assert len(e_batches) == len(t_batches)
    for a, b in zip(e_batches, t_batches):
        same(a, b)


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)])
def test_iterable_dataset_batches_match_torch(kwargs):
    e = DataLoader(make_iterable(ember, ember.data), **kwargs)
    t = tud.DataLoader(make_iterable(torch, tud), **kwargs)
    assert len(e) == len(t)
    for a, b in zip(list(e), list(t), strict=True):
        same(a, b)


def test_tensor_dataset_and_samplers_match_torch():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    e_ds = TensorDataset(ember.tensor(x), ember.arange(10))
    t_ds = tud.TensorDataset(torch.tensor(x), torch.arange(10))
    for kw_e, kw_t in [
        (dict(sampler=[9, 1, 4, 4]), dict(sampler=[9, 1, 4, 4])),
        (dict(batch_sampler=[[0, 5], [2], [7, 8, 9]]), dict(batch_sampler=[[0, 5], [2], [7, 8, 9]])),
        (dict(batch_sampler=BatchSampler(SequentialSampler(range(10)), 4, True)),
         dict(batch_sampler=tud.BatchSampler(tud.SequentialSampler(range(10)), 4, True))),
        (dict(batch_size=4, collate_fn=lambda b: len(b)), dict(batch_size=4, collate_fn=lambda b: len(b))),
    ]:
        for a, b in zip(list(DataLoader(e_ds, **kw_e)), list(tud.DataLoader(t_ds, **kw_t)), strict=True):
            same(a, b)


def test_shuffle_is_reproducible_with_manual_seed_and_generator():
    ds = TensorDataset(ember.arange(30))
    ember.manual_seed(0)
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=8, shuffle=True)]
    b = [b[0].tolist() for b in DataLoader(ds, batch_size=8, shuffle=True)]
    ember.manual_seed(0)
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=8, shuffle=True)] == a != b
    assert sorted(sum(a, [])) == list(range(30))
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=ember.Generator().manual_seed(3))
    first = flat(list(loader))
    assert flat(list(loader)) != first  # a new order each epoch
    loader2 = DataLoader(ds, batch_size=8, shuffle=True, generator=ember.Generator().manual_seed(3))
    assert flat(list(loader2)) == first


def test_getitems_is_used_for_batches():
    class Batched(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            return [i * 10 for i in indices]
    assert [b.tolist() for b in DataLoader(Batched(), batch_size=2)] == [[0, 10], [20, 30], [40]]


def test_iterable_dataset_without_len():
    class NoLen(IterableDataset):
        def __iter__(self):
            return iter(range(5))
    loader = DataLoader(NoLen(), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError):
        len(loader)


def _error(factory):
    with pytest.raises((ValueError, TypeError)) as err:
        factory()
    return type(err.value), str(err.value).replace(" L", " l")


@pytest.mark.parametrize("kwargs", [dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
                                    dict(persistent_workers=True), dict(sampler=[0], shuffle=True),
                                    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], drop_last=True),
                                    dict(batch_size=None, drop_last=True), dict(multiprocessing_context="spawn"),
                                    dict(num_workers=1, multiprocessing_context="nope")])
def test_argument_errors_match_torch(kwargs):
    e = _error(lambda: DataLoader(make(ember, ember.data), **kwargs))
    t = _error(lambda: tud.DataLoader(make(torch, tud), **kwargs))
    assert e[0] is t[0] and e[1].replace(". ", ".").lower() == t[1].replace(". ", ".").lower()


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])])
def test_iterable_dataset_argument_errors_match_torch(kwargs):
    e = _error(lambda: DataLoader(make_iterable(ember, ember.data), **kwargs))
    t = _error(lambda: tud.DataLoader(make_iterable(torch, tud), **kwargs))
    assert e == t


def test_frozen_attributes_and_utils_alias():
    loader = DataLoader(make(ember, ember.data), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    loader.num_workers = 0  # not frozen, as in torch
    import ember.utils.data as eud
    assert eud.DataLoader is DataLoader and eud.get_worker_info() is None
    assert DataLoader(range(3), pin_memory=True).pin_memory  # accepted; nothing to pin on CPU
