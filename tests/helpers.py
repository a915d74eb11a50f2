"""The torch-oracle helper every op and layer test uses (after tinygrad's helper_test_op).

    check_op([(3, 4), (4,)], lambda a, b: a + b)            # same code runs on both
    check_op([(3, 4)], lambda x: ember.exp(x), lambda x: torch.exp(x))

The same NumPy inputs go to ember and to torch; forward values (and dtypes) are
compared, then a random upstream gradient is pushed back through both and the
gradient of every floating input is compared.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

TOL = {np.float32: (1e-4, 1e-5), np.float64: (1e-10, 1e-12), np.float16: (1e-2, 1e-3)}


def make_inputs(shapes, dtype=np.float32, low=-2.0, high=2.0, seed=0, noncontig=False):
    """Random arrays for ``shapes``; arrays given directly pass through (ints, masks...)."""
    rs = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if isinstance(s, np.ndarray):
            out.append(s)
            continue
        s = tuple(s)
        if noncontig and len(s) >= 2:  # same shape, transposed (non-contiguous) strides
            a = np.ascontiguousarray(rs.uniform(low, high, s[::-1]).astype(dtype)).T
        else:
            a = rs.uniform(low, high, s).astype(dtype)
        out.append(a)
    return out


def _to_ember(a, grad):
    t = ember.from_numpy(a.copy(order="K"))  # "K" keeps a non-contiguous layout
    if grad and a.dtype.kind == "f":
        t.requires_grad_()
    return t


def _to_torch(a, grad):
    t = torch.from_numpy(np.array(a, order="C", copy=True))
    if grad and a.dtype.kind == "f":
        t.requires_grad_()
    return t


def _flatten(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flatten(o))
        return res
    return [out]


def to_numpy(x):
    if isinstance(x, ember.Tensor):
        return x.detach().numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(e, t, rtol, atol, what):
    en, tn = to_numpy(e), to_numpy(t)
    assert en.shape == tn.shape, f"{what}: shape {en.shape} != torch {tn.shape}"
    if isinstance(e, ember.Tensor) and isinstance(t, torch.Tensor):
        assert e.dtype.name == str(t.dtype).replace("torch.", ""), f"{what}: dtype {e.dtype} != torch {t.dtype}"
    if en.dtype.kind in "biu":
        np.testing.assert_array_equal(en, tn, err_msg=what)
    else:
        np.testing.assert_allclose(en.astype(np.float64), tn.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True, err_msg=what)


def check_op(shapes, ember_fn, torch_fn=None, *, dtype=np.float32, low=-2.0, high=2.0, grad=True,
             rtol=None, atol=None, seed=0, noncontig=False, inputs=None):
    """Compare ``ember_fn`` and ``torch_fn`` forward and backward on the same inputs.

    ``torch_fn`` defaults to ``ember_fn`` (method-style code runs on both). Returns
    the (ember, torch) outputs for further checks.
    """
    torch_fn = torch_fn or ember_fn
    arrays = inputs if inputs is not None else make_inputs(shapes, dtype, low, high, seed, noncontig)
    r0, a0 = TOL.get(np.dtype(dtype).type, (1e-4, 1e-5))
    rtol, atol = rtol if rtol is not None else r0, atol if atol is not None else a0
    e_in = [_to_ember(a, grad) for a in arrays]
    t_in = [_to_torch(a, grad) for a in arrays]
    e_out, t_out = ember_fn(*e_in), torch_fn(*t_in)
    e_flat, t_flat = _flatten(e_out), _flatten(t_out)
    assert len(e_flat) == len(t_flat), f"{len(e_flat)} outputs != torch {len(t_flat)}"
    for i, (e, t) in enumerate(zip(e_flat, t_flat)):
        assert_close(e, t, rtol, atol, f"forward output {i}")
    if not grad:
        return e_out, t_out
    rs = np.random.default_rng(seed + 1)
    e_diff, t_diff, grads = [], [], []
    for e, t in zip(e_flat, t_flat):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.numel() > 0:
            g = rs.standard_normal(tuple(t.shape)).astype(to_numpy(t).dtype)
            e_diff.append(e)
            t_diff.append(t)
            grads.append(g)
    if not t_diff:
        return e_out, t_out
    assert all(e.requires_grad for e in e_diff), "ember output does not require grad where torch's does"
    torch.autograd.backward(t_diff, [torch.from_numpy(g) for g in grads])
    ember.autograd.backward(e_diff, [ember.from_numpy(g) for g in grads])
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if t.requires_grad:
            if t.grad is None:
                assert e.grad is None or not np.any(to_numpy(e.grad)), f"grad of input {i}: torch has none"
                continue
            assert e.grad is not None, f"grad of input {i} is None, torch has one"
            assert_close(e.grad, t.grad, rtol, atol, f"grad of input {i}")
    return e_out, t_out


def check_gradcheck(shapes, fn, *, low=-2.0, high=2.0, seed=0, inputs=None, **kw):
    """float64 finite differences against ember's autograd for ``fn``."""
    arrays = inputs if inputs is not None else make_inputs(shapes, np.float64, low, high, seed)
    xs = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert ember.autograd.gradcheck(fn, xs, **kw)


def load_torch_weights(ember_module, torch_module):
    """Copy a torch module's state_dict (as NumPy arrays) into the ember module, by key name."""
    sd = {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}
    ember_module.load_state_dict(sd)


def check_module(ember_module, torch_module, shapes, *, dtype=np.float32, inputs=None, grad=True,
                 rtol=None, atol=None, seed=0, low=-2.0, high=2.0, call=None, load=True):
    """Load torch's weights into the ember module (same key names), run both on the same
    inputs, compare outputs, input gradients and every parameter gradient by name.

    ``call(module, *inputs)`` customises the call (default: ``module(*inputs)``).
    """
    if dtype == np.float64:
        ember_module.double()
        torch_module.double()
    if load:
        e_keys, t_keys = list(ember_module.state_dict()), list(torch_module.state_dict())
        assert e_keys == t_keys, f"state_dict keys differ:\n ember {e_keys}\n torch {t_keys}"
        load_torch_weights(ember_module, torch_module)
    call = call or (lambda m, *xs: m(*xs))
    e_out, t_out = check_op(shapes, lambda *xs: call(ember_module, *xs), lambda *xs: call(torch_module, *xs),
                            dtype=dtype, inputs=inputs, grad=grad, rtol=rtol, atol=atol, seed=seed,
                            low=low, high=high)
    if grad:
        r0, a0 = TOL.get(np.dtype(dtype).type, (1e-4, 1e-5))
        e_params = dict(ember_module.named_parameters())
        for name, tp in torch_module.named_parameters():
            ep = e_params[name]
            if tp.grad is None:
                assert ep.grad is None or not np.any(to_numpy(ep.grad)), f"grad of {name}: torch has none"
                continue
            assert ep.grad is not None, f"grad of parameter {name} is None, torch has one"
            assert_close(ep.grad, tp.grad, rtol or r0, atol or a0, f"grad of parameter {name}")
    return e_out, t_out
