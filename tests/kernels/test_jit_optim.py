"""The fused optimizer loops update parameters exactly as the NumPy code does."""
import contextlib

import numpy as np
import pytest

import ember
from ember.kernels.cpu import jit
from .jit_check import needs_numba

pytestmark = needs_numba

CASES = [
    ("Adam", {}), ("Adam", dict(weight_decay=0.1, amsgrad=True)), ("Adam", dict(maximize=True, betas=(0.3, 0.9))),
    ("AdamW", {}), ("AdamW", dict(amsgrad=True, weight_decay=0.5)), ("AdamW", dict(betas=(0.0, 0.5))),
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True)),
]


def _run(name, opts, dtype, fused):
    rng = np.random.default_rng(0)
    shapes = [(7, 5), (5,), (300,)]
    params = [ember.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    opt = getattr(ember.optim, name)(params, **opts)
    ctx = jit.disabled() if not fused else contextlib.nullcontext()
    with ctx:
        for step in range(4):
            for p in params:
                g = rng.standard_normal(p.shape).astype(dtype)
                g.reshape(-1)[::7] = np.nan if step == 3 and dtype == np.float64 else g.reshape(-1)[::7]
                p.grad = ember.tensor(g)
            opt.step()
    state = [{k: v.numpy().copy() for k, v in opt.state[p].items()} for p in params]
    return [p.detach().numpy().copy() for p in params], state



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,opts", CASES)
def test_fused_update_matches_numpy(name, opts, dtype):
    fused, fused_state = _run(name, opts, dtype, True)
    plain, plain_state = _run(name, opts, dtype, False)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
    for sa, sb in zip(fused_state, plain_state):
        assert sa.keys() == sb.keys()
        for k in sa:
            np.testing.assert_array_equal(sa[k], sb[k])


def test_non_contiguous_or_half_falls_back():
    p = ember.zeros(4, dtype=ember.float16, requires_grad=True)
    p.grad = ember.ones(4, dtype=ember.float16)
    ember.optim.AdamW([p], lr=0.1).step()
    assert p.dtype == ember.float16 and np.all(p.detach().numpy() < 0)
