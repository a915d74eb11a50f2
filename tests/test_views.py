"""Views share memory with PyTorch's semantics: writes go both ways, version counters
catch stale saved tensors, and in-place ops on views of graph tensors rebase the
base's history (CopySlices), giving torch's gradients."""
import numpy as np
import pytest

import ember
from helpers import assert_close, make_inputs, torch

# view makers: f(L, x) for a (4, 6) tensor; each returns a writable view
VIEWS = {
    "view": lambda L, x: x.view(2, 12),
    "reshape": lambda L, x: x.reshape(-1),
    "t": lambda L, x: x.t(),
    "transpose": lambda L, x: x.transpose(0, 1),
    "permute": lambda L, x: x.permute(1, 0),
    "unsqueeze": lambda L, x: x.unsqueeze(1),
    "squeeze": lambda L, x: x.unsqueeze(0).squeeze(0),
    "flatten": lambda L, x: x.flatten(),
    "unflatten": lambda L, x: x.unflatten(1, (2, 3)),
    "movedim": lambda L, x: x.movedim(0, 1),
    "narrow": lambda L, x: x.narrow(1, 2, 3),
    "narrow_neg": lambda L, x: x.narrow(0, -2, 2),
    "diagonal": lambda L, x: x.diagonal(1),
    "unfold": lambda L, x: x.unfold(1, 2, 2),
    # torch refuses in-place on pieces of split/chunk/unbind when recording; its oracle
    # then uses the equivalent single views
    "split": lambda L, x: x.split(2)[1] if L is ember else x.narrow(0, 2, 2),
    "chunk": lambda L, x: x.chunk(3, 1)[2] if L is ember else x.narrow(1, 4, 2),
    "tensor_split": lambda L, x: x.tensor_split([1, 3], 1)[1],
    "unbind": lambda L, x: x.unbind(1)[4] if L is ember else x.select(1, 4),
    "chain": lambda L, x: x.t().narrow(0, 1, 4).reshape(2, 2, 4).diagonal(0, 0, 2),
    "view_of_t": lambda L, x: x.t().unsqueeze(0).squeeze(0).t(),
}
NAMES = list(VIEWS)


def _both(f, shapes=((4, 6),), grad=False):
    arrays = make_inputs(shapes, np.float64)
    e = [ember.tensor(a, requires_grad=grad) for a in arrays]
    t = [torch.tensor(a, requires_grad=grad) for a in arrays]
    return f(ember, *e), f(torch, *t), e, t


@pytest.mark.parametrize("name", NAMES)
def test_write_through_view_reaches_base(name):
    def f(L, x):
        v = VIEWS[name](L, x)
        v.mul_(3).add_(1)
        return x, v
    (ex, ev), (tx, tv), _, _ = _both(f)
    assert_close(ex, tx, 0, 0, "base after writing the view")
    assert_close(ev, tv, 0, 0, "view")


@pytest.mark.parametrize("name", NAMES)
def test_write_to_base_reaches_view(name):
    def f(L, x):
        v = VIEWS[name](L, x)
        x.sub_(5)
        x.fill_(2) if name == "reshape" else x.mul_(x)
        return v
    ev, tv, _, _ = _both(f)
    assert_close(ev, tv, 0, 0, "view after writing the base")


def test_expand_and_views_of_views_see_base():
    x = ember.zeros(3, 1)
    e = x.expand(3, 4)
    w = x.t().unsqueeze(0)
    x.add_(ember.tensor([[1.], [2.], [3.]]))
    assert e.tolist() == [[1.] * 4, [2.] * 4, [3.] * 4]
    assert w.tolist() == [[[1., 2., 3.]]]


@pytest.mark.parametrize("name", ["t", "narrow", "diagonal", "split", "unbind"])
def test_no_grad_write_through_view_of_leaf(name):
    def f(L, x):
        with L.no_grad():
            VIEWS[name](L, x).mul_(2)
        y = x * x
        y.backward(L.ones_like(y))
        return x, x.grad
    (ex, eg), (tx, tg), _, _ = _both(lambda L, x: f(L, x), grad=True)
    assert_close(ex, tx, 0, 0, "leaf after no_grad write")
    assert_close(eg, tg, 1e-12, 1e-12, "grad")
    assert ex._version == tx._version


def test_version_counter_catches_inplace_on_view():
    for L in (ember, torch):
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.exp() if hasattr(x, "exp") else x ** 2  # both save their output
        v = y.view(-1)
        v.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(L.ones(3))


def test_version_counter_shared_by_views():
    x = ember.zeros(4, 6)
    v, w = x.t(), x.narrow(0, 1, 2).unsqueeze(0)
    x.add_(1)
    w.mul_(2)
    assert x._version == v._version == w._version == 2


@pytest.mark.parametrize("name", ["t", "narrow", "diagonal", "split", "unbind", "unsqueeze"])
def test_inplace_on_view_of_leaf_raises(name):
    for L in (ember, torch):
        x = L.ones(4, 6, requires_grad=True)
        # torch forbids in-place on pieces of split/unbind outright; ember on leaf views
        with pytest.raises(RuntimeError, match="leaf|multiple views"):
            VIEWS[name](L, x).mul_(2)


@pytest.mark.parametrize("name", NAMES)
def test_inplace_on_view_of_nonleaf_grads(name):
    """y = x * w; an in-place op on a view of y; the loss reads both y and the view."""
    def f(L, x, w, s):
        y = x * w
        v = VIEWS[name](L, y)
        v.mul_(s.reshape([1] * v.dim()) if v.dim() else s.reshape(())).add_(1)
        out = y * 2 + 1
        loss = (out * out).reshape(-1)
        vv = (v * 3).reshape(-1)
        return loss, vv
    (el, ev), (tl, tv), e, t = _both(f, shapes=((4, 6), (4, 6), (1,)), grad=True)
    assert_close(el, tl, 1e-12, 1e-12, "forward")
    assert_close(ev, tv, 1e-12, 1e-12, "view forward")
    rs = np.random.default_rng(1)
    g1, g2 = rs.standard_normal(tl.shape), rs.standard_normal(tv.shape)
    torch.autograd.backward([tl, tv], [torch.tensor(g1), torch.tensor(g2)])
    ember.autograd.backward([el, ev], [ember.tensor(g1), ember.tensor(g2)])
    for i, (a, b) in enumerate(zip(e, t)):
        assert_close(a.grad, b.grad, 1e-10, 1e-12, f"grad of input {i}")


@pytest.mark.parametrize("case", [
    (lambda L, y, z: y.narrow(0, 0, 1).mul_(2)),
    lambda L, y, z: y.t().add_(1),
    (lambda L, y, z: y.unsqueeze(0).mul_(3)),
    lambda L, y, z: y.t().narrow(0, 1, 2).copy_(z.t().narrow(0, 0, 2)),
    lambda L, y, z: y.t().narrow(1, 1, 2).add_(z.narrow(0, 0, 2).t()).sub_(z.narrow(0, 1, 2).t()),
    (lambda L, y, z: y.diagonal().mul_(z.diagonal())),
    lambda L, y, z: (y.unbind(0)[1] if L is ember else y.select(0, 1)).copy_(z.unbind(0)[2]),
    (lambda L, y, z: [p.mul_(z.narrow(0, 0, 2)) for p in
                          (y.split(2) if L is ember else (y.narrow(0, 0, 2), y.narrow(0, 2, 2)))]),
    (lambda L, y, z: (y.view(-1).narrow(0, 3, 4).mul_(2), y.t().mul_(z.t()))),
])
def test_inplace_cases_from_the_brief(case):
    def f(L, x, z):
        y = x * 1
        case(L, y, z)
        return y * y
    e_out, t_out, e, t = _both(f, shapes=((4, 3), (4, 3)), grad=True)
    assert_close(e_out, t_out, 1e-12, 1e-12, "forward")
    g = np.random.default_rng(2).standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(g))
    e_out.backward(ember.tensor(g))
    for i, (a, b) in enumerate(zip(e, t)):
        assert_close(a.grad, b.grad, 1e-10, 1e-12, f"grad of input {i}")


def test_split_pieces_are_views_with_grads():
    def f(L, x):
        y = x * 1
        a, b = y.split([1, 3]) if L is ember else (y.narrow(0, 0, 1), y.narrow(0, 1, 3))
        b.mul_(2)
        a.add_(b.narrow(0, 0, 1))
        return a * b
    e_out, t_out, e, t = _both(f, grad=True)
    assert_close(e_out, t_out, 1e-12, 1e-12, "forward")
    g = np.ones(tuple(t_out.shape))
    t_out.backward(torch.tensor(g))
    e_out.backward(ember.tensor(g))
    assert_close(e[0].grad, t[0].grad, 1e-10, 1e-12, "grad")


@pytest.mark.parametrize("case", [
    (lambda L, y, z: (y.mul_(z), y.t())[1]),  # view taken after the write: never stale
    (lambda L, y, z: (lambda v: (y.add_(z), v)[1])(y.t().narrow(0, 1, 2))),
    (lambda L, y, z: (lambda a, b: (b.mul_(z.narrow(0, 2, 2)), a * 1)[1])(y.narrow(0, 0, 2),
                                                                                y.narrow(0, 2, 2))),
    (lambda L, y, z: (lambda v, w: (w.mul_(z.t()), v.diagonal())[1])(y.unsqueeze(0), y.t())),
])
def test_view_history_follows_inplace_on_base(case):
    """A view taken before the base (or another view of it) is written in place."""
    def f(L, x, z):
        v = case(L, x * 1, z)
        return v * v
    e_out, t_out, e, t = _both(f, shapes=((4, 3), (4, 3)), grad=True)
    assert_close(e_out, t_out, 1e-12, 1e-12, "forward")
    g = np.random.default_rng(3).standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(g))
    e_out.backward(ember.tensor(g))
    for i, (a, b) in enumerate(zip(e, t)):
        if b.grad is None:
            assert a.grad is None or not a.grad.numpy().any()
        else:
            assert_close(a.grad, b.grad, 1e-10, 1e-12, f"grad of input {i}")


def test_inplace_on_view_of_transposed_base():
    def f(L, x, z):
        y = x.t() * 1
        y.t().reshape(-1).narrow(0, 1, 3).copy_(z.reshape(-1).narrow(0, 0, 3))
        return y * y
    e_out, t_out, e, t = _both(f, shapes=((3, 2), (3, 2)), grad=True)
    assert_close(e_out, t_out, 1e-12, 1e-12, "forward")
    t_out.backward(torch.ones(t_out.shape, dtype=torch.float64))
    e_out.backward(ember.ones(*t_out.shape, dtype=ember.float64))
    for i, (a, b) in enumerate(zip(e, t)):
        assert_close(a.grad, b.grad, 1e-10, 1e-12, f"grad of input {i}")
