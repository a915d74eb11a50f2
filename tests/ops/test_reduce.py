import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
import numpy as np
import pytest

import ember
from helpers import check_op, check_gradcheck, torch

INF = float("inf")


def both(shapes, f, **kw):
    """check_op with ``f(module, *tensors)`` run as ember and as torch."""
    return check_op(shapes, lambda *a: f(ember, *a), lambda *a: f(torch, *a), **kw)


# --- sums, means, products ---------------------------------------------------------------------
SUMS = {
    "sum": lambda M, x: x.sum(),
    "sum_dim": lambda M, x: M.sum(x, 1),
    "sum_neg_keep": lambda M, x: x.sum(-1, keepdim=True),
    "sum_tuple": lambda M, x: x.sum((0, 2)),
    "sum_tuple_keep": lambda M, x: M.sum(x, dim=(0, -1), keepdim=True),
    "sum_empty_list": lambda M, x: x.sum(dim=[]),
    "sum_dtype": lambda M, x: M.sum(x, 1, dtype=M.float64),
    "mean": lambda M, x: x.mean(),
    "mean_dim": lambda M, x: M.mean(x, -2),
    "mean_tuple_keep": lambda M, x: x.mean((1, 2), keepdim=True),
    "mean_dtype": lambda M, x: x.mean(0, dtype=M.float64),
    "nansum": lambda M, x: M.nansum(x, (0, 2)),
    "nanmean": lambda M, x: M.nanmean(x, 1, keepdim=True),
    "prod": lambda M, x: x.prod(),
    "prod_dim": lambda M, x: M.prod(x, 1),
    "prod_neg_keep": lambda M, x: x.prod(-1, keepdim=True),
}


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("name", list(SUMS))
def test_sums(name, noncontig):
    both([(3, 4, 5)], SUMS[name], low=0.5 if "prod" in name else -2.0, noncontig=noncontig)


@pytest.mark.parametrize("name", ["sum_tuple", "mean_tuple_keep", "prod_dim", "nanmean"])
def test_sums_float64(name):
    both([(3, 4, 5)], SUMS[name], dtype=np.float64)


def test_nan_sums():
    a = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, 3.0]], np.float32)
    for f in (lambda M, x: M.nansum(x), lambda M, x: M.nansum(x, 0), lambda M, x: M.nanmean(x, 1),
              lambda M, x: x.nanmean(), lambda M, x: x.sum(1)):
        both(None, f, inputs=[a])


def test_prod_zeros():
    a = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.5, 2.0, -1.0]], np.float64)
    for f in (lambda M, x: x.prod(1), lambda M, x: x.prod(0, keepdim=True), lambda M, x: x.prod()):
        both(None, f, inputs=[a], dtype=np.float64)
    both(None, lambda M, x: x.prod(), inputs=[a[2:]], dtype=np.float64)


@pytest.mark.parametrize("dt", [np.int32, np.int64, np.uint8, np.bool_, np.float16])
def test_sum_prod_dtypes(dt):
    a = np.random.default_rng(0).integers(0, 3, (3, 4)).astype(dt)
    for f in (lambda M, x: x.sum(), lambda M, x: x.sum(0), lambda M, x: x.prod(1),
              lambda M, x: M.cumsum(x, 1), lambda M, x: x.nansum(1)):
        both(None, f, inputs=[a], grad=False, rtol=1e-3, atol=1e-3)


# --- 0-d and empty inputs -----------------------------------------------------------------------------
SCALAR = [
    lambda M, x: x.sum(), lambda M, x: x.sum(0), lambda M, x: x.sum(-1, keepdim=True),
    lambda M, x: x.mean(0), lambda M, x: x.prod(0), lambda M, x: x.prod(), lambda M, x: x.max(),
    lambda M, x: x.max(0), lambda M, x: x.min(-1, keepdim=True), lambda M, x: M.amax(x, 0),
    lambda M, x: x.argmax(0), lambda M, x: x.argmin(), lambda M, x: M.logsumexp(x, 0),
    lambda M, x: x.norm(), lambda M, x: x.norm(dim=0), lambda M, x: x.var(0, correction=0),
    lambda M, x: x.cumsum(0), lambda M, x: x.cumprod(-1), lambda M, x: M.cummax(x, 0),
    lambda M, x: x.logcumsumexp(0), lambda M, x: x.softmax(0), lambda M, x: x.log_softmax(-1),
    lambda M, x: x.median(), lambda M, x: x.median(0), lambda M, x: x.all(0),
    lambda M, x: x.count_nonzero(), lambda M, x: M.aminmax(x), lambda M, x: x.nansum(0),
]


@pytest.mark.parametrize("i", range(len(SCALAR)))
def test_zero_dim(i):
    both([()], SCALAR[i])


EMPTY = [
    lambda M, x: x.sum(), lambda M, x: x.sum(0), lambda M, x: x.sum(1, keepdim=True),
    lambda M, x: x.mean(), lambda M, x: x.mean(0), lambda M, x: x.prod(0), lambda M, x: x.nansum(),
    lambda M, x: M.logsumexp(x, 0), lambda M, x: x.norm(), lambda M, x: x.norm(dim=0),
    lambda M, x: x.max(1), lambda M, x: M.amax(x, 1), lambda M, x: x.argmax(1),
    lambda M, x: x.var(0), lambda M, x: x.std(), lambda M, x: x.cumsum(0), lambda M, x: x.cumprod(1),
    lambda M, x: x.softmax(0), lambda M, x: x.log_softmax(1), lambda M, x: x.all(), lambda M, x: x.any(0),
    lambda M, x: x.count_nonzero(0), lambda M, x: x.median(), lambda M, x: M.cummax(x, 0),
    lambda M, x: x.logcumsumexp(1),
]


@pytest.mark.parametrize("i", range(len(EMPTY)))
def test_empty(i):
    both([(0, 3)], EMPTY[i])


# --- extrema -------------------------------------------------------------------------------------------
EXTREMA = {
    "max": lambda M, x: x.max(), "min": lambda M, x: M.min(x),
    "max_dim": lambda M, x: M.max(x, 1), "max_neg_keep": lambda M, x: x.max(-1, keepdim=True),
    "min_dim": lambda M, x: x.min(dim=0), "amax": lambda M, x: M.amax(x, (0, 2)),
    "amax_all": lambda M, x: x.amax(), "amin_keep": lambda M, x: x.amin(-1, keepdim=True),
    "argmax": lambda M, x: x.argmax(), "argmax_dim": lambda M, x: M.argmax(x, 1, keepdim=True),
    "argmax_keep": lambda M, x: x.argmax(keepdim=True), "argmin_dim": lambda M, x: x.argmin(-1),
    "aminmax": lambda M, x: M.aminmax(x), "aminmax_dim": lambda M, x: M.aminmax(x, dim=1, keepdim=True),
}


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("name", list(EXTREMA))
def test_extrema(name, noncontig):
    both([(3, 4, 5)], EXTREMA[name], noncontig=noncontig)


# ties: torch shares the gradient of max()/amax/median() among ties and sends max(dim)'s to its index
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5]], np.float32)


@pytest.mark.parametrize("name", list(EXTREMA))
def test_extrema_ties(name):
    both(None, EXTREMA[name] if "amax" != name else (lambda M, x: M.amax(x, (0, 1))), inputs=[TIES])


@pytest.mark.parametrize("f", [lambda M, x: x.median(), lambda M, x: x.norm(INF), lambda M, x: x.norm(-INF, 1),
                               lambda M, x: M.amin(x, 1), lambda M, x: M.cummax(x, 1), lambda M, x: M.cummin(x, 0)])
def test_other_ties(f):
    both(None, f, inputs=[TIES])


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.bool_, np.float16])
def test_extrema_dtypes(dt):
    a = np.random.default_rng(1).integers(0, 4, (3, 4)).astype(dt)
    fns = [lambda M, x: x.max(), lambda M, x: x.min(1), lambda M, x: M.amax(x, 0), lambda M, x: M.cummax(x, 1)]
    if dt is not np.bool_:  # torch has no argmax for bool
        fns += [lambda M, x: x.argmax(), lambda M, x: x.argmin(0)]
    for f in fns:
        both(None, f, inputs=[a], grad=False)


def test_max_nan():
    a = np.array([[1.0, np.nan, 3.0], [0.0, 2.0, 1.0]], np.float32)
    for f in (lambda M, x: x.max(), lambda M, x: x.max(1), lambda M, x: x.argmin(1), lambda M, x: M.cummax(x, 1),
              lambda M, x: x.median(1)):
        both(None, f, inputs=[a], grad=False)


def test_max_other():
    both([(3, 4), (4,)], lambda M, x, y: M.max(x, y))
    both([(3, 4), (3, 4)], lambda M, x, y: x.min(y))
    both([(3, 4), (3, 4)], lambda M, x, y: M.max(x, other=y))


def test_return_types():
    x = ember.tensor([[1.0, 5.0, 2.0]])
    r = x.max(1)
    values, indices = r
    assert r.values is values and r.indices is indices and indices.tolist() == [1]
    assert ember.aminmax(x).max.item() == 5.0 and ember.median(x, 1).indices.tolist() == [2]
    assert ember.cummin(x, 1).indices.tolist() == [[0, 0, 0]]


# --- statistics ------------------------------------------------------------------------------------------
STATS = {
    "var": lambda M, x: x.var(), "var_dim": lambda M, x: M.var(x, 1),
    "var_tuple_keep": lambda M, x: x.var((0, 2), keepdim=True),
    "var_unbiased": lambda M, x: M.var(x, -1, unbiased=False),
    "var_positional": lambda M, x: x.var(1, False, True), "var_bool": lambda M, x: M.var(x, False),
    "var_correction": lambda M, x: M.var(x, 0, correction=2), "var_corr_float": lambda M, x: x.var(1, correction=0.5),
    "std": lambda M, x: x.std(), "std_dim": lambda M, x: M.std(x, (1, 2)),
    "std_keep": lambda M, x: x.std(-1, keepdim=True, correction=0),
    "var_mean": lambda M, x: M.var_mean(x, 1), "var_mean_all": lambda M, x: M.var_mean(x, correction=0),
    "std_mean": lambda M, x: M.std_mean(x, (0, 1), keepdim=True),
}


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("name", list(STATS))
def test_stats(name, noncontig):
    both([(3, 4, 5)], STATS[name], noncontig=noncontig)


def test_stats_degenerate():
    a = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 4.0]], np.float64)  # std 0 in a row: gradient 0 there
    for f in (lambda M, x: x.std(1), lambda M, x: M.std_mean(x, 1), lambda M, x: x.var(1)):
        both(None, f, inputs=[a], dtype=np.float64)
    both([(1, 3)], lambda M, x: x.var(0))  # n - correction = 0: nan
    both([(1, 3)], lambda M, x: x.std(0, correction=2))


@pytest.mark.parametrize("f", [lambda M, x: M.logsumexp(x, 1), lambda M, x: x.logsumexp((0, 2), keepdim=True),
                               lambda M, x: x.logsumexp(-1), lambda M, x: M.logsumexp(x, dim=(0, 1, 2))])
def test_logsumexp(f):
    both([(3, 4, 5)], f)
    both([(3, 4, 5)], f, low=80.0, high=100.0, noncontig=True)  # exp overflows without the shift


def test_logsumexp_inf_and_int():
    a = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [0.0, -np.inf]], np.float32)
    both(None, lambda M, x: x.logsumexp(1), inputs=[a], grad=False)
    both(None, lambda M, x: M.logsumexp(x, 0), inputs=[np.arange(6).reshape(2, 3)], grad=False)


NORMS = [(2, None), (1, None), (INF, None), (-INF, 1), ("fro", None), (3, 1), (0.5, (0, 1)), (0, None),
         (2, (0, -1)), (1.5, -1), (-1, 1)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("p,dim", NORMS)
def test_norm(p, dim, keepdim):
    both([(3, 4)], lambda M, x: x.norm(p, dim, keepdim), noncontig=True)


def test_norm_zeros():
    a = np.array([[0.0, 0.0, 0.0], [0.0, 3.0, -4.0]], np.float64)
    for p in (2, 1, 3, 0.5, INF):
        both(None, lambda M, x: M.norm(x, p, 1), inputs=[a], dtype=np.float64)
    both(None, lambda M, x: M.norm(x, dtype=M.float64), inputs=[a.astype(np.float32)])


# --- logic ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [np.bool_, np.uint8, np.int64, np.float32])
def test_all_any(dt):
    a = np.random.default_rng(2).integers(0, 2, (3, 4, 2)).astype(dt)
    a[0] = 1
    for f in (lambda M, x: x.all(), lambda M, x: M.any(x), lambda M, x: x.all(1), lambda M, x: M.any(x, -1, True),
              lambda M, x: x.all((0, 2)), lambda M, x: x.any(dim=(1, 2), keepdim=True),
              lambda M, x: M.count_nonzero(x), lambda M, x: x.count_nonzero(1),
              lambda M, x: M.count_nonzero(x, (0, -1))):
        both(None, f, inputs=[a], grad=False)


# --- scans ---------------------------------------------------------------------------------------------------
SCANS = {
    "cumsum": lambda M, x: x.cumsum(1), "cumsum_neg": lambda M, x: M.cumsum(x, -1),
    "cumsum_dtype": lambda M, x: M.cumsum(x, 0, dtype=M.float64), "cumprod": lambda M, x: M.cumprod(x, 1),
    "cumprod_neg": lambda M, x: x.cumprod(-1), "cummax": lambda M, x: M.cummax(x, 1),
    "cummin": lambda M, x: x.cummin(-1), "logcumsumexp": lambda M, x: M.logcumsumexp(x, 1),
    "logcumsumexp0": lambda M, x: x.logcumsumexp(0),
}


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("name", list(SCANS))
def test_scans(name, noncontig):
    both([(3, 4, 5)], SCANS[name], noncontig=noncontig)


def test_cumprod_zeros():
    a = np.array([[2.0, 0.0, 3.0, 0.5, 2.0], [0.0, 1.5, 2.0, 0.0, 3.0], [1.0, 2.0, 3.0, 4.0, 0.0]], np.float64)
    both(None, lambda M, x: x.cumprod(1), inputs=[a], dtype=np.float64)
    both(None, lambda M, x: x.cumprod(0), inputs=[a], dtype=np.float64)


def test_logcumsumexp_extremes():
    a = np.array([[-np.inf, 0.0, 100.0, -100.0], [1000.0, 1000.0, -np.inf, 2.0]], np.float64)
    both(None, lambda M, x: x.logcumsumexp(1), inputs=[a], grad=False)
    both([(3, 6)], lambda M, x: x.logcumsumexp(1), low=80.0, high=100.0)


def test_inplace_cumsum():
    both([(3, 4)], lambda M, x: (x * 1).cumsum_(1))
    both([(3, 4)], lambda M, x: (x * 1).cumprod_(0))


# --- softmax ---------------------------------------------------------------------------------------------------
SOFTMAX = {
    "softmax": lambda M, x: x.softmax(-1), "softmax0": lambda M, x: M.softmax(x, 0),
    "softmax_dtype": lambda M, x: M.softmax(x, 1, dtype=M.float64),
    "log_softmax": lambda M, x: M.log_softmax(x, -1), "log_softmax1": lambda M, x: x.log_softmax(1),
    "log_softmax_dtype": lambda M, x: x.log_softmax(0, dtype=M.float64),
}


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("name", list(SOFTMAX))
def test_softmax(name, noncontig):
    both([(3, 4, 5)], SOFTMAX[name], noncontig=noncontig)
    both([(2, 3)], SOFTMAX[name], low=500.0, high=1000.0, noncontig=noncontig)  # stable for large inputs


def test_softmax_half_and_inf():
    both([(3, 4)], lambda M, x: x.softmax(1), dtype=np.float16)
    a = np.array([[-np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf]], np.float32)
    both(None, lambda M, x: x.softmax(1), inputs=[a], grad=False)
    both(None, lambda M, x: x.log_softmax(1), inputs=[a], grad=False)


def _double(M, f, x, w):
    """The gradient of f(x) . w with respect to x, itself differentiable."""
    autograd = M.autograd
    (g,) = autograd.grad((f(M, x) * w).sum(), x, create_graph=True)
    return g


DOUBLE = {
    "softmax": lambda M, x: x.softmax(1), "log_softmax": lambda M, x: M.log_softmax(x, 0),
    "logsumexp": lambda M, x: x.logsumexp(1), "prod": lambda M, x: x.prod(1), "var": lambda M, x: x.var(0),
    "std": lambda M, x: x.std(1), "norm": lambda M, x: x.norm(dim=1), "norm3": lambda M, x: x.norm(3, 1),
    "cumprod": lambda M, x: x.cumprod(1), "logcumsumexp": lambda M, x: x.logcumsumexp(1),
    "max_dim": lambda M, x: x.max(1).values ** 2, "amax": lambda M, x: x.amax(1) ** 2,
    "mean": lambda M, x: x.mean(1) ** 2, "sum": lambda M, x: x.sum(0, keepdim=True) ** 2,
    "cumsum": lambda M, x: x.cumsum(1) ** 2, "median": lambda M, x: x.median(1).values ** 3,
}


@pytest.mark.parametrize("name", list(DOUBLE))
def test_double_backward(name):
    """Second derivatives against torch's."""
    shape = (3, 4)
    w_shape = tuple(DOUBLE[name](torch, torch.zeros(shape)).shape)
    both([shape, w_shape], lambda M, x, w: _double(M, DOUBLE[name], x, w), low=0.5, dtype=np.float64)


# --- gradcheck: float64 finite differences ----------------------------------------------------------------------
GRADCHECK = [
    lambda x: x.sum((0, 1)), lambda x: x.mean(1, keepdim=True), lambda x: x.prod(1), lambda x: x.prod(),
    lambda x: ember.nansum(x, 0), lambda x: ember.nanmean(x), lambda x: x.max(1).values, lambda x: x.min(),
    lambda x: x.amax((0, 1)), lambda x: x.amin(1), lambda x: ember.aminmax(x, dim=0).max,
    lambda x: x.var(1), lambda x: x.std((0, 1), correction=0), lambda x: ember.var_mean(x, 1),
    lambda x: ember.std_mean(x, 0), lambda x: x.logsumexp(1), lambda x: x.norm(), lambda x: x.norm(1, 1),
    lambda x: x.norm(INF, 0), lambda x: x.norm(3, 1), lambda x: x.norm(0.5), lambda x: x.cumsum(1),
    lambda x: x.cumprod(1), lambda x: ember.cummax(x, 1).values, lambda x: x.cummin(0).values,
    lambda x: x.logcumsumexp(1), lambda x: x.softmax(1), lambda x: x.log_softmax(0), lambda x: x.median(),
    lambda x: x.median(1).values,
]


@pytest.mark.parametrize("i", range(len(GRADCHECK)))
def test_gradcheck(i):
    check_gradcheck([(3, 4)], GRADCHECK[i], low=0.5 if i in (2, 3, 22) else -2.0)


@pytest.mark.parametrize("f", [lambda x: x.softmax(1), lambda x: x.log_softmax(1), lambda x: x.cumprod(1),
                               lambda x: x.logsumexp(1), lambda x: x.var(1), lambda x: x.logcumsumexp(1)])
def test_gradgradcheck(f):
    x = ember.tensor(np.random.default_rng(0).uniform(0.5, 2.0, (2, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(f, [x])


def test_backward_ops_gradcheck():
    """The dedicated backward ops, with respect to both their inputs."""
    from ember.ops.registry import call
    for name in ("softmax_backward", "log_softmax_backward"):
        check_gradcheck([(2, 3), (2, 3)], lambda g, y: call(name, g, y, dim=1), low=-1.0, high=0.5)


# --- errors -----------------------------------------------------------------------------------------------------
ERRORS = [
    (lambda: ember.zeros(0).max(), RuntimeError, "ember.max"),
    (lambda: ember.zeros(0, 3).max(0), IndexError, "ember.max"),
    (lambda: ember.zeros(0, 3).amax(0), IndexError, "ember.amax"),
    (lambda: ember.zeros(0).amin(), IndexError, "ember.amin"),
    (lambda: ember.zeros(0).argmax(), RuntimeError, "ember.argmax"),
    (lambda: ember.zeros(0, 2).argmin(0), IndexError, "ember.argmin"),
    (lambda: ember.zeros(0).median(0), IndexError, "ember.median"),
    (lambda: ember.aminmax(ember.zeros(0)), RuntimeError, "ember.aminmax"),
    (lambda: ember.zeros(2, 3).sum(2), IndexError, "ember.sum"),
    (lambda: ember.zeros(2, 3).mean((0, -2)), RuntimeError, "ember.mean"),
    (lambda: ember.zeros(()).sum(1), IndexError, "ember.sum"),
    (lambda: ember.zeros(2, 3).softmax(-3), IndexError, "ember.softmax"),
    (lambda: ember.zeros(2, 3).cumsum(5), IndexError, "ember.cumsum"),
    (lambda: ember.tensor([1, 2]).mean(), RuntimeError, "ember.mean"),
    (lambda: ember.tensor([1, 2]).var(), RuntimeError, "ember.var"),
    (lambda: ember.tensor([1, 2]).std(), RuntimeError, "ember.std"),
    (lambda: ember.tensor([1, 2]).norm(), RuntimeError, "ember.norm"),
    (lambda: ember.tensor([1, 2]).softmax(0), RuntimeError, "ember.softmax"),
    (lambda: ember.tensor([1, 2]).log_softmax(0), RuntimeError, "ember.log_softmax"),
    (lambda: ember.zeros(2, 3).prod((0, 1)), TypeError, "ember.prod"),
    (lambda: ember.zeros(2, 3).var(0, True, correction=1), RuntimeError, "ember.var"),
    (lambda: ember.zeros(2, 3).norm("nuc"), ValueError, "ember.norm"),
    (lambda: ember.sum([1, 2]), TypeError, "ember.sum"),
    (lambda: ember.zeros(2, 3).cumsum((0, 1)), TypeError, "ember.cumsum"),
    (lambda: ember.zeros(0, dtype=ember.int64).median(), RuntimeError, "ember.median"),
    (lambda: ember.zeros(2, 3).sum((0, "a")), TypeError, "ember.sum"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    fn, exc, match = ERRORS[i]
    with pytest.raises(exc, match=match):
        fn()


def test_mean_of_int_with_dtype():
    both(None, lambda M, x: x.mean(dtype=M.float32), inputs=[np.arange(6).reshape(2, 3)], grad=False)


@pytest.mark.parametrize("f", [lambda x: x.sum(1), lambda x: x.mean(), lambda x: x.var(0), lambda x: x.softmax(1),
                               lambda x: x.log_softmax(0), lambda x: x.cumsum(1), lambda x: x.logsumexp(1),
                               lambda x: x.norm(dim=1), lambda x: x.prod(0), lambda x: x.amax(1)])
def test_bfloat16(f):
    """bfloat16 in, bfloat16 out, close to the float32 result (torch can't share bfloat16 NumPy arrays)."""
    a = np.random.default_rng(0).uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    x = ember.tensor(a).to(ember.bfloat16).requires_grad_()
    out = f(x)
    assert out.dtype == ember.bfloat16
    np.testing.assert_allclose(out.float().detach().numpy(), f(ember.tensor(a)).numpy(), rtol=3e-2, atol=3e-2)
    out.sum().backward()
    assert x.grad.dtype == ember.bfloat16


@pytest.mark.parametrize("dim,keepdim", [(-1, False), (0, True), (1, False)])
def test_mode(dim, keepdim):
    vals = np.array([[1., 3., 3., 1., 2.], [5., 5., 4., 4., 0.], [7., 7., 7., 2., 2.]], np.float32)
    check_op(None, lambda x: x.mode(dim, keepdim), lambda x: x.mode(dim, keepdim), inputs=[vals])
    check_op(None, lambda x: ember.mode(x), lambda x: torch.mode(x), inputs=[np.array([2., 1., 2., 1.], np.float32)])
