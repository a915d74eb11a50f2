"""Embedding, EmbeddingBag, F.embedding, F.embedding_bag and F.one_hot against torch."""
import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.functional as F
from ember.autograd import gradgradcheck
from helpers import check_op, check_gradcheck, check_module, make_inputs, torch

TF = torch.nn.functional
DT = [np.float32, np.float64]
IDX2 = np.array([[1, 2, 4, 5], [4, 3, 2, 9]])
FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 9, 2, 2])
OFFSETS = np.array([0, 3, 3, 7])           # bag 1 is empty
OFFSETS_LAST = np.array([0, 3, 3, 7, 10])  # include_last_offset=True form


# --- embedding -----------------------------------------------------------------------------
@pytest.mark.parametrize("idx", [IDX2, FLAT, np.array(3), np.zeros((0,), np.int64), np.array([[[0, 9]]]),
                                 IDX2.astype(np.int32)])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_functional_embedding(idx, padding_idx):
    check_op([(10, 3), idx], lambda w, i: F.embedding(i, w, padding_idx=padding_idx),
             lambda w, i: TF.embedding(i, w, padding_idx=padding_idx))


@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_scale_grad_by_freq(padding_idx):
    check_op([(10, 3), IDX2], lambda w, i: F.embedding(i, w, padding_idx, scale_grad_by_freq=True),
             lambda w, i: TF.embedding(i, w, padding_idx, scale_grad_by_freq=True))


def test_embedding_gradcheck_and_double_backward():
    check_gradcheck([(10, 3), IDX2], lambda w, i: F.embedding(i, w))
    w = ember.tensor(make_inputs([(10, 3)], np.float64)[0], requires_grad=True)
    idx = ember.tensor(IDX2)
    assert gradgradcheck(lambda w: F.embedding(idx, w), [w])
    assert gradgradcheck(lambda w: F.embedding(idx, w, padding_idx=2, scale_grad_by_freq=True), [w])


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 0}, {"padding_idx": -2}, {"scale_grad_by_freq": True}])
def test_embedding_module(kw, dtype):
    e, t = nn.Embedding(10, 4, **kw), torch.nn.Embedding(10, 4, **kw)
    assert repr(e) == repr(t) and e.padding_idx == t.padding_idx
    check_module(e, t, [IDX2], dtype=dtype)


def test_embedding_sparse_flag_gives_dense_grad():
    e, t = nn.Embedding(10, 4, sparse=True), torch.nn.Embedding(10, 4, sparse=True)
    assert repr(e) == repr(t)
    check_module(e, t, [IDX2], grad=False)
    e(ember.tensor(IDX2)).sum().backward()
    t(torch.tensor(IDX2)).sum().backward()
    np.testing.assert_allclose(e.weight.grad.numpy(), t.weight.grad.to_dense().numpy())


def test_embedding_init_padding_row_and_stats():
    ember.manual_seed(0)
    m = nn.Embedding(2000, 8, padding_idx=3)
    w = m.weight.detach().numpy()
    assert (w[3] == 0).all() and w.std() == pytest.approx(1.0, abs=0.03)
    assert m.weight.requires_grad and list(m.state_dict()) == ["weight"]
    out = m(ember.tensor([3, 3, 5]))
    out.sum().backward()
    g = m.weight.grad.numpy()
    assert (g[3] == 0).all() and (g[5] == 1).all()


def test_embedding_max_norm():
    for norm_type in (2.0, 1.0):
        e, t = nn.Embedding(10, 4, max_norm=1.0, norm_type=norm_type), \
            torch.nn.Embedding(10, 4, max_norm=1.0, norm_type=norm_type)
        e.load_state_dict({"weight": t.weight.detach().numpy() * 3})
        with torch.no_grad():
            t.weight.mul_(3)
        assert repr(e) == repr(t)
        check_module(e, t, [IDX2], load=False)
        np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-6)


def test_embedding_from_pretrained():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    e = nn.Embedding.from_pretrained(ember.tensor(w))
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert not e.weight.requires_grad and repr(e) == repr(t)
    np.testing.assert_array_equal(e(ember.tensor([1, 3])).numpy(), t(torch.tensor([1, 3])).numpy())
    e = nn.Embedding.from_pretrained(ember.tensor(w), freeze=False, padding_idx=1)
    assert e.weight.requires_grad and (e.weight.detach().numpy()[1] == [3, 4, 5]).all()  # row kept
    with pytest.raises(ValueError, match="ember.nn.Embedding.from_pretrained"):
        nn.Embedding.from_pretrained(ember.zeros(3))


def test_embedding_errors():
    w = ember.randn(5, 3)
    with pytest.raises(IndexError, match="ember.embedding: index 5 is out of range"):
        F.embedding(ember.tensor([1, 5]), w)
    with pytest.raises(IndexError, match="ember.embedding: index -1"):
        F.embedding(ember.tensor([-1]), w)
    with pytest.raises(TypeError, match="ember.embedding: expected an integer"):
        F.embedding(ember.tensor([1.0]), w)
    with pytest.raises(ValueError, match="ember.embedding: padding_idx"):
        F.embedding(ember.tensor([1]), w, padding_idx=5)
    with pytest.raises(ValueError, match="ember.nn.Embedding: padding_idx"):
        nn.Embedding(5, 3, padding_idx=-6)
    with pytest.raises(ValueError, match="ember.nn.Embedding: shape of weight"):
        nn.Embedding(5, 3, _weight=ember.zeros(4, 3))


# --- embedding_bag -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_functional_embedding_bag(mode, padding_idx):
    kw = dict(mode=mode, padding_idx=padding_idx)
    check_op([(10, 3), FLAT, OFFSETS], lambda w, i, o: F.embedding_bag(i, w, o, **kw),
             lambda w, i, o: TF.embedding_bag(i, w, o, **kw))
    check_op([(10, 3), FLAT, OFFSETS_LAST], lambda w, i, o: F.embedding_bag(i, w, o, include_last_offset=True, **kw),
             lambda w, i, o: TF.embedding_bag(i, w, o, include_last_offset=True, **kw))
    check_op([(10, 3), IDX2], lambda w, i: F.embedding_bag(i, w, **kw), lambda w, i: TF.embedding_bag(i, w, **kw))


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq(mode):
    """torch's CPU embedding_bag divides some rows by another index's count (a gradient with
    sum rows of [1, 1, 4, 1, 2, 1] comes back scaled by 1/4 for rows 3-5); the documented
    meaning -- each row's gradient divided by its index's frequency in the batch, as
    F.embedding does -- is the reference: torch's embedding followed by the bag sums."""
    def ref(w, i, o):
        rows = TF.embedding(i, w, scale_grad_by_freq=True)
        bag = torch.searchsorted(o, torch.arange(i.numel()), right=True) - 1
        out = torch.zeros(o.numel(), w.shape[1], dtype=w.dtype).index_add(0, bag, rows)
        if mode == "mean":
            out = out / torch.bincount(bag, minlength=o.numel()).clamp(min=1).unsqueeze(-1)
        return out
    check_op([(10, 3), FLAT, OFFSETS], lambda w, i, o: F.embedding_bag(i, w, o, mode=mode, scale_grad_by_freq=True),
             ref)


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_per_sample_weights(padding_idx):
    check_op([(10, 3), FLAT, OFFSETS, (10,)],
             lambda w, i, o, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p, padding_idx=padding_idx),
             lambda w, i, o, p: TF.embedding_bag(i, w, o, mode="sum", per_sample_weights=p, padding_idx=padding_idx))
    check_op([(10, 3), IDX2, (2, 4)],
             lambda w, i, p: F.embedding_bag(i, w, mode="sum", per_sample_weights=p),
             lambda w, i, p: TF.embedding_bag(i, w, mode="sum", per_sample_weights=p))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_empty_input_and_ties(mode):
    empty = np.zeros((0,), np.int64)
    check_op([(10, 3), empty, np.array([0, 0])], lambda w, i, o: F.embedding_bag(i, w, o, mode=mode),
             lambda w, i, o: TF.embedding_bag(i, w, o, mode=mode))
    tied = np.ones((4, 3), np.float32)  # max ties go to the first entry, as torch
    check_op([tied, np.array([0, 1, 2, 3]), np.array([0, 2])], lambda w, i, o: F.embedding_bag(i, w, o, mode=mode),
             lambda w, i, o: TF.embedding_bag(i, w, o, mode=mode))


def test_embedding_bag_gradcheck():
    for mode in ("sum", "mean", "max"):
        check_gradcheck([(10, 3), FLAT, OFFSETS], lambda w, i, o: F.embedding_bag(i, w, o, mode=mode))
    check_gradcheck([(10, 3), FLAT, OFFSETS, (10,)],
                    lambda w, i, o, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p))


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("kw", [{}, {"mode": "sum"}, {"mode": "max"}, {"padding_idx": 1}, {"max_norm": 1.5},
                                {"mode": "sum", "norm_type": 1.0, "max_norm": 2.0}])
def test_embedding_bag_module(kw, dtype):
    e, t = nn.EmbeddingBag(10, 4, **kw), torch.nn.EmbeddingBag(10, 4, **kw)
    assert repr(e) == repr(t)
    check_module(e, t, [FLAT, OFFSETS], dtype=dtype)
    check_module(e, t, [IDX2], dtype=dtype, load=False)


def test_embedding_bag_module_repr_scale_grad_by_freq():
    kw = dict(mode="sum", norm_type=1.0, scale_grad_by_freq=True)
    assert repr(nn.EmbeddingBag(10, 4, **kw)) == repr(torch.nn.EmbeddingBag(10, 4, **kw))


def test_embedding_bag_module_per_sample_weights_and_pretrained():
    e, t = nn.EmbeddingBag(10, 4, mode="sum"), torch.nn.EmbeddingBag(10, 4, mode="sum")
    check_module(e, t, [FLAT, OFFSETS, (10,)])
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    e = nn.EmbeddingBag.from_pretrained(ember.tensor(w), mode="max")
    t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), mode="max")
    assert not e.weight.requires_grad and repr(e) == repr(t)
    np.testing.assert_array_equal(e(ember.tensor([[0, 3], [1, 2]])).numpy(), t(torch.tensor([[0, 3], [1, 2]])).numpy())


def test_embedding_bag_errors():
    w = ember.randn(5, 3)
    with pytest.raises(ValueError, match="ember.embedding_bag: offsets has to be a 1D tensor but got None"):
        F.embedding_bag(ember.tensor([1, 2]), w)
    with pytest.raises(ValueError, match="ember.embedding_bag: if input is 2D, then offsets has to be None"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match="ember.embedding_bag: mode has to be one of"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, mode="min")
    with pytest.raises(NotImplementedError, match="ember.embedding_bag: per_sample_weights"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, per_sample_weights=ember.ones(1, 2))
    with pytest.raises(ValueError, match="ember.embedding_bag: per_sample_weights of shape"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, mode="sum", per_sample_weights=ember.ones(2))
    with pytest.raises(ValueError, match="ember.embedding_bag: offsets must start at 0"):
        F.embedding_bag(ember.tensor([1, 2]), w, ember.tensor([1]))
    with pytest.raises(ValueError, match="ember.embedding_bag: max mode does not support"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, mode="max", scale_grad_by_freq=True)
    with pytest.raises(IndexError, match="ember.embedding_bag: index 7"):
        F.embedding_bag(ember.tensor([[1, 7]]), w)


# --- one_hot ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_classes", [-1, 12])
def test_one_hot(num_classes):
    check_op([IDX2], lambda i: F.one_hot(i, num_classes), lambda i: TF.one_hot(i, num_classes))
    check_op([IDX2], lambda i: F.one_hot(i, num_classes=num_classes), lambda i: TF.one_hot(i, num_classes=num_classes))
