"""default_collate / default_convert against torch.utils.data's on the same structures."""
import collections

import numpy as np
import pytest

import ember
from ember.data import default_collate, default_convert
from data_fixtures import same

torch = pytest.importorskip("torch")
from torch.utils.data import default_collate as t_collate, default_convert as t_convert  # noqa: E402

Point = collections.namedtuple("Point", ["x", "y"])


def samples(T):
    """Batches built with tensor constructor ``T`` (ember.tensor or torch.tensor)."""
    return {
        "tensors": [T([1.0, 2.0]), T([3.0, 4.0])],
        "int_tensors": [T([[1, 2]]), T([[3, 4]])],
        "scalars": [T(1.5), T(2.5)],
        "ints": [1, 2, 3],
        "floats": [0.5, 1.5],
        "bools": [True, False],
        "mixed_int_bool": [True, 2],
        "strings": ["a", "bc"],
        "bytes": [b"a", b"b"],
        "np_arrays": [np.arange(3, dtype=np.float32), np.ones(3, dtype=np.float32)],
        "np_int32": [np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)],
        "np_scalars": [np.float32(1), np.float32(2)],
        "np_mixed_scalars": [np.int32(1), np.float32(2.5)],
        "np_int_scalars": [np.int64(4), np.int64(5)],
        "tuples": [(T([1.0]), 1, "a"), (T([2.0]), 2, "b")],
        "lists": [[1, 2.0], [3, 4.0]],
        "dicts": [{"img": T([1.0, 2.0]), "label": 0, "meta": {"id": "x", "w": 0.5}},
                  {"img": T([3.0, 4.0]), "label": 1, "meta": {"id": "y", "w": 1.5}}],
        "namedtuples": [Point(T([1]), 1.0), Point(T([2]), 2.0)],
        "nested": [[(np.zeros(2), {"k": [1, "s"]})], [(np.ones(2), {"k": [2, "t"]})]],
        "ordered": [collections.OrderedDict(b=1, a=2.0), collections.OrderedDict(b=3, a=4.0)],
    }


@pytest.mark.parametrize("name", list(samples(ember.tensor)))
def test_default_collate_matches_torch(name):
    same(default_collate(samples(ember.tensor)[name]), t_collate(samples(torch.tensor)[name]))


@pytest.mark.parametrize("name", list(samples(ember.tensor)))
def test_default_convert_matches_torch(name):
    for e, t in zip(samples(ember.tensor)[name], samples(torch.tensor)[name]):
        same(default_convert(e), t_convert(t))


def test_collate_errors_match_torch():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])
    s = np.array(["a"])
    assert default_convert(s) is s  # string arrays pass through, as in torch


def test_collate_fn_map_extension():
    from ember.data import collate, default_collate_fn_map

    class Box:
        def __init__(self, v):
            self.v = v

    fn_map = {**default_collate_fn_map, Box: lambda batch, *, collate_fn_map: sum(b.v for b in batch)}
    assert collate([{"b": Box(1), "n": 1}, {"b": Box(2), "n": 2}], collate_fn_map=fn_map)["b"] == 3
