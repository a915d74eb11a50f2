"""Indexing ops against torch: getitem/setitem, gather/scatter, index_*, masks, take,
one_hot, nonzero: forward, dtype, grads, gradcheck, errors.

Cases are ``f(L, *xs)`` with ``L`` the module (ember or torch), so one line runs on both.
"""
import numpy as np
import pytest

import ember
from helpers import check_op, check_gradcheck, torch


def run(shapes, f, **kw):
    return check_op(shapes, lambda *a: f(ember, *a), lambda *a: f(torch, *a), **kw)


def gradcheck(shapes, f, **kw):
    check_gradcheck(shapes, lambda *a: f(ember, *a), **kw)


def perm_index(shape, n, dim, seed=0):
    """An index of ``shape`` whose entries along ``dim`` are distinct (scatter without repeats)."""
    rs = np.random.default_rng(seed)
    full = list(shape)
    full[dim] = n
    return np.take(np.argsort(rs.random(full), axis=dim), np.arange(shape[dim]), axis=dim)


# --- getitem ----------------------------------------------------------------------------------
BASIC = [
    lambda L, x: x[0], lambda L, x: x[-1], lambda L, x: x[1:], lambda L, x: x[::2],
    lambda L, x: x[1:3, ::2], lambda L, x: x[..., 1], lambda L, x: x[None, 0],
    lambda L, x: x[:, None, 1:], lambda L, x: x[0, 0], lambda L, x: x[..., None],
    lambda L, x: x[-2:, ...], lambda L, x: x[1, ..., ::3], lambda L, x: x[:], lambda L, x: x[...],
    lambda L, x: x[-10:10, 5:], lambda L, x: x[L.tensor(1)], lambda L, x: x[np.int64(-2), 1:],
    lambda L, x: x[0, -1, 1], lambda L, x: x[2:1],
]

ADVANCED = [
    lambda L, x: x[[0, 2]], lambda L, x: x[[0, 0, 2, 0]], lambda L, x: x[[-1, 0]],
    lambda L, x: x[L.tensor([[0, 1], [2, 2]])], lambda L, x: x[[0, 1], [1, 2]],
    lambda L, x: x[:, [0, 2]], lambda L, x: x[0, :, [1, 2]], lambda L, x: x[[0, 1], :, [0, 1]],
    lambda L, x: x[[0, 1], None, [0, 1]], lambda L, x: x[..., [0, 1, 1]], lambda L, x: x[1:, [2, 0]],
    lambda L, x: x[[[0], [1]], :, [0, 3]], lambda L, x: x[x > 0], lambda L, x: x[x[:, :, 0] > 0],
    lambda L, x: x[:, x[0, :, 0] > 0], lambda L, x: x[np.array([2, 0])], lambda L, x: x[[True, False, True]],
    lambda L, x: x[True], lambda L, x: x[False], lambda L, x: x[None, True], lambda L, x: x[[]],
    lambda L, x: x[x > 100], lambda L, x: x[L.tensor([0, 2], dtype=L.int32), 1],
    lambda L, x: x[L.tensor([1, 1]), L.tensor(0)], lambda L, x: x[[[0, 1], [1, 2]]],
    lambda L, x: x[L.tensor([[True, False, True]] * 3)],
    lambda L, x: x[:, :, L.tensor([0, 1, 0, 2], dtype=L.uint8)],  # byte mask (deprecated in torch)
]


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence", "ignore:indexing with dtype torch.uint8")
@pytest.mark.parametrize("f", BASIC + ADVANCED)
@pytest.mark.parametrize("noncontig", [False, True])
def test_getitem(f, noncontig):
    run([(3, 3, 4)], f, noncontig=noncontig)


def test_getitem_is_view():
    x = ember.zeros(3, 4)
    v = x[1:, ::2]
    v[0, 0] = 5.0  # writes through, like torch
    assert x[1, 0].item() == 5.0 and x._version == v._version == 1
    assert not np.shares_memory(x[[0, 1]].numpy(), x.numpy())
    run([(5,)], lambda L, x: x[2])  # 0-d from 1-d
    run([()], lambda L, x: x[None])
    run([()], lambda L, x: x[...])


def test_getitem_empty():
    run([(0, 3)], lambda L, x: x[:, [0, 2]])
    run([(0, 3)], lambda L, x: x[x > 0])
    run([(0, 3)], lambda L, x: x[1:, 1])
    run([(2, 0)], lambda L, x: x[[1, 0, 1]])


def test_getitem_repeated_indices_accumulate():
    x = ember.ones(4, requires_grad=True)
    x[[1, 1, 1, 3]].sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 0.0, 1.0]


@pytest.mark.parametrize("f", [lambda L, x: x[1:, ::2], lambda L, x: x[[0, 2, 2], 1:],
                               lambda L, x: x[x > 0], lambda L, x: x[:, [1, -1]][[0, 0]]])
def test_getitem_gradcheck(f):
    gradcheck([(3, 4)], f)
    gradcheck([(3, 4)], lambda L, x: f(L, x) * f(L, x))  # double backward through the rules


@pytest.mark.parametrize("key, err, match", [
    (5, IndexError, "ember.getitem: index 5 is out of bounds for dimension 0 with size 3"),
    ((0, -5), IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    (([0, 3],), IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ((slice(None), [4]), IndexError, "index 4 is out of bounds for dimension 1"),
    ((0, 0, 0), IndexError, "too many indices"),
    ((Ellipsis, 0, Ellipsis), IndexError, "single ellipsis"),
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    ("a", TypeError, "ember.getitem"),
])
def test_getitem_errors(key, err, match):
    x = ember.zeros(3, 4)
    with pytest.raises(err, match=match):
        x[key]


def test_getitem_index_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="ember.getitem: tensors used as indices must be long"):
        x[ember.tensor([0.0])]
    with pytest.raises(IndexError, match="ember.getitem: the shape of the mask"):
        x[ember.tensor([True, False])]


# --- setitem ----------------------------------------------------------------------------------
def _set(key, value_from_input=True):
    def f(L, x, *v):
        y = x * 1
        y[key(L) if callable(key) else key] = v[0] if value_from_input else 2.5
        return y
    return f


SETITEM = [
    ((slice(1, None), slice(None, None, 2)), [(3, 4), (2, 2)]),
    ((slice(1, None), slice(None, None, 2)), [(3, 4), (2,)]),
    ((0,), [(3, 4), (4,)]),
    ((Ellipsis, 1), [(3, 4), (1,)]),
    ((1, 2), [(3, 4), ()]),
    (([0, 2],), [(3, 4), (2, 4)]),
    (([2, 0], slice(1, 3)), [(3, 4), (2, 2)]),
    ((slice(None), [3, 0]), [(3, 4), (3, 1)]),
    ((0, [3, 0]), [(3, 4), (2,)]),
    (([0, 1], [1, 2]), [(3, 4), (2,)]),
    ((slice(1, None), [0, 3]), [(3, 4), (1, 1, 2)]),  # extra leading 1s are dropped
    ((None, 1), [(3, 4), (4,)]),
]


@pytest.mark.parametrize("key, shapes", SETITEM)
def test_setitem_grad(key, shapes):
    run(shapes, _set(key))
    run(shapes[:1], _set(key, value_from_input=False))


def test_setitem_mask():
    run([(3, 4), ()], _set(lambda L: L.tensor([True, False, True])))
    run([(3, 4)], lambda L, x: _set_mask(x, 0.0))
    run([(3, 4), (4,)], lambda L, x, v: _set_mask(x, v[0:1]))


def _set_mask(x, v):
    y = x * 2
    y[x > 0] = v
    return y


def test_setitem_gradcheck():
    gradcheck([(3, 4), (2, 2)], _set((slice(1, None), slice(None, None, 2))))
    gradcheck([(3, 4), (2, 4)], _set(([0, 2],)))
    gradcheck([(3, 4), (2,)], _set((slice(1, None), [0, 3])))


def test_setitem_on_view_of_graph_tensor():
    def f(L, x, v):
        y = x * 1
        row = y[1]
        row[::2] = v  # writes through the view into y; both see the new history
        return y * 2, row * 3
    run([(3, 4), (2,)], f)


def test_setitem_no_grad():
    x = ember.zeros(3, 4)
    v0 = x._version
    x[1:, 2] = 7
    x[[0, 0], [1, 3]] = ember.tensor([1.0, 2.0])
    x[x > 6] = ember.tensor(3.0, dtype=ember.float64)
    t = torch.zeros(3, 4)
    t[1:, 2] = 7
    t[[0, 0], [1, 3]] = torch.tensor([1.0, 2.0])
    t[t > 6] = 3.0
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    assert x._version == v0 + 3 and x.grad_fn is None
    i = ember.zeros(3, dtype=ember.int64)
    i[1:] = ember.tensor([2.5, 3.5])  # cast to the tensor's dtype
    assert i.tolist() == [0, 2, 3] and i.dtype == ember.int64
    w = ember.ones(3, requires_grad=True)
    with ember.no_grad():
        w[0] = 5.0
    assert w.tolist() == [5.0, 1.0, 1.0] and w.grad_fn is None


def test_setitem_detached_alias():
    w = ember.ones(3, requires_grad=True)
    d = w.detach()
    d[[0]] = 4.0
    d[1:] = 2.0  # writes w's data (shared), no autograd, like torch
    assert w.tolist() == [4.0, 2.0, 2.0] and w._version == 2 and w.grad_fn is None


def test_setitem_errors():
    w = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        w[[0]] = 2.0
    x = ember.zeros(3)
    with pytest.raises(RuntimeError, match="ember.setitem: shape mismatch"):
        x[1:] = ember.ones(3)
    with pytest.raises(RuntimeError, match="ember.setitem: shape mismatch"):
        x[[0, 1]] = ember.ones(3)
    with pytest.raises(RuntimeError, match="ember.setitem: shape mismatch"):
        (x * 1)[[0, 1]] = ember.ones(3, requires_grad=True)
    with pytest.raises(IndexError, match="ember.setitem: index 3 is out of bounds"):
        x[3] = 1.0
    assert x.tolist() == [0.0, 0.0, 0.0] and x._version == 0


# --- gather / scatter ----------------------------------------------------------------------------
GATHER_IDX = np.array([[0, 2, 2], [1, 0, 0]])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim):
    idx = np.random.default_rng(1).integers(0, 3, (2, 3)) if dim == 0 else np.array([[0, 3, 3], [1, 0, 1]])
    run([(3, 4), idx], lambda L, x, i: L.gather(x, dim, i))
    run([(3, 4), idx], lambda L, x, i: x.gather(dim=dim, index=i), noncontig=True)
    gradcheck([(3, 4), idx], lambda L, x, i: x.gather(dim, i))
    run([(), np.array(0)], lambda L, x, i: x.gather(0, i))
    run([(3, 4), np.zeros((0, 4), np.int64)], lambda L, x, i: x.gather(0, i))


SRC_IDX = perm_index((2, 3), 3, 0)


@pytest.mark.parametrize("f", [
    lambda L, x, s, i: x.scatter(0, i, s),
    lambda L, x, s, i: L.scatter(x, 0, i, 1.5),
    lambda L, x, s, i: x.scatter(0, i, value=-2.0),
    lambda L, x, s, i: x.scatter_add(0, i, s),
    lambda L, x, s, i: L.scatter_add(x, 0, i * 0, s),  # every row into row 0: grads accumulate
])
def test_scatter(f):
    run([(3, 3), (2, 3), SRC_IDX], f)
    run([(3, 3), (2, 3), SRC_IDX], f, noncontig=True)
    gradcheck([(3, 3), (2, 3), SRC_IDX], f)


@pytest.mark.filterwarnings("ignore:The reduce argument")
def test_scatter_reduce_argument():  # deprecated in torch, which has no gradient for it
    for r in ("add", "multiply"):
        run([(3, 3), (2, 3), SRC_IDX], lambda L, x, s, i: x.scatter(-2, i, s, reduce=r), grad=False)
        run([(3, 3), SRC_IDX], lambda L, x, i: x.scatter(0, i, 1.5, reduce=r), grad=False)
    gradcheck([(3, 3), (2, 3), SRC_IDX], lambda L, x, s, i: x.scatter(0, i, s, reduce="multiply"))


def test_scatter_dims_and_src_larger():
    idx = perm_index((3, 2), 4, 1)
    run([(3, 4), (3, 2), idx], lambda L, x, s, i: x.scatter(1, i, s))
    run([(3, 4), (3, 2), idx], lambda L, x, s, i: x.scatter_add(-1, i, s))
    # src larger than index: only its index-shaped block is read (torch can't backward this)
    check_op([(3, 4), (4, 3), idx], lambda x, s, i: x.scatter_add(1, i, s),
             lambda x, s, i: x.scatter_add(1, i, s[:3, :2]))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    idx = np.array([[0, 1, 2], [0, 1, 1], [2, 1, 0], [0, 0, 0]])
    f = lambda L, x, s, i: x.scatter_reduce(0, i, s, reduce, include_self=include_self)  # noqa: E731
    run([(3, 3), (4, 3), idx], f, low=0.5)
    run([(3, 3), (4, 3), idx], f, low=-2, seed=3, noncontig=True)
    gradcheck([(3, 3), (4, 3), idx], f, low=0.5)
    ints = [np.arange(-4, 5).reshape(3, 3), np.array([[3, -2, 5], [1, 1, 1], [4, 0, 2], [-7, 2, 9]]), idx]
    run(None, f, inputs=ints)


def test_scatter_reduce_prod_zeros():
    x = np.array([[1.0, 0.0, 2.0], [3.0, 0.5, 0.0]])
    s = np.array([[0.0, 2.0, 0.0], [4.0, 0.0, 0.0], [2.0, 3.0, 5.0]])
    idx = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 1]])
    for inc in (True, False):
        run(None, lambda L, x, s, i: L.scatter_reduce(x, 0, i, s, "prod", include_self=inc), inputs=[x, s, idx])


def test_scatter_inplace():
    def f(L, x, s, i):
        y = x * 1
        y.scatter_(0, i, s)
        z = x * 2
        z.scatter_add_(0, i, s)
        w = x * 3
        w.scatter_reduce_(0, i, s, "amax", include_self=False)
        return y, z, w
    run([(3, 3), (2, 3), SRC_IDX], f)


def test_scatter_errors():
    x, s = ember.zeros(3, 4), ember.ones(2, 4)
    with pytest.raises(RuntimeError, match="ember.gather: index 3 is out of bounds for dimension 0"):
        x.gather(0, ember.tensor([[3]]))
    with pytest.raises(RuntimeError, match="ember.gather: index -1 is out of bounds"):
        x.gather(0, ember.tensor([[-1]]))
    with pytest.raises(RuntimeError, match="ember.scatter: expected an integer index"):
        x.scatter(0, ember.tensor([[0.0]]), s)
    with pytest.raises(RuntimeError, match="ember.scatter_add: index"):
        x.scatter_add(0, ember.tensor([0, 1]), s)
    with pytest.raises(RuntimeError, match="ember.scatter_add: expected self.dtype"):
        x.scatter_add(0, ember.tensor([[0]]), s.double())
    with pytest.raises(RuntimeError, match="ember.scatter: index .* must not be larger than src"):
        x.scatter(0, ember.tensor([[0, 1, 2, 0]] * 3), s)
    with pytest.raises(RuntimeError, match="ember.scatter_reduce: reduce"):
        x.scatter_reduce(0, ember.tensor([[0]]), s, "max")
    with pytest.raises(IndexError, match="ember.gather: dimension out of range"):
        x.gather(2, ember.tensor([[0]]))


# --- index_* ----------------------------------------------------------------------------------
IDX = np.array([2, 0, 2])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dim):
    run([(3, 4), IDX], lambda L, x, i: L.index_select(x, dim, i), noncontig=True)
    run([(3, 4), np.array(1)], lambda L, x, i: x.index_select(dim, i))
    run([(3, 4), np.zeros(0, np.int64)], lambda L, x, i: x.index_select(dim, i))
    gradcheck([(3, 4), IDX], lambda L, x, i: x.index_select(dim, i))


@pytest.mark.parametrize("dim", [0, -1])
def test_index_add_copy_fill(dim):
    src = (3, 4) if dim == 0 else (3, 3)
    run([(3, 4), src, IDX], lambda L, x, s, i: L.index_add(x, dim, i, s), noncontig=True)
    run([(3, 4), src, IDX], lambda L, x, s, i: x.index_add(dim, i, s, alpha=-2.5))
    uniq = np.array([2, 0])
    run([(3, 4), src[:dim % 2] + (2,) + src[dim % 2 + 1:], uniq], lambda L, x, s, i: x.index_copy(dim, i, s))
    run([(3, 4), IDX], lambda L, x, i: x.index_fill(dim, i, -1.5))
    run([(3, 4), (), IDX], lambda L, x, v, i: L.index_fill(x, dim, i, v))  # 0-d value gets a grad
    gradcheck([(3, 4), src, IDX], lambda L, x, s, i: x.index_add(dim, i, s, alpha=2))
    gradcheck([(3, 4), src[:dim % 2] + (2,) + src[dim % 2 + 1:], uniq], lambda L, x, s, i: x.index_copy(dim, i, s))
    gradcheck([(3, 4), (), IDX], lambda L, x, v, i: x.index_fill(dim, i, v))


def test_index_inplace():
    def f(L, x, s, i):
        a, b, c = x * 1, x * 2, x * 3
        a.index_add_(0, i, s)
        b.index_copy_(0, i[:2], s[:2])
        c.index_fill_(1, i, 4.0)
        return a, b, c
    run([(3, 4), (3, 4), np.array([1, 0, 1])], f)


def test_index_put():
    i, j = np.array([0, 2, 2]), np.array([1, 1, 3])
    run([(3, 4), (3,), i, j], lambda L, x, v, i, j: x.index_put((i, j), v))
    run([(3, 4), (3,), i, j], lambda L, x, v, i, j: x.index_put((i, j), v, accumulate=True))
    run([(3, 4), (3, 1), i], lambda L, x, v, i: L.index_put(x, (i,), v, True))
    check_op([(3, 4), (3,), i], lambda x, v, i: x.index_put((None, i), v),  # None: a whole dim
             lambda x, v, i: x.index_put((torch.arange(3)[:, None], i), v))

    def f(L, x, v, i, j):
        y = x * 1
        y.index_put_((i, j), v, accumulate=True)
        return y
    run([(3, 4), (3,), i, j], f)
    gradcheck([(3, 4), (3,), i, j], lambda L, x, v, i, j: x.index_put((i, j), v, accumulate=True))


def test_index_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="ember.index_select: index 3 is out of bounds"):
        x.index_select(0, ember.tensor([3]))
    with pytest.raises(IndexError, match="ember.index_select: index must be 0-d or 1-d"):
        x.index_select(0, ember.tensor([[0]]))
    with pytest.raises(RuntimeError, match="ember.index_add: source of shape"):
        x.index_add(0, ember.tensor([0, 1]), ember.ones(3, 4))
    with pytest.raises(RuntimeError, match="ember.index_add: input .* same dtype"):
        x.index_add(0, ember.tensor([0]), ember.ones(1, 4, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="ember.index_fill: only supports a 0-dimensional"):
        x.index_fill(0, ember.tensor([0]), ember.ones(2))


# --- masks -------------------------------------------------------------------------------------
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, True, False]])


def test_masked_fill():
    run([(3, 4), MASK], lambda L, x, m: x.masked_fill(m, -1.0), noncontig=True)
    run([(3, 4), MASK[0]], lambda L, x, m: L.masked_fill(x, m, 2))   # mask broadcasts
    run([(4,), MASK], lambda L, x, m: L.masked_fill(x, m, 2.0))     # ... both ways
    run([(3, 4), (), MASK], lambda L, x, v, m: x.masked_fill(m, v))  # 0-d value tensor: grad
    run([(), np.array(True)], lambda L, x, m: x.masked_fill(m, 3.0))
    run([(0, 4), np.zeros((0, 4), bool)], lambda L, x, m: x.masked_fill(m, 3.0))
    run(None, lambda L, x, m: x.masked_fill(m, 2.7), inputs=[np.arange(12).reshape(3, 4), MASK])

    def f(L, x, v, m):
        y = x * 1
        y.masked_fill_(m, v)
        return y
    run([(3, 4), (), MASK[1]], f)
    gradcheck([(3, 4), (), MASK], lambda L, x, v, m: x.masked_fill(m, v))


def test_masked_select_scatter():
    run([(3, 4), MASK], lambda L, x, m: x.masked_select(m), noncontig=True)
    run([(4,), MASK], lambda L, x, m: L.masked_select(x, m))
    run([(3, 4), MASK[0]], lambda L, x, m: x.masked_select(m))
    run([(3, 4), np.zeros((3, 4), bool)], lambda L, x, m: x.masked_select(m))
    run([(3, 4), (4, 5), MASK], lambda L, x, s, m: x.masked_scatter(m, s), noncontig=True)
    run([(3, 4), (7,), MASK[1]], lambda L, x, s, m: L.masked_scatter(x, m, s))

    def f(L, x, s, m):
        y = x * 1
        y.masked_scatter_(m, s)
        return y
    run([(3, 4), (9,), MASK], f)
    gradcheck([(3, 4), MASK], lambda L, x, m: x.masked_select(m))
    gradcheck([(3, 4), (3, 3), MASK], lambda L, x, s, m: x.masked_scatter(m, s))


def test_mask_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match="ember.masked_fill: expected a bool mask"):
        x.masked_fill(ember.ones(3, 4), 1.0)
    with pytest.raises(RuntimeError, match="ember.masked_fill: mask of shape"):
        x.masked_fill(ember.ones(3, dtype=ember.bool), 1.0)
    with pytest.raises(RuntimeError, match="ember.masked_fill: only supports a 0-dimensional"):
        x.masked_fill(ember.ones(3, 4, dtype=ember.bool), ember.ones(1))
    with pytest.raises(RuntimeError, match="ember.masked_scatter: mask selects 12"):
        x.masked_scatter(ember.ones(3, 4, dtype=ember.bool), ember.ones(5))


# --- take / take_along_dim ------------------------------------------------------------------------
def test_take():
    idx = np.array([[0, -1, 5], [5, 5, 11]])
    run([(3, 4), idx], lambda L, x, i: L.take(x, i), noncontig=True)
    run([(3, 4), np.array(-3)], lambda L, x, i: x.take(i))
    run([(), np.array([0, 0])], lambda L, x, i: x.take(i))
    gradcheck([(3, 4), idx], lambda L, x, i: x.take(i))
    with pytest.raises(IndexError, match="ember.take: out of range: tried to access index 12"):
        ember.zeros(3, 4).take(ember.tensor([12]))


def test_take_along_dim():
    run([(3, 4), np.array([[0, 3], [2, 2], [1, 0]])], lambda L, x, i: L.take_along_dim(x, i, dim=1))
    run([(3, 4), np.array([[0, 2, 1, 1]])], lambda L, x, i: x.take_along_dim(i, 0), noncontig=True)
    run([(3, 1), np.array([[0], [0]]).T], lambda L, x, i: L.take_along_dim(x, i, -2))  # broadcast both
    run([(3, 4), np.array([[0, 11], [5, 5]])], lambda L, x, i: x.take_along_dim(i))
    gradcheck([(3, 4), np.array([[0, 3], [2, 2], [1, 0]])], lambda L, x, i: x.take_along_dim(i, 1))
    with pytest.raises(RuntimeError, match="ember.take_along_dim"):
        ember.zeros(3, 4).take_along_dim(ember.tensor([0]), 0)


# --- one_hot / nonzero ---------------------------------------------------------------------------
def test_one_hot():
    F = torch.nn.functional
    for x, n in ((np.array([0, 2, 1]), -1), (np.array([[1], [3]]), 5), (np.array(2), 4), (np.zeros(0, np.int64), 3)):
        check_op(None, lambda x: ember.one_hot(x, n), lambda x: F.one_hot(x, n), inputs=[x], grad=False)
    with pytest.raises(RuntimeError, match="ember.one_hot: class values must be smaller"):
        ember.one_hot(ember.tensor([0, 2]), 2)
    with pytest.raises(RuntimeError, match="ember.one_hot: class values must be non-negative"):
        ember.one_hot(ember.tensor([0, -2]), 3)
    with pytest.raises(RuntimeError, match="ember.one_hot: is only applicable"):
        ember.one_hot(ember.tensor([0.0]))
    with pytest.raises(RuntimeError, match="ember.one_hot: can not infer"):
        ember.one_hot(ember.tensor([], dtype=ember.int64))


@pytest.mark.parametrize("x", [MASK, np.array([[0.0, 1.5], [-2.0, 0.0]]), np.array(3), np.array(0.0),
                               np.zeros((0, 3)), np.arange(-2, 4).reshape(1, 2, 3)])
def test_nonzero(x):
    check_op(None, lambda L: L.nonzero(), inputs=[x], grad=False)
    check_op(None, lambda L: L.nonzero(as_tuple=True), inputs=[x], grad=False)
    check_op(None, lambda a: ember.argwhere(a), lambda a: torch.argwhere(a), inputs=[x], grad=False)


# --- double backward ----------------------------------------------------------------------------
@pytest.mark.parametrize("f, extra", [
    (lambda x, i: x[i], np.array([0, 2, 2])),
    (lambda x, i: x[1:, ::2] * x[:2, 1:3], np.array(0)),
    (lambda x, i: x.gather(1, i), np.array([[0, 2], [1, 1], [3, 0]])),
    (lambda x, i: x.scatter_add(0, i, x * x), np.array([[2, 0, 0, 1]] * 3)),
    (lambda x, i: x.scatter(0, i[:1], x[:1] * x[:1]), np.array([[2, 0, 0, 1]])),
    (lambda x, i: x.scatter_reduce(0, i, x * 2, "amax", include_self=False), np.array([[2, 0, 0, 1]] * 3)),
    (lambda x, i: x.index_put((i,), x[:1] * x[1:2], accumulate=True), np.array([2, 2])),
    (lambda x, i: x.masked_fill(i > 0, 0.5) * x, np.array([[1, 0, 1, 0]] * 3)),
    (lambda x, i: x.masked_scatter(i > 0, x * x), np.array([[1, 0, 1, 0]] * 3)),
    (lambda x, i: x.take(i) ** 2, np.array([[0, 11], [5, 5]])),
])
def test_double_backward(f, extra):
    x = ember.tensor(np.random.default_rng(0).uniform(0.5, 2, (3, 4)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x: f(x, ember.tensor(extra)), [x])
