"""Samplers and dataset combinators: index sequences vs torch where deterministic, and
the properties that must hold where the random streams differ."""
import collections

import pytest

import ember
from ember.data import (BatchSampler, ChainDataset, ConcatDataset, DistributedSampler, IterableDataset,
                        RandomSampler, SequentialSampler, StackDataset, Subset, SubsetRandomSampler,
                        TensorDataset, WeightedRandomSampler, random_split)
from data_fixtures import Range

torch = pytest.importorskip("torch")
tud = torch.utils.data


def test_sequential_and_batch_sampler_match_torch():
    for n in (0, 1, 7, 10):
        assert list(SequentialSampler(range(n))) == list(tud.SequentialSampler(range(n)))
        for bs in (1, 3, 5, 11):
            for drop in (False, True):
                e = BatchSampler(SequentialSampler(range(n)), bs, drop)
                t = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
                assert list(e) == list(t) and len(e) == len(t)


@pytest.mark.parametrize("kwargs", [dict(batch_size=0, drop_last=False), dict(batch_size=True, drop_last=False),
                                    dict(batch_size=2.0, drop_last=False), dict(batch_size=2, drop_last=1)])
def test_batch_sampler_validation_matches_torch(kwargs):
    with pytest.raises(ValueError) as t_err:
        tud.BatchSampler(range(3), **kwargs)
    with pytest.raises(ValueError) as e_err:
        BatchSampler(range(3), **kwargs)
    assert str(e_err.value) == str(t_err.value)


def test_random_sampler_reproducible_with_manual_seed():
    ember.manual_seed(123)
    a = list(RandomSampler(range(20)))
    b = list(RandomSampler(range(20)))
    ember.manual_seed(123)
    assert list(RandomSampler(range(20))) == a and a != b
    assert sorted(a) == list(range(20))


def test_random_sampler_generator_and_replacement():
    g = ember.Generator().manual_seed(5)
    s = RandomSampler(range(10), generator=g)
    e1, e2 = list(s), list(s)
    assert e1 != e2 and sorted(e1) == sorted(e2) == list(range(10))  # the generator advances per epoch
    g.manual_seed(5)
    assert list(s) == e1
    r = list(RandomSampler(range(10), replacement=True, num_samples=70, generator=g))
    assert len(r) == 70 and set(r) <= set(range(10)) and len(set(r)) < 70
    many = list(RandomSampler(range(4), num_samples=10, generator=g))  # more than n without replacement
    assert len(many) == 10 and all(many.count(i) in (2, 3) for i in range(4))
    assert sorted(many[:4]) == sorted(many[4:8]) == list(range(4))


@pytest.mark.parametrize("kwargs,exc", [(dict(replacement=1), TypeError), (dict(num_samples=0), ValueError),
                                        (dict(num_samples=-1), ValueError)])
def test_random_sampler_validation_matches_torch(kwargs, exc):
    with pytest.raises(exc) as t_err:
        tud.RandomSampler(range(3), **kwargs)
    with pytest.raises(exc) as e_err:
        RandomSampler(range(3), **kwargs)
    assert str(e_err.value) == str(t_err.value)


def test_subset_random_sampler():
    idx = [3, 8, 11, 20]
    a = list(SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(1)))
    assert sorted(a) == idx and len(SubsetRandomSampler(idx)) == 4
    assert a == list(SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(1)))


def test_weighted_random_sampler():
    g = ember.Generator().manual_seed(0)
    w = [0.0, 1.0, 0.0, 3.0]
    draws = list(WeightedRandomSampler(w, 400, generator=g))
    counts = collections.Counter(draws)
    assert set(counts) == {1, 3} and counts[3] > 2 * counts[1]
    no_rep = list(WeightedRandomSampler([1, 1, 1, 1, 1], 5, replacement=False, generator=g))
    assert sorted(no_rep) == list(range(5))
    assert len(WeightedRandomSampler(w, 7)) == 7
    for kwargs in (dict(weights=[[1.0, 2.0]], num_samples=2), dict(weights=[1.0], num_samples=0),
                   dict(weights=[1.0], num_samples=1, replacement=0)):
        with pytest.raises(ValueError) as t_err:
            tud.WeightedRandomSampler(**kwargs)
        with pytest.raises(ValueError) as e_err:
            WeightedRandomSampler(**kwargs)
        assert str(e_err.value).split(" but")[0] == str(t_err.value).split(" but")[0]


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, False),
                                                  (1, 3, False), (11, 4, True), (7, 1, False)])
def test_distributed_sampler_partitions_match_torch(n, replicas, drop_last):
    ds = list(range(n))
    for rank in range(replicas):
        e = DistributedSampler(ds, replicas, rank, shuffle=False, drop_last=drop_last)
        t = tud.DistributedSampler(ds, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(e) == list(t) and len(e) == len(t) and e.total_size == t.total_size


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 4, False), (12, 4, False)])
def test_distributed_sampler_shuffled_properties(n, replicas, drop_last):
    ds = list(range(n))
    parts = [list(DistributedSampler(ds, replicas, r, seed=7, drop_last=drop_last)) for r in range(replicas)]
    t_len = len(tud.DistributedSampler(ds, replicas, 0, seed=7, drop_last=drop_last))
    assert all(len(p) == t_len for p in parts)
    everything = sum(parts, [])
    if drop_last:  # the tail is dropped: no repeats
        assert len(set(everything)) == len(everything) == t_len * replicas
    else:  # every index at least once; the padding repeats the start of the shuffled list
        assert set(everything) == set(ds)
        assert len(everything) - len(set(everything)) == t_len * replicas - n


def test_distributed_sampler_epochs_and_errors():
    s0, s1 = (DistributedSampler(range(20), 2, r, seed=3) for r in range(2))
    first = list(s0)
    assert list(s0) == first  # same epoch, same order
    s0.set_epoch(1)
    s1.set_epoch(1)
    assert list(s0) != first and sorted(list(s0) + list(s1)) == list(range(20))
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="num_replicas and rank"):
        DistributedSampler(range(4))


def test_tensor_concat_subset_stack_datasets():
    x, y = ember.arange(10.0).reshape(5, 2), ember.arange(5)
    td = TensorDataset(x, y)
    assert len(td) == 5 and td[2][0].tolist() == [4.0, 5.0] and td[2][1].item() == 2
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, ember.arange(4))
    cat = ConcatDataset([range(3), range(10, 14)])
    t_cat = tud.ConcatDataset([range(3), range(10, 14)])
    assert [cat[i] for i in range(-7, 7)] == [t_cat[i] for i in range(-7, 7)]
    assert cat.cumulative_sizes == t_cat.cumulative_sizes and len(cat) == 7
    with pytest.raises(ValueError, match="absolute value of index"):
        cat[-8]
    assert isinstance(td + td, ConcatDataset) and len(td + td) == 10
    sub = Subset(range(100, 110), [9, 0, 4])
    assert [sub[i] for i in range(3)] == [109, 100, 104] and sub.__getitems__([2, 0]) == [104, 109]
    st = StackDataset(range(3), range(10, 13))
    assert st[1] == (1, 11) and st.__getitems__([0, 2]) == [(0, 10), (2, 12)]
    sd = StackDataset(a=range(3), b=Subset(range(10), [5, 6, 7]))
    assert sd[2] == {"a": 2, "b": 7} and sd.__getitems__([1]) == [{"a": 1, "b": 6}]
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(range(3), range(4))


def test_chain_dataset():
    ch = ChainDataset([Range(0, 3), Range(10, 12)])
    assert list(ch) == [0, 1, 2, 10, 11] and len(ch) == 5
    assert isinstance(Range(0, 1) + Range(1, 2), ChainDataset)
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(ChainDataset([range(3)]))
    assert issubclass(Range, IterableDataset)


@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.9]),
                                       (30, [0.2, 0.2, 0.2, 0.2, 0.2])])
def test_random_split_sizes_match_torch(n, lengths):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = random_split(range(n), lengths, generator=ember.Generator().manual_seed(0))
        t = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in e] == [len(s) for s in t]
    everything = [i for s in e for i in s]
    assert sorted(everything) == list(range(n))
    again = random_split(range(n), lengths, generator=ember.Generator().manual_seed(0))
    assert [list(s) for s in again] == [list(s) for s in e]


def test_random_split_errors_and_default_generator():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [0.1, 0.1, 0.8])
    ember.manual_seed(4)
    a = [list(s) for s in random_split(range(8), [4, 4])]
    ember.manual_seed(4)
    assert [list(s) for s in random_split(range(8), [4, 4])] == a
