import numpy as np
import pytest

import ember
from helpers import check_op, check_gradcheck, torch

MATMUL_SHAPES = [
    [(3,), (3,)], [(2, 3), (3,)], [(3,), (3, 4)], [(2, 3), (3, 4)], [(5, 2, 3), (3, 4)],
    [(2, 3), (5, 3, 4)], [(2, 1, 2, 3), (3, 3, 2)], [(3,), (5, 3, 4)], [(5, 2, 3), (3,)],
    [(0, 3), (3, 4)], [(2, 0), (0, 3)], [(2, 0, 2, 3), (3, 1)], [(1, 1), (1, 1)],
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul(shapes):
    check_op(shapes, lambda a, b: a @ b)
    check_op(shapes, lambda a, b: ember.matmul(a, b) if isinstance(a, ember.Tensor) else torch.matmul(a, b),
             dtype=np.float64)


@pytest.mark.parametrize("shapes", [[(4, 3), (3, 5)], [(2, 4, 3), (2, 3, 4)], [(3, 3), (3,)]])
def test_matmul_noncontig(shapes):
    check_op(shapes, lambda a, b: a.matmul(b), noncontig=True)


def test_matmul_dtypes():
    rs = np.random.default_rng(0)
    ai, bi = rs.integers(-5, 5, (2, 3)), rs.integers(-5, 5, (3, 4))
    check_op(None, lambda a, b: a @ b, inputs=[ai, bi], grad=False)
    check_op(None, lambda a, b: a @ b, inputs=[ai.astype(np.int32), bi.astype(np.int32)], grad=False)
    # mixed int/float promotes (PyTorch raises here)
    bf = rs.standard_normal((3, 4)).astype(np.float32)
    check_op(None, lambda a, b: a @ b, lambda a, b: a.float() @ b, inputs=[ai, bf])
    check_op([(2, 3), (3, 4)], lambda a, b: a @ b, dtype=np.float16, rtol=1e-2, atol=1e-2)
    x = ember.ones(2, 3, dtype=ember.bfloat16) @ ember.ones(3, 2, dtype=ember.bfloat16)
    assert x.dtype == ember.bfloat16 and x.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_rmatmul():
    check_op([(4, 2), (2, 3)], lambda a, b: b.__rmatmul__(a))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (3,)], [(5, 2, 3), (3,)], [(3,), (3, 4)],
                                    [(2, 1, 2, 3), (3, 3, 2)]])
def test_matmul_gradcheck(shapes):
    check_gradcheck(shapes, lambda a, b: a @ b)


def test_matmul_double_backward():
    xs = [ember.tensor(a, requires_grad=True) for a in
          (np.random.default_rng(0).standard_normal(s) for s in [(2, 3), (3,)])]
    assert ember.autograd.gradgradcheck(lambda a, b: a @ b, xs)


def test_mm_bmm_mv_dot():
    check_op([(2, 3), (3, 4)], lambda a, b: a.mm(b))
    check_op([(2, 3), (3, 4)], lambda a, b: a.mm(b), noncontig=True)
    check_op([(2, 2, 3), (2, 3, 4)], lambda a, b: a.bmm(b))
    check_op([(0, 2, 3), (0, 3, 4)], lambda a, b: a.bmm(b))
    check_op([(2, 3), (3,)], lambda a, b: a.mv(b))
    check_op([(4,), (4,)], lambda a, b: a.dot(b))
    check_op([(4,), (4,)], lambda a, b: a.vdot(b))
    check_op([(0,), (0,)], lambda a, b: a.dot(b))
    for f in (lambda a, b: a.mm(b), lambda a, b: a.unsqueeze(0).bmm(b.unsqueeze(0))):
        check_gradcheck([(2, 3), (3, 2)], f)
    check_gradcheck([(2, 3), (3,)], lambda a, b: a.mv(b))
    check_gradcheck([(3,), (3,)], lambda a, b: a.dot(b))


def test_inner_outer():
    for shapes in ([(2, 3), (4, 3)], [(3,), (3,)], [(), (4, 3)], [(2, 3), ()], [(2, 2, 3), (3,)]):
        check_op(shapes, lambda a, b: a.inner(b))
    check_op([(3,), (4,)], lambda a, b: a.outer(b))
    check_op([(3,), (4,)], lambda a, b: a.ger(b) if isinstance(a, ember.Tensor) else torch.outer(a, b))
    check_gradcheck([(2, 3), (4, 3)], lambda a, b: ember.inner(a, b))
    check_gradcheck([(3,), (4,)], lambda a, b: ember.outer(a, b))


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (2, -1)])
def test_add_products(beta, alpha):
    kw = dict(beta=beta, alpha=alpha)
    for s in [(2, 4), (4,), (1, 1)]:
        check_op([s, (2, 3), (3, 4)], lambda i, a, b: i.addmm(a, b, **kw))
    check_op([(2,), (2, 3), (3,)], lambda i, a, b: i.addmv(a, b, **kw))
    check_op([(2, 3), (2,), (3,)], lambda i, a, b: i.addr(a, b, **kw))
    check_op([(2, 2, 4), (2, 2, 3), (2, 3, 4)], lambda i, a, b: i.baddbmm(a, b, **kw))
    check_op([(4,), (2, 2, 3), (2, 3, 4)], lambda i, a, b: i.addbmm(a, b, **kw))
    check_op([(2, 4), (2, 3), (3, 4)], lambda i, a, b: (i * 1).addmm_(a, b, **kw))
    check_op([(2, 4), (2, 2, 3), (2, 3, 4)], lambda i, a, b: (i * 1).addbmm_(a, b, **kw))


def test_add_products_beta0_ignores_input():
    nan = np.full((2, 4), np.nan, np.float32)
    rs = np.random.default_rng(0)
    a, b = rs.standard_normal((2, 3)).astype(np.float32), rs.standard_normal((3, 4)).astype(np.float32)
    check_op(None, lambda i, a, b: i.addmm(a, b, beta=0), inputs=[nan, a, b], grad=False)
    check_op([(2, 3), (3, 4)], lambda a, b: ember.addmm(ember.zeros(2, 4), a, b, beta=0, alpha=3),
             lambda a, b: torch.addmm(torch.zeros(2, 4), a, b, beta=0, alpha=3))


def test_add_products_gradcheck():
    check_gradcheck([(2, 4), (2, 3), (3, 4)], lambda i, a, b: ember.addmm(i, a, b, beta=0.5, alpha=2))
    check_gradcheck([(2,), (2, 3), (3,)], lambda i, a, b: ember.addmv(i, a, b, alpha=2))
    check_gradcheck([(2, 4), (2, 2, 3), (2, 3, 4)], lambda i, a, b: ember.baddbmm(i, a, b, beta=2))
    check_gradcheck([(4,), (2, 2, 3), (2, 3, 4)], lambda i, a, b: ember.addbmm(i, a, b))
    check_gradcheck([(2, 3), (2,), (3,)], lambda i, a, b: ember.addr(i, a, b, alpha=-1))


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("i,i->", [(4,), (4,)]), ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 4)]),
    ("ij->ji", [(2, 3)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("ij->", [(2, 3)]),
    ("ij->i", [(2, 3)]), ("i,j->ij", [(2,), (3,)]), ("ij,ij->ij", [(2, 1), (1, 3)]),
    ("ijk,jkl->il", [(2, 3, 4), (3, 4, 5)]), ("i,ij,j->", [(2,), (2, 3), (3,)]), ("bij,jk", [(2, 2, 3), (3, 4)]),
    ("Ab,bA->", [(2, 3), (3, 2)]), ("...ij->...ji", [(2, 3, 4)]), ("iji->j", [(2, 3, 2)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]), ("bij,bkj->bik", [(0, 2, 3), (0, 4, 3)]), ("ij,jk", [(2, 0), (0, 3)]),
    ("i j , j k -> i k", [(2, 3), (3, 4)]), ("ibj,jbk->bki", [(2, 3, 4), (4, 3, 5)]), ("ij,kj->", [(2, 3), (4, 3)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUMS)
def test_einsum(eq, shapes):
    e_fn = lambda *xs: ember.einsum(eq, *xs)  # noqa: E731
    t_fn = lambda *xs: torch.einsum(eq, *xs)  # noqa: E731
    check_op(shapes, e_fn, t_fn)
    check_op(shapes, e_fn, t_fn, dtype=np.float64, noncontig=True)


@pytest.mark.parametrize("eq,shapes", [e for e in EINSUMS if 0 not in sum(map(tuple, e[1]), ())])
def test_einsum_gradcheck(eq, shapes):
    check_gradcheck(shapes, lambda *xs: ember.einsum(eq, *xs))


# big enough for the kernel's batched-matmul path (small ones go to np.einsum)
@pytest.mark.parametrize("eq,shapes", [
    ("bhqd,bhkd->bhqk", [(2, 2, 16, 32), (2, 2, 16, 32)]), ("...ij,...jk", [(4, 1, 16, 32), (3, 32, 16)]),
    ("ijx,jk->ki", [(16, 32, 3), (32, 24)]), ("ibj,jbk->bki", [(16, 4, 64), (64, 4, 16)]),
    ("ij,jk->ik", [(64, 1), (48, 64)])])
def test_einsum_large(eq, shapes):
    check_op(shapes, lambda *xs: ember.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs), rtol=1e-4, atol=1e-4)


def test_einsum_forms():
    check_op([(2, 3), (3, 4)], lambda a, b: ember.einsum("ij,jk", [a, b]),
             lambda a, b: torch.einsum("ij,jk", [a, b]))
    ai = np.arange(6).reshape(2, 3)
    check_op(None, lambda a: ember.einsum("ij->i", a), lambda a: torch.einsum("ij->i", a), inputs=[ai])
    check_op([(3, 3)], lambda a: ember.einsum("ii", a), lambda a: torch.einsum("ii", a), dtype=np.float16,
             rtol=1e-2, atol=1e-2)
    xs = [ember.tensor(np.random.default_rng(0).standard_normal(s), requires_grad=True)
          for s in [(2, 3), (3, 4)]]
    assert ember.autograd.gradgradcheck(lambda a, b: ember.einsum("ij,jk->ik", a, b), xs)


def test_tensordot():
    for shapes, dims in [([(2, 3, 4), (3, 4, 5)], 2), ([(2, 3, 4), (4, 3, 5)], ([1, 2], [1, 0])),
                         ([(2, 3), (4, 5)], 0), ([(2, 3, 4), (4, 3, 5)], 1), ([(2, 3, 4), (4, 3, 5)], ([1], [1])),
                         ([(2, 3, 4), (4, 3, 5)], ([-1, 1], [0, -2]))]:
        check_op(shapes, lambda a, b: ember.tensordot(a, b, dims=dims), lambda a, b: torch.tensordot(a, b, dims))
    check_gradcheck([(2, 3, 4), (4, 3, 2)], lambda a, b: ember.tensordot(a, b, ([1, 2], [1, 0])))


def test_kron():
    for shapes in ([(2, 3), (4, 2)], [(2, 3), (4,)], [(2,), (3,)], [(2, 1, 2), (3, 2)]):
        check_op(shapes, lambda a, b: a.kron(b))
    check_gradcheck([(2, 3), (2, 2)], lambda a, b: ember.kron(a, b))


def test_trace():
    for s in [(3, 3), (2, 4), (4, 2), (0, 3)]:
        check_op([s], lambda a: a.trace())
    check_op(None, lambda a: a.trace(), inputs=[np.arange(12, dtype=np.int32).reshape(3, 4)])
    check_gradcheck([(3, 4)], lambda a: a.trace())


def test_cross():
    check_op([(4, 3), (4, 3)], lambda a, b: a.cross(b, dim=1))
    check_op([(4, 3), (4, 3)], lambda a, b: ember.cross(a, b, dim=-1),
             lambda a, b: torch.linalg.cross(a, b, dim=-1), noncontig=True)
    check_op([(2, 4, 3), (1, 4, 3)], lambda a, b: ember.cross(a, b, dim=-1), lambda a, b: torch.linalg.cross(a, b))
    check_op([(3, 4), (3, 4)], lambda a, b: ember.cross(a, b), lambda a, b: torch.cross(a, b, dim=0))
    check_gradcheck([(2, 3), (2, 3)], lambda a, b: ember.cross(a, b, dim=1))


def _well_conditioned(shape, seed=0):
    rs = np.random.default_rng(seed)
    return rs.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])


def test_det_inverse():
    for s in [(3, 3), (2, 4, 4), (1, 1)]:
        a = _well_conditioned(s).astype(np.float32)
        check_op(None, lambda x: x.det(), inputs=[a])
        check_op(None, lambda x: x.inverse(), inputs=[a])
        check_op(None, lambda x: x.inverse(), inputs=[a.astype(np.float64)])
    check_gradcheck(None, lambda x: ember.det(x), inputs=[_well_conditioned((2, 3, 3))])
    check_gradcheck(None, lambda x: ember.inverse(x), inputs=[_well_conditioned((2, 3, 3))])


def test_matrix_power():
    a = _well_conditioned((2, 3, 3)).astype(np.float32) / 3
    for n in (1, 2, 3, 5, -1, -2):
        check_op(None, lambda x: x.matrix_power(n), inputs=[a], rtol=1e-3, atol=1e-4)
    check_op(None, lambda x: x.matrix_power(0), inputs=[a], grad=False)
    check_op(None, lambda x: x.matrix_power(3), inputs=[np.arange(9).reshape(3, 3)], grad=False)
    check_gradcheck(None, lambda x: ember.matrix_power(x, 3), inputs=[_well_conditioned((3, 3)) / 3])
    check_gradcheck(None, lambda x: ember.matrix_power(x, -2), inputs=[_well_conditioned((3, 3))])


ERRORS = [
    (lambda: ember.ones(3, 4) @ ember.ones(5, 6), r"ember\.matmul: shapes \(3, 4\) and \(5, 6\) cannot be "
                                                   r"multiplied \(4 != 5\)"),
    (lambda: ember.matmul(ember.ones(()), ember.ones(3)), r"ember\.matmul: .*at least 1-D"),
    (lambda: ember.matmul(ember.ones(2, 2, 3), ember.ones(3, 3, 2)), r"ember\.matmul: batch"),
    (lambda: ember.matmul(ember.ones(3), [1, 2, 3]), r"ember\.matmul: expected a Tensor"),
    (lambda: ember.mm(ember.ones(3), ember.ones(3, 4)), r"ember\.mm: expected 2-D"),
    (lambda: ember.mm(ember.ones(2, 3), ember.ones(4, 4)), r"ember\.mm: shapes \(2, 3\) and \(4, 4\)"),
    (lambda: ember.bmm(ember.ones(2, 3, 4), ember.ones(3, 4, 5)), r"ember\.bmm: batch sizes"),
    (lambda: ember.bmm(ember.ones(3, 4), ember.ones(3, 4, 5)), r"ember\.bmm: expected 3-D"),
    (lambda: ember.mv(ember.ones(3, 4), ember.ones(5)), r"ember\.mv: shapes"),
    (lambda: ember.dot(ember.ones(3), ember.ones(4)), r"ember\.dot: expected 1-D"),
    (lambda: ember.inner(ember.ones(2), ember.ones(4, 3)), r"ember\.inner: the last dims"),
    (lambda: ember.outer(ember.ones(2, 2), ember.ones(3)), r"ember\.outer: expected 1-D"),
    (lambda: ember.addmm(ember.ones(2, 2, 4), ember.ones(2, 3), ember.ones(3, 4)), r"ember\.addmm: input"),
    (lambda: ember.einsum("ij,jk", ember.ones(2, 3), ember.ones(4, 5)), r"ember\.einsum: subscript j"),
    (lambda: ember.einsum("ij,jk->ik", ember.ones(2, 3)), r"ember\.einsum: .*2 operands"),
    (lambda: ember.einsum("ijk->i", ember.ones(2, 3)), r"ember\.einsum: subscripts 'ijk'"),
    (lambda: ember.einsum("ij->iz", ember.ones(2, 3)), r"ember\.einsum: output subscript z"),
    (lambda: ember.einsum("ij->ii", ember.ones(2, 3)), r"ember\.einsum: output subscript i"),
    (lambda: ember.einsum("ii->i", ember.ones(2, 3)), r"ember\.einsum: subscript i is repeated"),
    (lambda: ember.einsum("i1->i", ember.ones(2, 3)), r"ember\.einsum: invalid equation"),
    (lambda: ember.tensordot(ember.ones(2, 3), ember.ones(4, 5), 1), r"ember\.tensordot: contracted"),
    (lambda: ember.trace(ember.ones(3)), r"ember\.trace: expected a 2-D"),
    (lambda: ember.cross(ember.ones(3, 4), ember.ones(4, 3)), r"ember\.cross"),
    (lambda: ember.cross(ember.ones(2, 4), ember.ones(2, 4)), r"ember\.cross: no dimension of size 3"),
    (lambda: ember.det(ember.ones(2, 3)), r"ember\.det: expected square"),
    (lambda: ember.matrix_power(ember.ones(2, 3), 2), r"ember\.matrix_power: expected square"),
    (lambda: ember.inverse(ember.zeros(3, 3)), r"ember\.inverse: .*singular"),
    (lambda: ember.inverse(ember.ones(3, 3, dtype=ember.int64)), r"ember\.inverse: expected a floating"),
]


@pytest.mark.parametrize("fn,match", ERRORS)
def test_errors(fn, match):
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError), match=match):
        fn()
