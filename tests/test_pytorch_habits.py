"""PyTorch habits: expressions and snippets a PyTorch user writes, run in ember and in torch
(with ``lib`` bound to each) and compared. Ember should let a PyTorch user guess right."""
import os

import numpy as np
import pytest

import ember
from helpers import torch

rs = np.random.default_rng(0)
A = rs.standard_normal((3, 4)).astype(np.float32)
B = rs.standard_normal((4, 5)).astype(np.float32)

EXPRESSIONS = [
 "x.view(-1)", "x.sum(dim=1, keepdim=True)", "lib.max(x, 1)[0]", "lib.max(x, 1)[1]", "x.max(dim=-1).values",
 "x.masked_fill(x > 0, float('-inf'))", "x[x > 0]", "lib.cat([x, x], dim=0)", "x.argmax(-1)", "x.type_as(y)",
 "x.new_zeros(2, 3)", "x.size(0) * x.numel()", "lib.where(x > 0, x, lib.zeros_like(x))", "x.clamp(min=0)",
 "lib.stack([x, x], 1)", "x.softmax(-1)", "x @ y", "x.mean((0, 1))", "x.t().contiguous().view(-1)",
 "x.unsqueeze(0).expand(2, 3, 4)", "x[:, None, :] * x[None]", "x[..., 1]", "x[[0, 2], 1:3]", "x.flatten()",
 "lib.einsum('ij,jk->ik', x, y)", "x.std(dim=0)", "x.var(unbiased=False)", "x.norm(dim=1)", "x.abs().sqrt()",
 "x.exp().log1p()", "x.topk(2, dim=1).values", "x.sort(dim=0, descending=True)[0]", "lib.tanh(x).pow(2)",
 "x.gather(1, lib.tensor([[0], [1], [2]]))", "x.chunk(2, dim=1)[1]", "x.split([1, 3], dim=1)[1]",
 "x.repeat(2, 1)", "x.permute(1, 0)", "x.transpose(0, 1)", "x.reshape(2, -1)", "x.squeeze()", "x.roll(1, 0)",
 "x.flip(0)", "x.tril()", "x.diagonal()", "x.cumsum(1)", "x.logsumexp(1)", "lib.matmul(x, y).relu()",
 "x.float().double()", "(x > 0).float().mean()", "(x > 0).sum()", "(x > 0).long().sum(1)", "x.sign()",
 "lib.clamp(x, -0.5, 0.5)", "lib.nn.functional.relu(x)", "lib.nn.functional.softmax(x, dim=1)",
 "lib.nn.functional.log_softmax(x, dim=-1)", "lib.nn.functional.gelu(x)", "x.sigmoid()",
 "lib.nn.functional.one_hot(lib.tensor([0, 2]), 3)", "lib.arange(10).view(2, 5)[:, ::2]",
 "x.index_select(0, lib.tensor([2, 0]))", "x.masked_select(x > 0)", "lib.full((2,), 3.0)",
 "x.min()", "x.max()", "x.amax(dim=(0, 1))", "x.prod(1)", "x.any()", "x.all(dim=1)", "lib.outer(x[0], x[1])",
 "lib.dot(x[0], x[1])", "x.mT", "x.T", "x[1, 2].item()", "x.tolist()", "x.dim()", "x.bool().int()", "x.half().float()",
 "lib.linspace(0, 1, 5)", "lib.eye(3)", "lib.ones(2, 2, dtype=lib.int64) // 2", "lib.tensor([5, 3]) % 2",
 "x.add(y.sum(), alpha=2)", "x.mul_(2) if False else x * 2", "x.clone().zero_()", "x.clone().fill_(2)",
 "lib.nn.functional.pad(x, (1, 1))", "x.unbind(0)[1]", "lib.broadcast_to(x[0], (2, 4))", "x.narrow(1, 1, 2)",
 "x.unfold(1, 2, 1)", "x.new_tensor([1, 2])", "x.new_ones(3)", "lib.zeros(2, 3).shape", "lib.tensor(3).shape",
 "x.argsort(1)", "x.nan_to_num()", "lib.isnan(x).any()", "x.floor()", "x.round()", "x.trunc()", "x.frac()",
 "x.lerp(y[:3, :4], 0.5)", "lib.maximum(x, lib.zeros(4))", "x.where(x > 0, 0.0)", "x.view(2, 6).shape",
 "x.expand_as(x)", "x.reshape_as(x)", "x.view_as(x)", "lib.numel(x)", "x.kthvalue(2, 1).values",
 "lib.nn.functional.normalize(x, dim=1)", "x.softmax(dim=0).log()", "lib.tensor([[1, 2], [3, 4]]).float().inverse()",
 "x.median()", "x.mode(1).values", "lib.unique(lib.tensor([3, 1, 3]))", "x.count_nonzero()", "x.nonzero()",
 "lib.triu(x, 1)", "lib.bmm(x[None], y[None])", "lib.tensordot(x, y, dims=1)", "x.std_mean() if hasattr(x, 'std_mean') else lib.std_mean(x)",
 "lib.addmm(lib.zeros(5), x, y)", "lib.baddbmm(lib.zeros(1, 3, 5), x[None], y[None])",
]

SNIPPETS = [
"device = 'cuda' if lib.cuda.is_available() else 'cpu'\nresult = lib.ones(2, device=device).sum().item()",
"result = [lib.pi, lib.e, float(lib.inf), ]",
"lib.set_num_threads(1); result = lib.get_num_threads()",
"lib.manual_seed(0)\nm = nn.Linear(3, 2)\nsd = m.state_dict()\nlib.save(sd, os.path.join(tmp, 'w.pt'))\nm2 = nn.Linear(3, 2)\nm2.load_state_dict(lib.load(os.path.join(tmp, 'w.pt')))\nresult = [float((m2.weight - m.weight).abs().sum())]",
"x = lib.arange(12.).view(3, 4)\nds = lib.utils.data.TensorDataset(x, lib.arange(3))\ndl = lib.utils.data.DataLoader(ds, batch_size=2)\nresult = [b[0].sum().item() for b in dl]",
"x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)\ny = (x ** 2).mean()\ny.backward()\nresult = x.grad",
"x = lib.linspace(-1, 1, 5)\nresult = lib.allclose(x, x.clone().detach())",
"result = lib.split(lib.arange(6), 2)[1]",
"result = lib.chunk(lib.arange(6), 3)[2]",
"x = lib.randn(4, 3)\nresult = x.detach().cpu().numpy().shape",
"result = lib.nn.functional.cross_entropy(lib.tensor([[2., 1., 0.1]]), lib.tensor([0]))",
"result = lib.nn.functional.mse_loss(lib.tensor([1., 2.]), lib.tensor([1.5, 2.5]))",
"m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten())\nresult = [sum(p.numel() for p in m.parameters())]",
"x = lib.tensor([3., 1., 2.])\nv, i = lib.sort(x)\nresult = i",
"result = lib.tensor([1, 2, 3]).float().mean()",
"result = lib.tensor([[1, 2], [3, 4]]).sum(dim=0)",
"result = lib.tensor([1., 2.]).numpy().tolist()",
"x = lib.zeros(3)\nx[1] = 5\nresult = x",
"x = lib.zeros(2, 3)\nx[:, 1] += 1\nresult = x",
"x = lib.tensor([1., 2., 3.])\nresult = x[x > 1].sum()",
"result = lib.nn.functional.softmax(lib.tensor([[1., 2., 3.]]), dim=-1)",
"opt_m = nn.Linear(2, 1)\nopt = lib.optim.SGD(opt_m.parameters(), lr=0.1, momentum=0.9)\nopt.zero_grad(); opt_m(lib.ones(1, 2)).sum().backward(); opt.step()\nresult = None",
"result = lib.tensor(2.5).item()",
"result = int(lib.argmax(lib.tensor([1., 5., 2.])))",
"result = lib.zeros(2, 2).dtype == lib.float32",
"result = lib.tensor([1, 2]).dtype == lib.long",
"result = lib.Tensor([1, 2]).dtype == lib.float32",
"result = lib.FloatTensor([1, 2]) if hasattr(lib, 'FloatTensor') else lib.tensor([1., 2.])",
"result = lib.LongTensor([1, 2])",
"x = lib.ones(2, requires_grad=True)\nwith lib.no_grad():\n    y = x * 2\nresult = [y.requires_grad]",
"result = lib.tensor([[1., 2.], [3., 4.]]).inverse() if False else lib.tensor([[1., 2.], [3., 4.]]).t()",
"result = lib.nn.init.xavier_uniform_(lib.empty(3, 5)).shape",
"m = nn.LSTM(4, 8, batch_first=True)\nout, (h, c) = m(lib.zeros(2, 5, 4))\nresult = list(out.shape) + list(h.shape)",
"m = nn.Embedding(10, 3, padding_idx=0)\nresult = m(lib.tensor([[0, 2]])).shape",
"result = lib.cat((lib.zeros(1, 2), lib.ones(1, 2))).sum()",
"x = lib.tensor([1., 2.])\nresult = x.unsqueeze(-1).expand(-1, 3).contiguous().view(-1)",
"result = lib.tensor([0.5]).clamp_(0, 1)",
"result = lib.where(lib.tensor([True, False]), 1.0, 0.0)",
"result = lib.einsum('i,i->', lib.tensor([1., 2.]), lib.tensor([3., 4.]))",
"result = lib.nn.functional.one_hot(lib.tensor([1, 0]), num_classes=3).float()",
"result = lib.triu(lib.ones(3, 3), diagonal=1).bool().long()",
"m = nn.MultiheadAttention(8, 2, batch_first=True)\no, w = m(lib.zeros(1, 3, 8), lib.zeros(1, 3, 8), lib.zeros(1, 3, 8))\nresult = list(o.shape) + list(w.shape)",
"result = lib.tensor([1., 2.]).to(lib.float64).dtype == lib.float64",
"result = lib.tensor([[1., 2.]]).repeat(2, 2).shape",
"result = lib.stack([lib.tensor(1.), lib.tensor(2.)])",
"result = lib.tensor(3).float()",
"result = lib.randn(2, 3).size(1)",
"x = lib.ones(3)\nx.requires_grad = True\nresult = [x.requires_grad]",
"result = lib.is_tensor(lib.ones(1))",
"result = lib.numel(lib.ones(2, 3))",
"result = lib.tensor([1, 2, 3]) @ lib.tensor([1, 1, 1])",
"result = (lib.tensor([1, 2]) == lib.tensor([1, 3])).all().item()",
"result = lib.tensor([[1.]]).squeeze().dim()",
"result = lib.max(lib.tensor([1., 3.]), lib.tensor([2., 2.]))",
"result = lib.nn.functional.dropout(lib.ones(4), p=0.0)",
"result = lib.tensor([1., float('nan')]).isnan().sum()",
"result = lib.nn.functional.layer_norm(lib.tensor([[1., 2., 3.]]), (3,))",
"result = lib.nn.functional.conv2d(lib.ones(1, 1, 3, 3), lib.ones(1, 1, 2, 2))",
"result = lib.nn.functional.max_pool2d(lib.arange(16.).view(1, 1, 4, 4), 2)",
"result = lib.nn.functional.interpolate(lib.ones(1, 1, 2, 2), scale_factor=2).shape",
"result = lib.tensor([1.5]).round().long()",
"result = lib.zeros(0).sum()",
"result = lib.tensor([[1, 2], [3, 4]]).T.tolist()",
"result = lib.ones(2, 3).new_full((2,), 7.)",
"result = lib.ones(2, 3).masked_fill_(lib.tensor([[True, False, False]] * 2), 0)",
"result = lib.tensor(5).clone().add_(1)",
"result = lib.arange(6).reshape(2, 3).flip(1).flatten()",
]


def _as_array(v):
    if isinstance(v, (ember.Tensor, torch.Tensor)):
        return v.detach().numpy().astype(np.float64)
    if isinstance(v, (tuple, list)) and v and isinstance(v[0], (ember.Tensor, torch.Tensor)) \
            and not isinstance(v, (ember.Size, torch.Size)):
        return [_as_array(x) for x in v]
    return np.asarray(v, dtype=np.float64)


def _compare(e, t):
    ev, tv = _as_array(e), _as_array(t)
    if isinstance(ev, list):
        assert len(ev) == len(tv)
        for a, b in zip(ev, tv):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    else:
        np.testing.assert_allclose(ev, tv, rtol=1e-4, atol=1e-5)
    if isinstance(e, ember.Tensor):
        assert e.dtype.name == str(t.dtype).replace("torch.", "")


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_expression(expr):
    results = []
    for lib in (ember, torch):
        x, y = lib.tensor(A), lib.tensor(B)  # noqa: F841  (used by the expressions)
        results.append(eval(expr))
    _compare(*results)


@pytest.mark.parametrize("code", SNIPPETS)
def test_snippet(code, tmp_path):
    results = []
    for lib in (ember, torch):
        tmp = tmp_path / lib.__name__
        tmp.mkdir()
        ns = {"lib": lib, "np": np, "os": os, "nn": lib.nn, "F": lib.nn.functional, "tmp": str(tmp)}
        exec(code, ns)
        results.append(ns.get("result"))
    if results[0] is not None:
        _compare(*results)
