"""Check autograd against float64 central finite differences."""
from __future__ import annotations

import numpy as np

from .. import _tensor as T
from .engine import grad as _grad
from .grad_mode import no_grad, enable_grad


class GradcheckError(RuntimeError):
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    return (out,) if isinstance(out, T.Tensor) else tuple(o for o in out if isinstance(o, T.Tensor))


def _numerical_jacobian(fn, inputs, i, eps):
    x = inputs[i]
    outs0 = _outputs(fn, inputs)
    n_out = sum(o.numel() for o in outs0)
    jac = np.zeros((x.numel(), n_out))
    flat = x._data.reshape(-1)  # a view: perturb in place, as PyTorch does
    if x.numel() and not np.shares_memory(flat, x._data):
        raise GradcheckError("gradcheck: inputs must be contiguous")
    for k in range(x.numel()):
        orig = flat[k]
        flat[k] = orig + eps
        plus = np.concatenate([o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)])
        flat[k] = orig - eps
        minus = np.concatenate([o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)])
        flat[k] = orig
        jac[k] = (plus - minus) / (2 * eps)
    return jac


def _analytical_jacobian(fn, inputs, diff_idx):
    outs = _outputs(fn, inputs)
    diff_inputs = [inputs[i] for i in diff_idx]
    n_out = sum(o.numel() for o in outs)
    jacs = [np.zeros((inputs[i].numel(), n_out)) for i in diff_idx]
    col = 0
    for o in outs:
        for k in range(o.numel()):
            if not o._rg:
                col += 1
                continue
            seed = np.zeros(o._data.size, dtype=o._data.dtype)
            seed[k] = 1
            gs = _grad([o], diff_inputs, [T._wrap(seed.reshape(o._data.shape))],
                       retain_graph=True, allow_unused=True)
            for j, g in enumerate(gs):
                if g is not None:
                    jacs[j][:, col] = g._data.astype(np.float64).reshape(-1)
            col += 1
    return jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False):
    """True if the gradients of ``func`` at ``inputs`` match finite differences.

    Every floating input that requires grad should be float64, as in PyTorch.
    """
    inputs = (inputs,) if isinstance(inputs, T.Tensor) else tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, T.Tensor) and x._rg]
    if not diff_idx:
        raise ValueError("gradcheck: expected at least one input tensor that requires grad")
    for i in diff_idx:
        if inputs[i]._data.dtype != np.float64:
            import warnings
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; the check may fail "
                          f"from rounding alone")
    analytical = _analytical_jacobian(func, inputs, diff_idx)
    with no_grad():
        for j, i in enumerate(diff_idx):
            numerical = _numerical_jacobian(func, inputs, i, eps)
            a = analytical[j]
            if not np.allclose(a, numerical, rtol=rtol, atol=atol, equal_nan=True):
                if not raise_exception:
                    return False
                bad = np.argwhere(~np.isclose(a, numerical, rtol=rtol, atol=atol, equal_nan=True))[0]
                raise GradcheckError(
                    f"gradcheck: Jacobian mismatch for input {i} at (input element {bad[0]}, output "
                    f"element {bad[1]}): analytical {a[tuple(bad)]:.8g} vs numerical "
                    f"{numerical[tuple(bad)]:.8g}")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, gen_non_contig_grad_outputs=False):
    """Check second derivatives: gradcheck of the function (inputs, v) -> vJP."""
    inputs = (inputs,) if isinstance(inputs, T.Tensor) else tuple(inputs)
    outs = _outputs(func, inputs)
    rs = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = tuple(T._wrap(rs.standard_normal(o._data.shape)).requires_grad_() for o in outs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, T.Tensor) and x._rg]
    n = len(inputs)

    def vjp(*args):
        xs, vs = args[:n], args[n:]
        with enable_grad():  # the numerical pass runs under no_grad; the vJP needs a graph
            os = _outputs(func, xs)
            gs = _grad(os, [xs[i] for i in diff_idx], list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
