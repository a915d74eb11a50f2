"""Autograd semantics against torch: accumulation, retain_graph, grad(), higher order,
grad modes, hooks, custom Functions, in-place version checks."""
import numpy as np
import pytest

import ember
from helpers import torch, assert_close


def both(arr, grad=True):
    return ember.tensor(arr, requires_grad=grad), torch.tensor(arr, requires_grad=grad)


def test_accumulates_into_leaf_grad():
    (xe, xt) = both(np.array([1.0, 2.0, 3.0], np.float32))
    for x in (xe, xt):
        (x * x).sum().backward()
        (x * 3).sum().backward()
    assert_close(xe.grad, xt.grad, 1e-6, 1e-6, "accumulated grad")


def test_shared_grad_is_not_aliased():
    # add's backward sends the same gradient to both inputs; mutating one .grad must not change the other
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(5)
    assert b.grad.tolist() == [1.0, 1.0]


def test_backward_twice_needs_retain_graph():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


def test_nonscalar_backward_needs_gradient():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(ember.tensor([1.0, -1.0]))
    assert x.grad.tolist() == [2.0, -2.0]


def test_no_grad_tensor_backward_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.tensor([1.0]).backward()


def test_grad_function_and_higher_order():
    arr = np.array([0.5, -1.5, 2.0])
    xe, xt = both(arr)
    res = []
    for x, lib in ((xe, ember), (xt, torch)):
        y = (x ** 3 + 2 * x * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (ggg,) = lib.autograd.grad(gg.sum(), x)
        res.append((g, gg, ggg))
        assert x.grad is None
    for e, t in zip(*res):
        assert_close(e, t, 1e-10, 1e-12, "higher order")


def test_grad_allow_unused():
    x = ember.tensor([1.0], requires_grad=True)
    z = ember.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not used"):
        ember.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = ember.autograd.grad(y, [x, z], allow_unused=True)
    assert gx.tolist() == [2.0] and gz is None


def test_grad_wrt_intermediate():
    xe, xt = both(np.array([1.0, 2.0]))
    out = []
    for x, lib in ((xe, ember), (xt, torch)):
        h = x * x
        y = (h * 3 + h * h).sum()
        out.append(lib.autograd.grad(y, h)[0])
    assert_close(out[0], out[1], 1e-12, 1e-12, "grad wrt intermediate")


def test_backward_inputs_restricts_accumulation():
    a = ember.tensor([1.0], requires_grad=True)
    b = ember.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


def test_grad_modes():
    x = ember.tensor([1.0], requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    with ember.inference_mode():
        assert not (x * 2).requires_grad
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    ember.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ember.set_grad_enabled(True)


def test_detach_and_requires_grad_():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


def test_hooks_match_torch():
    arr = np.array([1.0, -2.0, 3.0])
    xe, xt = both(arr)
    seen = {}
    for x, lib in ((xe, "e"), (xt, "t")):
        h = x * 2
        h.register_hook(lambda g, lib=lib: g * 10)
        x.register_hook(lambda g, lib=lib: seen.update({lib: g.detach().numpy().copy()}))
        (h * h).sum().backward()
    np.testing.assert_allclose(seen["e"], seen["t"])
    assert_close(xe.grad, xt.grad, 1e-12, 1e-12, "hooked grad")


def test_hook_handle_remove():
    x = ember.tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0]


def test_retain_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]


def test_custom_function():
    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * x * x * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x * ctx.k, None

    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    assert ember.autograd.gradcheck(lambda t: Cube.apply(t, 2.0), (x,))


def test_inplace_on_saved_tensor_errors_like_torch():
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        y = h * h          # saves h
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_inplace_on_leaf_requiring_grad_errors():
    x = ember.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0]


def test_inplace_history_matches_torch():
    arr = np.array([1.0, 2.0, 3.0])
    out = []
    for lib in (ember, torch):
        x = lib.tensor(arr, requires_grad=True)
        y = x * 2
        y.mul_(x)
        y.add_(x)
        y.exp_() if hasattr(y, "exp_") else None
        y.sum().backward()
        out.append(x.grad)
    assert_close(out[0], out[1], 1e-12, 1e-12, "in-place chain")


def test_inplace_dtype_check():
    x = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.add_(1.5)
    x.copy_(ember.tensor([1.7, 2.2]))  # copy_ casts
    assert x.tolist() == [1, 2]


def test_gradcheck_detects_wrong_gradient():
    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    assert not ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
    with pytest.raises(ember.autograd.GradcheckError, match="mismatch"):
        ember.autograd.gradcheck(Wrong.apply, (x,))


def test_gradgradcheck():
    x = ember.tensor([0.3, 1.2], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: t * t * t, (x,))


def test_deep_graph_does_not_recurse():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 5000, rel=1e-3)


def test_leaf_grad_never_aliases_another_visible_gradient():
    # .grad may take over a gradient array without copying only when nothing else holds it
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1.0
    h.retain_grad()
    (h * 3).sum().backward()
    before = h.grad.tolist()
    a.grad.mul_(10)
    assert h.grad.tolist() == before
    w = ember.tensor([[1.0, 2.0]], requires_grad=True)
    x = ember.tensor([[3.0], [4.0]])
    (x @ w).sum().backward()
    g1 = w.grad.numpy().copy()
    (x @ w).sum().backward()          # accumulates in place into the (possibly stolen) array
    assert np.array_equal(w.grad.numpy(), 2 * g1)


def test_gradients_summed_in_place_never_change_a_gradient_someone_holds():
    """The engine sums a residual's gradients in place only into arrays nobody else sees:
    gradients captured by hooks and retained grads keep their values (as in PyTorch)."""
    def run(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        seen = []
        y = x * 2
        y.retain_grad()
        a = y * 3
        a.register_hook(lambda g: seen.append(g))
        b = y.relu() * 5
        b.register_hook(lambda g: seen.append(g))
        out = (a + b + y).sum() * 2
        out.backward()
        return [t.detach().numpy().copy() for t in seen] + [y.grad.numpy().copy(), x.grad.numpy().copy()]
    for e, t in zip(run(ember), run(torch)):
        np.testing.assert_array_equal(e, t)
