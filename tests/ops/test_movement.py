"""Movement ops against torch: forward, dtype, grads, gradcheck, errors.

Cases are ``f(L, *xs)`` with ``L`` the module (ember or torch), so one line runs on both.
"""
import numpy as np
import pytest

import ember
from helpers import check_op, check_gradcheck, make_inputs, torch


def run(shapes, f, **kw):
    return check_op(shapes, lambda *a: f(ember, *a), lambda *a: f(torch, *a), **kw)


def gradcheck(shapes, f, **kw):
    check_gradcheck(shapes, lambda *a: f(ember, *a), **kw)


F = torch.nn.functional


def tpad(L, x, *a, **k):
    return (ember.pad if L is ember else F.pad)(x, *a, **k)


# (shapes, f(L, *xs)); every case also runs with non-contiguous inputs where it can
VIEWS = [
    ([(3, 4)], lambda L, x: x.reshape(2, -1)),
    ([(3, 4)], lambda L, x: x.reshape((6, 2))),
    ([(3, 4)], lambda L, x: L.reshape(x, (-1,))),
    ([()], lambda L, x: x.reshape(1, 1)),
    ([(1, 1)], lambda L, x: x.reshape(())),
    ([(0, 3)], lambda L, x: x.reshape(-1, 1, 3)),
    ([(0, 3)], lambda L, x: x.reshape(3, 0)),
    ([(3, 4)], lambda L, x: x.reshape_as(L.zeros(4, 3))),
    ([(2, 3, 4)], lambda L, x: x.flatten()),
    ([(2, 3, 4)], lambda L, x: L.flatten(x, 1)),
    ([(2, 3, 4)], lambda L, x: x.flatten(start_dim=-3, end_dim=-2)),
    ([()], lambda L, x: x.flatten()),
    ([(2, 6)], lambda L, x: x.unflatten(1, (2, -1))),
    ([(2, 6)], lambda L, x: L.unflatten(x, -2, (1, 2))),
    ([(2, 1, 3, 1)], lambda L, x: x.squeeze()),
    ([(2, 1, 3, 1)], lambda L, x: x.squeeze(1)),
    ([(2, 1, 3, 1)], lambda L, x: L.squeeze(x, -1)),
    ([(2, 1, 3, 1)], lambda L, x: x.squeeze((0, 1, -1))),
    ([(2, 1, 3, 1)], lambda L, x: x.squeeze(dim=0)),
    ([()], lambda L, x: x.squeeze(0)),
    ([(2, 3)], lambda L, x: x.unsqueeze(0)),
    ([(2, 3)], lambda L, x: L.unsqueeze(x, -1)),
    ([(2, 3)], lambda L, x: x.unsqueeze(dim=1)),
    ([()], lambda L, x: x.unsqueeze(-1)),
    ([(2, 3, 4)], lambda L, x: x.permute(2, 0, 1)),
    ([(2, 3, 4)], lambda L, x: x.permute((-1, 0, -2))),
    ([(2, 3, 4)], lambda L, x: L.permute(x, dims=(1, 2, 0))),
    ([(2, 3, 4)], lambda L, x: x.transpose(0, -1)),
    ([(2, 3, 4)], lambda L, x: L.transpose(x, 1, 2)),
    ([(2, 3, 4)], lambda L, x: L.swapaxes(x, 0, 1)),
    ([(2, 3, 4)], lambda L, x: x.swapdims(-1, -2)),
    ([(3, 4)], lambda L, x: x.t()),
    ([(3,)], lambda L, x: L.t(x)),
    ([()], lambda L, x: x.t()),
    ([(3, 4)], lambda L, x: x.T),
    ([(2, 3, 4)], lambda L, x: x.mT),
    ([(2, 3, 4)], lambda L, x: x.movedim(0, -1)),
    ([(2, 3, 4, 5)], lambda L, x: L.movedim(x, (0, 1), (2, 0))),
    ([(2, 3, 4)], lambda L, x: L.moveaxis(x, -1, 0)),
    ([(3, 1)], lambda L, x: x.expand(2, 3, 4)),
    ([(3, 1)], lambda L, x: x.expand(-1, 5)),
    ([(3, 1)], lambda L, x: L.broadcast_to(x, (2, 3, 4))),
    ([(3, 1)], lambda L, x: x.expand_as(L.zeros(3, 2))),
    ([(5, 3)], lambda L, x: x.narrow(0, 1, 3)),
    ([(5, 3)], lambda L, x: L.narrow(x, -1, -2, 2)),
    ([(5, 3)], lambda L, x: x.narrow(0, 5, 0)),
    ([(4, 5)], lambda L, x: x.diagonal()),
    ([(4, 5)], lambda L, x: L.diagonal(x, 1)),
    ([(4, 5)], lambda L, x: x.diagonal(offset=-2)),
    ([(2, 3, 4)], lambda L, x: x.diagonal(0, -1, 0)),
    ([(2, 3, 4)], lambda L, x: L.diagonal(x, offset=1, dim1=2, dim2=1)),
    ([(3, 4)], lambda L, x: x.diagonal(9)),
    ([(7,)], lambda L, x: x.unfold(0, 3, 2)),
    ([(3, 7)], lambda L, x: x.unfold(1, 2, 1)),
    ([(6, 2)], lambda L, x: x.unfold(-2, 6, 3)),
    ([(6, 2)], lambda L, x: x.unfold(0, 2, 5)),
    ([(2, 5, 3)], lambda L, x: x.unfold(1, 0, 2)),
    ([()], lambda L, x: x.unfold(0, 1, 1)),
    ([(3, 4)], lambda L, x: x.contiguous()),
    ([(3, 4)], lambda L, x: x.clone()),
    ([(3, 4)], lambda L, x: L.clone(x)),
    ([(3, 4)], lambda L, x: x.ravel()),
    ([(3, 4)], lambda L, x: L.ravel(x)),
    ([(3, 4)], lambda L, x: x.view(-1, 2)),
    ([(3, 4)], lambda L, x: x.view((2, 6))),
    ([(3, 4)], lambda L, x: x.view_as(L.zeros(12))),
    ([(6, 5)], lambda L, x: x.split(2)),
    ([(6, 5)], lambda L, x: L.split(x, [1, 4], dim=1)),
    ([(6, 5)], lambda L, x: x.split(10, -1)),
    ([(6, 5)], lambda L, x: x.split([0, 6, 0])),
    ([(0, 5)], lambda L, x: x.split(2)),
    ([(7, 3)], lambda L, x: x.chunk(3)),
    ([(6, 3)], lambda L, x: L.chunk(x, 4)),
    ([(5, 3)], lambda L, x: x.chunk(2, dim=-1)),
    ([(0, 3)], lambda L, x: x.chunk(3)),
    ([(7, 3)], lambda L, x: x.tensor_split(3)),
    ([(7, 3)], lambda L, x: L.tensor_split(x, [1, 5])),
    ([(7, 3)], lambda L, x: x.tensor_split([6, 2, 9, -1])),
    ([(7, 3)], lambda L, x: x.tensor_split(L.tensor([2, 4]), dim=0)),
    ([(2, 7)], lambda L, x: x.tensor_split(L.tensor(3), -1)),
    ([(3, 4)], lambda L, x: x.unbind()),
    ([(3, 4)], lambda L, x: L.unbind(x, -1)),
    ([(3, 4)], lambda L, x: tuple(x)),
    ([(4,)], lambda L, x: x.unbind()),  # 0-d pieces
    ([(2, 9, 3)], lambda L, x: (lambda q, k, v: q * v + q)(*x.chunk(3, 1))),  # k unused
    ([(2, 6)], lambda L, x: (lambda a, b: L.cat([b, a, b], 1))(*x.split(3, -1))),
    ([(3, 2, 4)], lambda L, x: (lambda a, b: a * b)(*x.unbind(1))),
    ([(5, 2)], lambda L, x: x.split([5])[0] * 2),
]


def _noncontig_ok(shapes):
    return any(len(s) >= 2 for s in shapes)


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("shapes,f", VIEWS)
def test_views(shapes, f, noncontig):
    if noncontig and not _noncontig_ok(shapes):
        pytest.skip("no 2-d input")
    if noncontig and any(n.startswith("view") for n in f.__code__.co_names):
        pytest.skip("view of a transposed tensor raises (tested below)")
    run(shapes, f, noncontig=noncontig)


COPIES = [
    ([(2, 3), (4, 3)], lambda L, x, y: L.cat([x, y])),
    ([(2, 3), (2, 1)], lambda L, x, y: L.cat((x, y, x), dim=-1)),
    ([(2, 3), (0, 3)], lambda L, x, y: L.cat([x, y], 0)),
    ([(2, 3), (0,)], lambda L, x, y: L.cat([y, x, y], 1)),
    ([(0,), (0,)], lambda L, x, y: L.cat([x, y])),
    ([(2, 3)], lambda L, x: L.cat([x])),
    ([(2, 3), (2, 3)], lambda L, x, y: L.concat([x, y], dim=1)),
    ([(2, 3), (2, 3)], lambda L, x, y: L.concatenate([x, y], axis=-2)),
    ([(2, 3), (2, 3)], lambda L, x, y: L.stack([x, y])),
    ([(2, 3), (2, 3)], lambda L, x, y: L.stack((x, y, x), dim=-1)),
    ([(), ()], lambda L, x, y: L.stack([x, y])),
    ([(0, 2), (0, 2)], lambda L, x, y: L.stack([x, y], 1)),
    ([(3,), (2,)], lambda L, x, y: L.hstack([x, y])),
    ([(2, 3), (2, 1)], lambda L, x, y: L.hstack((x, y))),
    ([(3,), (2, 3)], lambda L, x, y: L.vstack([x, y])),
    ([(3,), (2, 3)], lambda L, x, y: L.row_stack([x, y])),
    ([(3,), (1, 3)], lambda L, x, y: L.dstack([x, y])),
    ([(2, 3), (2, 3, 2)], lambda L, x, y: L.dstack([x, y])),
    ([(3,), (3, 2), ()], lambda L, x, y, z: L.column_stack([x, y, z.expand(3)])),
    ([(3,)], lambda L, x: L.atleast_1d(x)),
    ([()], lambda L, x: L.atleast_1d(x)),
    ([(), (3,), (2, 3)], lambda L, x, y, z: L.atleast_2d(x, y, z)),
    ([(), (3,), (2, 3), (1, 2, 3, 1)], lambda L, x, y, z, w: L.atleast_3d([x, y, z, w])),
    ([(3,), (2,)], lambda L, x, y: L.meshgrid(x, y, indexing="ij")),
    ([(3,), (2,), (4,)], lambda L, x, y, z: L.meshgrid([x, y, z], indexing="xy")),
    ([(3,), ()], lambda L, x, y: L.meshgrid(x, y, indexing="xy")),
    ([(2, 3)], lambda L, x: x.repeat(2, 1)),
    ([(2, 3)], lambda L, x: x.repeat((2, 1, 3))),
    ([()], lambda L, x: x.repeat(3, 2)),
    ([(2, 3)], lambda L, x: x.repeat(0, 2)),
    ([(2, 3)], lambda L, x: L.tile(x, (2,))),
    ([(2, 3)], lambda L, x: x.tile((3, 1, 2))),
    ([(2, 3)], lambda L, x: x.repeat_interleave(2)),
    ([(2, 3)], lambda L, x: L.repeat_interleave(x, 3, dim=-1)),
    ([(2, 3)], lambda L, x: x.repeat_interleave(L.tensor([1, 0, 2]), dim=1)),
    ([(2, 3)], lambda L, x: x.repeat_interleave(L.tensor([2]), dim=0)),
    ([(2, 3)], lambda L, x: L.repeat_interleave(x, L.tensor([1, 2, 0, 1, 1, 3]))),
    ([()], lambda L, x: x.repeat_interleave(2)),
    ([(0, 3)], lambda L, x: x.repeat_interleave(2, dim=0)),
    ([(2, 3, 4)], lambda L, x: x.flip(0)),
    ([(2, 3, 4)], lambda L, x: L.flip(x, (0, -1))),
    ([(2, 3, 4)], lambda L, x: L.flip(x, dims=[1])),
    ([(2, 3)], lambda L, x: L.fliplr(x)),
    ([(2, 3)], lambda L, x: x.flipud()),
    ([()], lambda L, x: x.flip(0)),
    ([(3, 4)], lambda L, x: x.roll(1)),
    ([(3, 4)], lambda L, x: L.roll(x, -2, 1)),
    ([(3, 4)], lambda L, x: L.roll(x, shifts=(1, 5), dims=(0, -1))),
    ([(3, 4)], lambda L, x: x.roll((7,), (0,))),
    ([(4, 5)], lambda L, x: x.tril()),
    ([(4, 5)], lambda L, x: L.tril(x, 1)),
    ([(2, 4, 3)], lambda L, x: L.tril(x, diagonal=-1)),
    ([(4, 5)], lambda L, x: x.triu()),
    ([(2, 4, 3)], lambda L, x: L.triu(x, -2)),
    ([(4, 5)], lambda L, x: x.triu(diagonal=7)),
    ([(0, 3)], lambda L, x: x.triu()),
    ([(3,)], lambda L, x: L.diag(x)),
    ([(3,)], lambda L, x: x.diag(2)),
    ([(3,)], lambda L, x: L.diag(x, diagonal=-1)),
    ([(3, 4)], lambda L, x: L.diag(x)),
    ([(3, 4)], lambda L, x: x.diag(-1)),
    ([(2, 3)], lambda L, x: L.diag_embed(x)),
    ([(2, 3)], lambda L, x: x.diag_embed(1)),
    ([(2, 3)], lambda L, x: L.diag_embed(x, offset=-1, dim1=0, dim2=2)),
    ([(2, 3)], lambda L, x: L.diag_embed(x, 0, -1, 0)),
]


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("shapes,f", COPIES)
def test_copies(shapes, f, noncontig):
    if noncontig and not _noncontig_ok(shapes):
        pytest.skip("no 2-d input")
    run(shapes, f, noncontig=noncontig)


PADS = [
    ((2, 3), (1, 2), "constant", None),
    ((2, 3), (1, 2, 0, 1), "constant", 1.5),
    ((2, 3, 4), (-1, 2, 1, -2), "constant", 0),
    ((2, 1, 3), (1, 1, 1, 1, 1, 1), "constant", None),
    ((0, 3), (1, 1), "constant", 2.0),
    ((2, 5), (2, 3), "reflect", None),
    ((2, 3, 5), (1, 0), "reflect", None),
    ((1, 4, 5), (2, 1, 3, 2), "reflect", None),
    ((1, 1, 3, 4, 3), (2, 1, 1, 0, 1, 2), "reflect", None),
    ((2, 3, 5), (-1, 2), "reflect", None),
    ((2, 5), (3, 4), "replicate", None),
    ((1, 3, 4), (2, 1, 0, 3), "replicate", None),
    ((1, 2, 2, 3, 2), (1, 1, 2, 0, 1, 1), "replicate", None),
    ((2, 3, 5), (2, -1), "replicate", None),
    ((2, 5), (5, 2), "circular", None),
    ((1, 3, 4), (2, 1, 3, 0), "circular", None),
    ((1, 2, 2, 3, 2), (1, 2, 2, 0, 1, 1), "circular", None),
    ((2, 3, 5), (-2, 1), "circular", None),
]


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("shape,p,mode,value", PADS)
def test_pad(shape, p, mode, value, noncontig):
    kw = {"mode": mode} if value is None else {"mode": mode, "value": value}
    run([shape], lambda L, x: tpad(L, x, p, **kw), noncontig=noncontig)
    if mode != "constant" or value is None:
        gradcheck([shape], lambda L, x: tpad(L, x, p, mode=mode))


def test_pad_int_and_double_backward():
    x = np.arange(6).reshape(2, 3)
    run([], lambda L, a: tpad(L, a, (1, 1), value=7), inputs=[x])
    for mode in ("constant", "reflect", "replicate", "circular"):
        x = ember.tensor(make_inputs([(1, 2, 4)], np.float64)[0], requires_grad=True)
        assert ember.autograd.gradgradcheck(lambda a: ember.pad(a, (2, 1), mode=mode) ** 2, [x])


def test_dtypes_and_promotion():
    ints = [np.arange(6).reshape(2, 3).astype(np.int32), np.ones((1, 3), np.int64)]
    run([], lambda L, x, y: L.cat([x, y]), inputs=ints)
    mixed = [np.ones((2, 3), np.float32), np.arange(3).reshape(1, 3).astype(np.int64)]
    run([], lambda L, x, y: L.cat([x, y]), inputs=mixed)
    run([], lambda L, x, y: L.stack([x.narrow(0, 0, 1), y]), inputs=mixed)
    empty64 = [np.ones((2, 3), np.float32), np.zeros((0,), np.float64)]
    run([], lambda L, x, y: L.cat([x, y]), inputs=empty64)
    bools = [np.array([[True, False], [False, True]])]
    for f in (lambda L, x: x.t().reshape(-1), lambda L, x: x.flip(0), lambda L, x: x.repeat(2, 2),
              lambda L, x: x.tril(), lambda L, x: tpad(L, x, (1, 0), value=True), lambda L, x: x.roll(1)):
        run([], f, inputs=bools)
    run([(3, 4)], lambda L, x: x.double().t().flip(0), dtype=np.float64)
    run([(3, 4)], lambda L, x: L.cat([x.half().t(), x.half().t()]).reshape(-1), grad=False)


def test_repeat_interleave_indices():
    run([], lambda L, r: L.repeat_interleave(r), inputs=[np.array([2, 0, 3])])
    run([], lambda L, r: L.repeat_interleave(r, output_size=4), inputs=[np.array([1, 3])])


def test_view_dtype():
    run([], lambda L, x: x.view(L.int32), inputs=[np.arange(6, dtype=np.float32).reshape(2, 3)], grad=False)
    run([], lambda L, x: x.view(L.int16), inputs=[np.arange(6, dtype=np.float32).reshape(2, 3)], grad=False)


# one float64 finite-difference check per differentiable op (small inputs)
GRADCHECKS = [
    ([(2, 3)], lambda L, x: x.reshape(3, 2) * x.t()),
    ([(2, 3, 2)], lambda L, x: x.permute(2, 0, 1).flatten(1).unflatten(1, (3, 2))),
    ([(3, 1)], lambda L, x: x.expand(2, 3, 4)),
    ([(4, 3)], lambda L, x: x.narrow(0, 1, 2)),
    ([(3, 4)], lambda L, x: x.diagonal(1)),
    ([(2, 3)], lambda L, x: x.diag_embed(-1)),
    ([(3,)], lambda L, x: L.diag(x, 1)),
    ([(7, 2)], lambda L, x: x.unfold(0, 3, 2)),
    ([(5, 2)], lambda L, x: x.unfold(0, 2, 1)),
    ([(2, 3), (1, 3)], lambda L, x, y: L.cat([x, y, x])),
    ([(2, 3), (2, 3)], lambda L, x, y: L.stack([x, y], 1)),
    ([(2, 3)], lambda L, x: x.repeat(2, 1, 2)),
    ([(2, 3)], lambda L, x: x.repeat_interleave(2, dim=1)),
    ([(2, 3)], lambda L, x: x.repeat_interleave(L.tensor([0, 2, 3]), dim=1)),
    ([(2, 3)], lambda L, x: x.flip(0, 1)),
    ([(2, 3)], lambda L, x: x.roll((1, -1), (0, 1))),
    ([(3, 4)], lambda L, x: x.tril(1) + x.triu(-1)),
    ([(4, 3)], lambda L, x: x.split([1, 3])[1] * 2),
    ([(4, 3)], lambda L, x: x.chunk(2, 1)[0]),
    ([(4, 3)], lambda L, x: x.unbind(1)[2]),
    ([(6, 2)], lambda L, x: (lambda a, b, c: a * c + b.exp())(*x.chunk(3))),
    ([(2, 3)], lambda L, x: (lambda a, b: a * b ** 2)(*x.unbind(1)[::2])),
    ([(3, 2)], lambda L, x: x.t().contiguous().clone()),
]


@pytest.mark.parametrize("shapes,f", GRADCHECKS)
def test_gradcheck(shapes, f):
    gradcheck(shapes, f)


def test_double_backward_through_views():
    def f(L, x):
        y = x.t().reshape(-1).unfold(0, 2, 1) ** 2
        (g,) = L.autograd.grad(y, x, L.ones(5, 2, dtype=x.dtype), create_graph=True)
        return g.flip(0).repeat(2, 1)
    run([(2, 3)], f)


def test_views_share_memory():
    x = ember.arange(12.).reshape(3, 4).clone()
    for v in (x.view(4, 3), x.reshape(-1), x.t(), x.unsqueeze(0), x.narrow(1, 1, 2), x.diagonal(),
              x.unfold(1, 2, 1), x.split(2)[1], x.unbind(1)[0], x.permute(1, 0), x.flatten(),
              x.movedim(0, 1), x.expand(2, 3, 4), x.unsqueeze(0).squeeze(0), x.chunk(2, 1)[1]):
        assert np.shares_memory(v.numpy(), x.numpy()), v.shape
        assert v._base is x
    for c in (x.t().reshape(-1), x.clone(), x.t().contiguous(), x.flip(0), ember.cat([x]), x.repeat(1, 1),
              x.roll(1), x.tril(), ember.pad(x, (0, 0)), x.diag()):
        assert not np.shares_memory(c.numpy(), x.numpy())
    assert x.contiguous() is x


def test_view_raises_like_torch():
    x = ember.zeros(3, 4).t()
    with pytest.raises(RuntimeError, match=r"ember.view: view size is not compatible .*[Uu]se \.reshape"):
        x.view(-1)
    assert x.view(4, 1, 3).shape == (4, 1, 3)  # size-1 dims never block a view
    assert torch.zeros(3, 4).t().view(4, 1, 3).shape == (4, 1, 3)


ERRORS = [
    (lambda x: x.reshape(5, -1), RuntimeError, "ember.reshape: shape '\\[5, -1\\]' is invalid"),
    (lambda x: x.reshape(-1, -1), RuntimeError, "ember.reshape: only one dimension"),
    (lambda x: x.view(7), RuntimeError, "ember.view"),
    (lambda x: x.permute(0, 0, 1), RuntimeError, "ember.permute"),
    (lambda x: x.permute(0, 1), RuntimeError, "ember.permute"),
    (lambda x: x.transpose(0, 3), IndexError, "ember.transpose: dimension out of range"),
    (lambda x: x.squeeze(3), IndexError, "ember.squeeze"),
    (lambda x: x.unsqueeze(4), IndexError, "ember.unsqueeze"),
    (lambda x: x.t(), RuntimeError, "ember.t: "),
    (lambda x: x.flatten(2, 1), RuntimeError, "ember.flatten"),
    (lambda x: x.unflatten(1, (2, 2)), RuntimeError, "ember.unflatten"),
    (lambda x: x.movedim((0, 1), 2), RuntimeError, "ember.movedim"),
    (lambda x: x.narrow(0, 1, 5), RuntimeError, "ember.narrow"),
    (lambda x: x.narrow(1, -4, 1), IndexError, "ember.narrow"),
    (lambda x: x.split([1, 2]), RuntimeError, "ember.split"),
    (lambda x: x.split(0), RuntimeError, "ember.split"),
    (lambda x: x.chunk(0), RuntimeError, "ember.chunk"),
    (lambda x: x.tensor_split(0), RuntimeError, "ember.tensor_split"),
    (lambda x: x.diagonal(0, 1, 1), RuntimeError, "ember.diagonal"),
    (lambda x: x.unfold(1, 5, 1), RuntimeError, "ember.unfold"),
    (lambda x: x.unfold(1, 2, 0), RuntimeError, "ember.unfold"),
    (lambda x: ember.cat([x, ember.zeros(2, 2, 4)]), RuntimeError, "ember.cat: sizes of tensors"),
    (lambda x: ember.cat([x, ember.zeros(4)]), RuntimeError, "ember.cat"),
    (lambda x: ember.cat([]), RuntimeError, "ember.cat"),
    (lambda x: ember.cat(x), TypeError, "ember.cat"),
    (lambda x: ember.cat([x], dim=3), IndexError, "ember.cat"),
    (lambda x: ember.stack([x, x.narrow(0, 0, 1)]), RuntimeError, "ember.stack: expects each tensor"),
    (lambda x: x.repeat(2), RuntimeError, "ember.repeat"),
    (lambda x: x.repeat_interleave(ember.tensor([1, 2])), RuntimeError, "ember.repeat_interleave"),
    (lambda x: x.repeat_interleave(-1), RuntimeError, "ember.repeat_interleave"),
    (lambda x: x.flip(3), IndexError, "ember.flip"),
    (lambda x: x.roll((1, 2), 0), RuntimeError, "ember.roll"),
    (lambda x: x.flatten().tril(), RuntimeError, "ember.tril"),
    (lambda x: x.diag(), RuntimeError, "ember.diag"),
    (lambda x: ember.pad(x, (1,)), RuntimeError, "ember.pad"),
    (lambda x: ember.pad(x, (-3, -2)), RuntimeError, "ember.pad"),
    (lambda x: ember.pad(x, (4, 0), mode="reflect"), RuntimeError, "ember.pad: reflect padding"),
    (lambda x: ember.pad(x, (1, 1, 1, 1, 1, 1), mode="reflect"), NotImplementedError, "ember.pad"),
    (lambda x: ember.pad(x, (1, 1), mode="wrap"), NotImplementedError, "ember.pad"),
    (lambda x: ember.meshgrid(x), RuntimeError, "ember.meshgrid"),
]


@pytest.mark.parametrize("f,exc,match", ERRORS)
def test_errors(f, exc, match):
    with pytest.raises(exc, match=match):
        f(ember.zeros(2, 3, 4))


def test_split_double_backward_and_inplace_on_piece():
    def f(L, x):
        a, b = (x * 1).split(2)
        (g,) = L.autograd.grad((a * b * b).sum(), x, create_graph=True)
        return g * x
    run([(4, 3)], f)

    def h(L, x):  # torch refuses in-place on split outputs; ember's pieces are narrow views
        y = x * 1
        a = y.split(2)[1] if L is ember else y.narrow(0, 2, 2)
        a.mul_(3)
        return y * y
    run([(4, 3)], h)
