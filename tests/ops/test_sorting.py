import numpy as np
import pytest

import ember
from helpers import check_op, check_gradcheck, torch


def _ties(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).integers(0, 3, shape).astype(dtype)


@pytest.mark.parametrize("shape,dim", [((5,), -1), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((), 0),
                                       ((0, 3), 1), ((3, 0), 0)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(shape, dim, descending):
    check_op([shape], lambda x: x.sort(dim, descending))
    check_op([shape], lambda x: x.sort(dim=dim, descending=descending, stable=True), dtype=np.float64,
             noncontig=True)
    check_op([shape], lambda x: x.argsort(dim, descending=descending), grad=False)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.bool_])
def test_sort_stable_ties(descending, dtype):
    x = _ties((4, 9), dtype=dtype)
    check_op(None, lambda x: ember.sort(x, stable=True, dim=1, descending=descending),
             lambda x: torch.sort(x, stable=True, dim=1, descending=descending), inputs=[x], grad=False)
    check_op(None, lambda x: ember.argsort(x, 0, descending, stable=True),
             lambda x: torch.argsort(x, dim=0, descending=descending, stable=True), inputs=[x], grad=False)
    if dtype == np.float32:  # gradients scatter back to the right (tied) positions
        check_op(None, lambda x: ember.sort(x, stable=True, descending=descending),
                 lambda x: torch.sort(x, stable=True, descending=descending), inputs=[x])


def test_sort_nan_and_result_type():
    x = np.array([1.0, np.nan, -1.0, 3.0, np.nan], np.float32)
    for d in (False, True):
        check_op(None, lambda x: x.sort(descending=d, stable=True), inputs=[x], grad=False)
    r = ember.sort(ember.tensor([3.0, 1.0]))
    assert r.values.tolist() == [1.0, 3.0] and r.indices.tolist() == [1, 0] and r[0] is r.values
    assert r.indices.dtype == ember.int64 and not r.indices.requires_grad


def test_msort():
    check_op([(4, 3)], lambda x: x.msort())
    check_op([(4, 3)], lambda x: ember.msort(x), lambda x: torch.msort(x), noncontig=True)


@pytest.mark.parametrize("shape,k,dim", [((6,), 3, -1), ((6,), 6, 0), ((6,), 0, 0), ((3, 5), 2, 0),
                                         ((3, 5), 4, 1), ((2, 3, 4), 1, 1), ((), 1, 0), ((0, 4), 2, 1)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(shape, k, dim, largest):
    check_op([shape], lambda x: x.topk(k, dim, largest))
    check_op([shape], lambda x: x.topk(k, dim=dim, largest=largest, sorted=True), dtype=np.float64,
             noncontig=True)


def test_topk_unsorted():
    x = np.random.default_rng(0).permutation(20).astype(np.float32).reshape(2, 10)
    e, t = ember.topk(ember.tensor(x), 4, sorted=False), torch.topk(torch.tensor(x), 4, sorted=False)
    np.testing.assert_array_equal(np.sort(e.values.numpy(), 1), np.sort(t.values.numpy(), 1))
    np.testing.assert_array_equal(np.take_along_axis(x, e.indices.numpy(), 1), e.values.numpy())
    check_op(None, lambda x: x.topk(3), inputs=[np.array([5, 1, 9, 3, 7])], grad=False)


@pytest.mark.parametrize("shape,k,dim", [((6,), 3, -1), ((3, 5), 1, 0), ((3, 5), 5, 1), ((2, 3, 4), 2, 1),
                                         ((), 1, 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue(shape, k, dim, keepdim):
    check_op([shape], lambda x: x.kthvalue(k, dim, keepdim))
    check_op([shape], lambda x: x.kthvalue(k, dim=dim, keepdim=keepdim), dtype=np.float64, noncontig=True)


def test_selection_gradcheck():
    check_gradcheck([(3, 4)], lambda x: ember.sort(x, 0, descending=True).values)
    check_gradcheck([(3, 4)], lambda x: ember.topk(x, 2).values)
    check_gradcheck([(3, 4)], lambda x: ember.kthvalue(x, 2, 0).values)
    check_gradcheck([(3, 4)], lambda x: ember.kthvalue(x, 2, 1, keepdim=True).values)
    check_gradcheck([(5,)], lambda x: ember.msort(x))
    xs = [ember.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)]
    assert ember.autograd.gradgradcheck(lambda x: ember.topk(x * x, 2).values, xs)


UNIQUE_IN = [np.array([3, 1, 3, 2, 2, 5, 1]), np.array([[1, 2], [1, 2], [0, 5]]), np.array(4),
             np.array([], np.int64), np.array([2.5, -1.0, 2.5, np.nan, np.nan], np.float32),
             np.array([True, False, True])]


@pytest.mark.parametrize("x", UNIQUE_IN)
@pytest.mark.parametrize("inv,counts", [(False, False), (True, False), (False, True), (True, True)])
def test_unique(x, inv, counts):
    kw = dict(return_inverse=inv, return_counts=counts)
    check_op(None, lambda x: x.unique(**kw), inputs=[x], grad=False)
    check_op(None, lambda x: ember.unique(x, sorted=False, **kw) if isinstance(x, ember.Tensor)
             else torch.unique(x, sorted=False, **kw), inputs=[x], grad=False)
    check_op(None, lambda x: x.unique_consecutive(**kw), inputs=[x], grad=False)
    if x.ndim == 2:
        for d in (0, 1, -1):
            check_op(None, lambda x: x.unique(dim=d, **kw), inputs=[x], grad=False)
            check_op(None, lambda x: x.unique_consecutive(dim=d, **kw), inputs=[x], grad=False)


def test_unique_consecutive_runs():
    x = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    check_op(None, lambda x: ember.unique_consecutive(x, return_inverse=True, return_counts=True)
             if isinstance(x, ember.Tensor) else torch.unique_consecutive(x, return_inverse=True,
                                                                         return_counts=True),
             inputs=[x], grad=False)
    m = np.array([[1, 1, 2, 2], [3, 3, 0, 0]])
    check_op(None, lambda x: x.unique_consecutive(return_counts=True, dim=1), inputs=[m], grad=False)


def _ss(*a, **k):
    return lambda s, v: (ember.searchsorted if isinstance(s, ember.Tensor) else torch.searchsorted)(s, v, *a, **k)


@pytest.mark.parametrize("kw", [{}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}])
def test_searchsorted(kw):
    seq = np.array([1.0, 2.0, 2.0, 4.0, 7.0], np.float32)
    vals = np.array([[0.0, 2.0, 3.0], [7.0, 8.0, 4.0]], np.float32)
    check_op(None, _ss(**kw), inputs=[seq, vals], grad=False)
    bseq = np.sort(np.random.default_rng(0).integers(0, 9, (2, 3, 6)), -1)
    bvals = np.random.default_rng(1).integers(-1, 10, (2, 3, 4))
    check_op(None, _ss(**kw), inputs=[bseq, bvals], grad=False)
    check_op(None, _ss(**kw), inputs=[seq, np.zeros((0,), np.float32)], grad=False)


def test_searchsorted_scalar_and_sorter():
    seq = torch.tensor([1.0, 2.0, 4.0])
    assert ember.searchsorted(ember.tensor([1.0, 2.0, 4.0]), 3.0).tolist() == torch.searchsorted(seq, 3.0).tolist()
    unsorted = np.array([[4.0, 1.0, 3.0, 2.0]], np.float32)
    sorter = np.argsort(unsorted, -1)
    vals = np.array([[2.5, 0.0, 5.0]], np.float32)
    check_op(None, lambda s, v, o: ember.searchsorted(s, v, sorter=o) if isinstance(s, ember.Tensor)
             else torch.searchsorted(s, v, sorter=o), inputs=[unsorted, vals, sorter], grad=False)


@pytest.mark.parametrize("right", [False, True])
def test_bucketize(right):
    b = np.array([1, 3, 5, 7])
    x = np.array([[1, 6, 9], [3, 0, 5]])
    def bz(x, b):
        return (ember.bucketize if isinstance(x, ember.Tensor) else torch.bucketize)(x, b, right=right)
    check_op(None, bz, inputs=[x, b], grad=False)
    check_op(None, bz, inputs=[x.astype(np.float32) + 0.5, b.astype(np.float32)], grad=False)
    assert ember.bucketize(ember.tensor(4), ember.tensor(b), out_int32=True).dtype == ember.int32


@pytest.mark.parametrize("bins,lo,hi", [(5, 0, 0), (4, -1, 1), (3, 0.5, 0.5), (10, -3, 3)])
def test_histc(bins, lo, hi):
    x = np.random.default_rng(0).uniform(-2, 2, (4, 5)).astype(np.float32)
    x[0, 0], x[0, 1] = -1, 1  # exactly on edges
    check_op(None, lambda x: x.histc(bins, lo, hi), inputs=[x], grad=False)
    check_op(None, lambda x: x.histc(bins=bins, min=lo, max=hi), inputs=[x.astype(np.float64)], grad=False)
    check_op(None, lambda x: x.histc(bins, lo, hi), inputs=[np.zeros(0, np.float32)], grad=False)


ERRORS = [
    (lambda: ember.sort(ember.ones(2, 3), dim=2), IndexError, r"ember\.sort: dimension out of range"),
    (lambda: ember.argsort(ember.ones(3), dim=-2), IndexError, r"ember\.argsort: dimension"),
    (lambda: ember.topk(ember.ones(2, 3), 4), RuntimeError, r"ember\.topk: k \(4\) is out of range"),
    (lambda: ember.topk(ember.ones(3), -1), RuntimeError, r"ember\.topk: k"),
    (lambda: ember.kthvalue(ember.ones(3), 0), RuntimeError, r"ember\.kthvalue: k \(0\)"),
    (lambda: ember.kthvalue(ember.ones(3), 2, dim=1), IndexError, r"ember\.kthvalue: dimension"),
    (lambda: ember.unique(ember.ones(3), dim=1), IndexError, r"ember\.unique: dimension"),
    (lambda: ember.searchsorted(ember.ones(2, 3), ember.ones(3, 2)), RuntimeError, r"ember\.searchsorted: the leading"),
    (lambda: ember.searchsorted(ember.ones(3), ember.ones(2), side="middle"), ValueError, r"ember\.searchsorted: side"),
    (lambda: ember.searchsorted(ember.ones(3), ember.ones(2), side="left", right=True), RuntimeError,
     r"ember\.searchsorted: side='left'"),
    (lambda: ember.bucketize(ember.ones(3), ember.ones(2, 2)), RuntimeError, r"ember\.bucketize: boundaries"),
    (lambda: ember.histc(ember.ones(3, dtype=ember.int64)), TypeError, r"ember\.histc: expected a floating"),
    (lambda: ember.histc(ember.ones(3), min=2, max=1), RuntimeError, r"ember\.histc: max"),
    (lambda: ember.sort([3, 1]), TypeError, r"ember\.sort: expected a Tensor"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()
