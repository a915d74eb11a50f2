"""ember.optim optimizers against torch.optim (the for-loop implementations torch uses on CPU):
same initial parameters, same gradients, 50 steps, same parameters."""
import copy
import warnings

import numpy as np
import pytest

import ember
import ember.nn
import ember.optim as eo

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-5, 1e-6
SHAPES = [(3, 4), (5,), ()]

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.9), eps=1e-6)),  # lerp weight >= 0.5: torch's second formula
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), maximize=True)),  # rho_t stays <= 5: the SGD branch
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5)),
    ("Adadelta", dict(lr=1.0, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
]
NAMES = sorted({n for n, _ in CASES})
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw in CASES]


def grad_of(step, i, P):
    """A deterministic gradient: a step-dependent wave plus a pull towards 0 (like a real loss)."""
    wave = np.sin(np.arange(P.size, dtype=np.float64).reshape(P.shape) * 0.7 + step * 0.37 + i)
    return np.asarray(wave * (1 + 0.3 * i) + 0.5 * P).astype(P.dtype)


def make_params(dtype=np.float32, shapes=SHAPES, seed=0):
    rs = np.random.default_rng(seed)
    init = [rs.standard_normal(s).astype(dtype) for s in shapes]
    return ([ember.nn.Parameter(ember.from_numpy(a.copy())) for a in init],
            [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init])


def set_grads(step, ep, tp, skip=lambda step, i: False):
    for i, (e, t) in enumerate(zip(ep, tp)):
        if skip(step, i):
            e.grad = t.grad = None
        else:
            e.grad = ember.from_numpy(grad_of(step, i, e._data))
            t.grad = torch.from_numpy(grad_of(step, i, t.detach().numpy()))


def assert_params_close(ep, tp):
    for e, t in zip(ep, tp):
        assert e.dtype.name == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(e._data, t.detach().numpy(), rtol=RTOL, atol=ATOL)


def run_both(name, kw, dtype=np.float32, steps=50, skip=lambda step, i: False):
    ep, tp = make_params(dtype)
    eopt, topt = getattr(eo, name)(ep, **kw), getattr(torch.optim, name)(tp, **kw)
    for s in range(steps):
        set_grads(s, ep, tp, skip)
        eopt.step()
        topt.step()
    return ep, tp, eopt, topt


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_matches_torch_float32(name, kw):
    ep, tp, _, _ = run_both(name, kw)
    assert_params_close(ep, tp)


@pytest.mark.parametrize("name,kw", [c for c in CASES if len(c[1]) >= 2 or c[0] == "Adadelta"][::2])
def test_matches_torch_float64(name, kw):
    ep, tp, _, _ = run_both(name, kw, np.float64)
    for e, t in zip(ep, tp):
        assert e._data.dtype == np.float64
        np.testing.assert_allclose(e._data, t.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_params_without_grad_are_skipped(name):
    # param 1 has no grad on odd steps, param 2 none before step 5: state starts lazily, as torch's
    kw = dict(CASES[[n for n, _ in CASES].index(name)][1])
    ep, tp, eopt, topt = run_both(name, kw, steps=20, skip=lambda s, i: (i == 1 and s % 2) or (i == 2 and s < 5))
    assert_params_close(ep, tp)
    assert sorted(eopt.state_dict()["state"]) == sorted(topt.state_dict()["state"])


@pytest.mark.parametrize("name,kw0,kw1", [
    ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.01, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01), dict(lr=0.003, amsgrad=True, weight_decay=0.1, betas=(0.8, 0.99))),
    ("AdamW", dict(lr=0.01), dict(lr=0.05, weight_decay=0.3)),
    ("Adamax", dict(lr=0.01), dict(weight_decay=0.2, maximize=True)),
    ("NAdam", dict(lr=0.01), dict(momentum_decay=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01), dict(lr=0.02, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01), dict(centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1), dict(lr_decay=0.1, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=1.0), dict(rho=0.7, weight_decay=0.1)),
])
def test_param_groups_with_different_options(name, kw0, kw1):
    ep, tp = make_params()
    eopt = getattr(eo, name)([{"params": ep[:1]}, {"params": ep[1:], **kw1}], **kw0)
    topt = getattr(torch.optim, name)([{"params": tp[:1]}, {"params": tp[1:], **kw1}], **kw0)
    for s in range(50):
        set_grads(s, ep, tp)
        eopt.step()
        topt.step()
    assert_params_close(ep, tp)
    assert [sorted(g) for g in eopt.param_groups] == [sorted(g) for g in topt.param_groups]
    for eg, tg in zip(eopt.param_groups, topt.param_groups):
        assert {k: v for k, v in eg.items() if k != "params"} == {k: v for k, v in tg.items() if k != "params"}


# parameters larger than Optimizer._blocks' block (64Ki float32 / 32Ki float64): updated block by
# block; a transposed (non-contiguous) one as a whole
@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] != "SGD" or "momentum" in c[1]][::3])
def test_large_params_updated_in_blocks(name, kw):
    rs = np.random.default_rng(0)
    init = [rs.standard_normal((300, 250)).astype(np.float32), rs.standard_normal((260, 130)),
            rs.standard_normal((250, 300)).astype(np.float32).T]
    ep = [ember.nn.Parameter(ember.from_numpy(a.copy(order="K"))) for a in init]
    tp = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]
    assert not ep[2]._data.flags.c_contiguous
    eopt, topt = getattr(eo, name)(ep, **kw), getattr(torch.optim, name)(tp, **kw)
    for s in range(8):
        set_grads(s, ep, tp)
        eopt.step()
        topt.step()
    assert_params_close(ep, tp)
    assert "_scratch" not in eopt.state_dict() and not any("_scratch" in str(k) for k in eopt.state_dict()["state"][0])


def test_add_param_group_later():
    ep, tp = make_params()
    eopt, topt = eo.Adam(ep[:2], lr=0.01), torch.optim.Adam(tp[:2], lr=0.01)
    for s in range(50):
        if s == 10:
            eopt.add_param_group({"params": ep[2], "lr": 0.05})
            topt.add_param_group({"params": tp[2], "lr": 0.05})
        set_grads(s, ep, tp, skip=lambda s, i: i == 2 and s < 10)
        eopt.step()
        topt.step()
    assert_params_close(ep, tp)


# --- real model gradients -----------------------------------------------------------------
def _mlp(nn, lin1, lin2):
    return nn.Sequential(lin1, nn.Tanh(), lin2)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.003, centered=True)), ("NAdam", dict(lr=0.02)),
                                     ("RAdam", dict(lr=0.01)), ("Adagrad", dict(lr=0.05))])
def test_small_model_training_matches_torch(name, kw):
    rs = np.random.default_rng(1)
    W1, b1 = rs.standard_normal((8, 4)).astype(np.float32) * 0.5, rs.standard_normal(8).astype(np.float32) * 0.1
    W2, b2 = rs.standard_normal((2, 8)).astype(np.float32) * 0.5, rs.standard_normal(2).astype(np.float32) * 0.1
    X, Y = rs.standard_normal((16, 4)).astype(np.float32), rs.standard_normal((16, 2)).astype(np.float32)

    def build(fw, nn, tensor):
        l1, l2 = nn.Linear(4, 8), nn.Linear(8, 2)
        with fw.no_grad():
            for p, a in zip([l1.weight, l1.bias, l2.weight, l2.bias], [W1, b1, W2, b2]):
                p.copy_(tensor(a))
        return _mlp(nn, l1, l2)

    em = build(ember, ember.nn, ember.tensor)
    tm = build(torch, torch.nn, torch.tensor)
    eopt, topt = getattr(eo, name)(em.parameters(), **kw), getattr(torch.optim, name)(tm.parameters(), **kw)
    ex, ey, tx, ty = ember.tensor(X), ember.tensor(Y), torch.tensor(X), torch.tensor(Y)
    for _ in range(50):
        eopt.zero_grad()
        topt.zero_grad()
        eloss = ((em(ex) - ey) ** 2).mean()
        tloss = ((tm(tx) - ty) ** 2).mean()
        eloss.backward()
        tloss.backward()
        eopt.step()
        topt.step()
    np.testing.assert_allclose(eloss.item(), tloss.item(), rtol=1e-4)
    for e, t in zip(em.parameters(), tm.parameters()):
        np.testing.assert_allclose(e._data, t.detach().numpy(), rtol=1e-4, atol=1e-5)
        assert e.is_leaf and e.requires_grad and e.grad_fn is None


def test_closure_runs_with_grad_and_returns_loss():
    w = ember.nn.Parameter(ember.tensor([1.0, -2.0]))
    opt = eo.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    with ember.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(w._data, [0.8, -1.6], rtol=1e-6)


# --- state_dict ---------------------------------------------------------------------------
STATEFUL = [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)), ("SGD", dict(lr=0.05)),
            ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)), ("Adamax", dict(lr=0.01)),
            ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01)),
            ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)), ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
            ("Adadelta", dict())]


def _as_ember(sd):
    """A torch state_dict with its tensors turned into ember tensors."""
    conv = lambda v: ember.from_numpy(v.numpy().copy()) if isinstance(v, torch.Tensor) else v  # noqa: E731
    return {"state": {k: {n: conv(v) for n, v in s.items()} for k, s in sd["state"].items()},
            "param_groups": copy.deepcopy(sd["param_groups"])}


@pytest.mark.parametrize("name,kw", STATEFUL)
def test_state_dict_layout_matches_torch(name, kw):
    ep, tp, eopt, topt = run_both(name, kw, steps=10)
    esd, tsd = eopt.state_dict(), topt.state_dict()
    assert list(esd) == list(tsd) == ["state", "param_groups"]
    assert list(esd["state"]) == list(tsd["state"])
    for k in tsd["state"]:
        assert list(esd["state"][k]) == list(tsd["state"][k])
        for n, tv in tsd["state"][k].items():
            ev = esd["state"][k][n]
            assert isinstance(ev, ember.Tensor)
            assert tuple(ev.shape) == tuple(tv.shape) and ev.dtype.name == str(tv.dtype)[6:]
            np.testing.assert_allclose(ev._data, tv.numpy(), rtol=RTOL, atol=ATOL)
    assert esd["param_groups"] == tsd["param_groups"]


@pytest.mark.parametrize("name,kw", STATEFUL)
def test_state_dict_round_trip(name, kw):
    ep, tp, eopt, _ = run_both(name, kw, steps=10)
    saved = copy.deepcopy(eopt.state_dict())
    ep2 = [ember.nn.Parameter(ember.from_numpy(p._data.copy())) for p in ep]
    fresh = getattr(eo, name)(ep2, **{**kw, "lr": 123.0})  # the loaded groups' options win
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kw.get("lr", 1.0) and fresh.param_groups[0]["params"] == ep2
    for s in range(10, 50):
        for opt, params in ((eopt, ep), (fresh, ep2)):
            for i, p in enumerate(params):
                p.grad = ember.from_numpy(grad_of(s, i, p._data))
            opt.step()
    for a, b in zip(ep, ep2):
        np.testing.assert_array_equal(a._data, b._data)
    # loading copied the state: the saved dict was not advanced by the fresh optimizer
    k = next(iter(saved["state"]), None)
    if k is not None:
        for n, v in saved["state"][k].items():
            assert v is not fresh.state[ep2[k]][n]


@pytest.mark.parametrize("name,kw", STATEFUL)
def test_load_torch_state_dict_and_continue(name, kw):
    ep, tp, eopt, topt = run_both(name, kw, steps=10)
    ep2 = [ember.nn.Parameter(ember.from_numpy(t.detach().numpy().copy())) for t in tp]
    fresh = getattr(eo, name)(ep2, **kw)
    fresh.load_state_dict(_as_ember(topt.state_dict()))
    for s in range(10, 50):
        set_grads(s, ep2, tp)
        fresh.step()
        topt.step()
    assert_params_close(ep2, tp)


def test_load_state_dict_casts_to_param_dtype_but_not_step():
    ep, _, eopt, _ = run_both("Adam", dict(lr=0.01), np.float32, steps=3)
    sd = copy.deepcopy(eopt.state_dict())
    p64 = [ember.nn.Parameter(ember.from_numpy(p._data.astype(np.float64))) for p in ep]
    opt = eo.Adam(p64)
    opt.load_state_dict(sd)
    st = opt.state[p64[0]]
    assert st["exp_avg"].dtype == ember.float64 and st["step"].dtype == ember.float32


def test_load_state_dict_errors():
    ep, _ = make_params()
    opt = eo.SGD(ep, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="ember.optim.SGD: loaded state dict has 2 parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0]}, {"params": [1, 2]}]})
    with pytest.raises(ValueError, match="ember.optim.SGD: loaded state dict's parameter group 0 has 2"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})


# --- API behaviour ------------------------------------------------------------------------
def test_step_updates_in_place_and_bumps_version():
    p = ember.nn.Parameter(ember.ones(3))
    arr, v0 = p._data, p._version
    opt = eo.Adam([p])
    p.grad = ember.ones(3)
    g = p.grad._data.copy()
    opt.step()
    assert p._data is arr and p._version == v0 + 1
    np.testing.assert_array_equal(p.grad._data, g)  # the gradient is never written to
    assert p.is_leaf and p.grad_fn is None and p.requires_grad


def test_zero_grad():
    ep, _ = make_params()
    opt = eo.SGD(ep, lr=0.1)
    for p in ep:
        p.grad = ember.ones(p.shape)
    g = ep[0].grad
    opt.zero_grad(set_to_none=False)
    assert ep[0].grad is g and not g._data.any()
    opt.zero_grad()
    assert all(p.grad is None for p in ep)


def test_defaults_and_group_keys_match_torch():
    for name in NAMES:
        ep, tp = make_params()
        eopt, topt = getattr(eo, name)(ep), getattr(torch.optim, name)(tp)
        assert eopt.defaults == topt.defaults, name
        assert repr(eopt) == repr(topt)


def test_named_parameters():
    ep, tp = make_params()
    eopt = eo.Adam([("a", ep[0]), ("b", ep[1])])
    topt = torch.optim.Adam([("a", tp[0]), ("b", tp[1])])
    assert eopt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


def test_hooks():
    calls = []
    p = ember.nn.Parameter(ember.ones(2))
    opt = eo.SGD([p], lr=0.1)
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    h3 = eo.register_optimizer_step_pre_hook(lambda o, a, k: calls.append("global-pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_post_hook(lambda o: calls.append("loaded"))
    opt.step()
    assert calls == ["global-pre", "pre", "post"]
    for h in (h1, h2, h3):
        h.remove()
    opt.step()
    assert calls == ["global-pre", "pre", "post"]
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert calls[-1] == "loaded"


def test_custom_optimizer_subclass():
    class Sign(eo.Optimizer):
        def __init__(self, params, lr=eo.required):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            for g in self.param_groups:
                for p in g["params"]:
                    if p.grad is not None:
                        p._data -= g["lr"] * np.sign(p.grad._data)
    seen = []
    p = ember.nn.Parameter(ember.tensor([1.0, -1.0]))
    opt = Sign([p], lr=0.5)
    opt.register_step_post_hook(lambda *a: seen.append(1))
    p.grad = ember.tensor([2.0, -3.0])
    opt.step()
    np.testing.assert_array_equal(p._data, [0.5, -0.5])
    assert seen == [1]
    with pytest.raises(ValueError, match="ember.optim.Sign: parameter group didn't specify a value of required"):
        Sign([p])


@pytest.mark.parametrize("make,exc,match", [
    (lambda p: eo.SGD(p, lr=-1.0), ValueError, r"ember.optim.SGD: invalid learning rate: -1.0"),
    (lambda p: eo.SGD(p, momentum=-0.1), ValueError, r"ember.optim.SGD: invalid momentum value"),
    (lambda p: eo.SGD(p, nesterov=True), ValueError, r"ember.optim.SGD: Nesterov momentum requires"),
    (lambda p: eo.Adam(p, betas=(1.0, 0.9)), ValueError, r"ember.optim.Adam: invalid beta parameter at index 0"),
    (lambda p: eo.AdamW(p, eps=-1), ValueError, r"ember.optim.AdamW: invalid epsilon value"),
    (lambda p: eo.NAdam(p, momentum_decay=-1), ValueError, r"ember.optim.NAdam: invalid momentum_decay"),
    (lambda p: eo.RMSprop(p, alpha=-1), ValueError, r"ember.optim.RMSprop: invalid alpha value"),
    (lambda p: eo.Adagrad(p, lr_decay=-1), ValueError, r"ember.optim.Adagrad: invalid lr_decay value"),
    (lambda p: eo.Adadelta(p, rho=1.5), ValueError, r"ember.optim.Adadelta: invalid rho value"),
    (lambda p: eo.RAdam(p, weight_decay=-1), ValueError, r"ember.optim.RAdam: invalid weight_decay value"),
    (lambda p: eo.Adam(p, differentiable=True), NotImplementedError, r"ember.optim.Adam: differentiable=True"),
    (lambda p: eo.SGD([{"params": p[:2]}, {"params": p[1:]}]), ValueError,
     r"ember.optim.SGD: some parameters appear in more than one parameter group"),
    (lambda p: eo.SGD([p[0], 3.0]), TypeError, r"ember.optim.SGD: can only optimize Tensors, but one of the "
                                               r"params is builtins.float"),
    (lambda p: eo.SGD([]), ValueError, r"ember.optim.SGD: optimizer got an empty parameter list"),
    (lambda p: eo.SGD(p[0]), TypeError, r"ember.optim.SGD: params argument given to the optimizer"),
    (lambda p: eo.SGD([{"params": set(p)}]), TypeError, r"ember.optim.SGD: optimizer parameters need to be organized"),
    (lambda p: eo.SGD([p[0] * 2]), ValueError, r"ember.optim.SGD: can't optimize a non-leaf Tensor"),
])
def test_errors(make, exc, match):
    ep, _ = make_params()
    with pytest.raises(exc, match=match):
        make(ep)


def test_duplicate_parameter_warns():
    ep, _ = make_params()
    with pytest.warns(UserWarning, match="duplicate parameters"):
        eo.SGD([ep[0], ep[0]])


def test_step_emits_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, kw in CASES:
            run_both(name, kw, steps=3)


def test_step_state_follows_default_dtype():
    prev, tprev = ember.get_default_dtype(), torch.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        ep, tp, eopt, topt = run_both("NAdam", dict(lr=0.01), np.float64, steps=5)
        es, ts = eopt.state[ep[0]], topt.state[tp[0]]
        assert es["step"].dtype == ember.float64 and ts["step"].dtype == torch.float64
        assert es["mu_product"].item() == ts["mu_product"].item()
    finally:
        ember.set_default_dtype(prev)
        torch.set_default_dtype(tprev)


def test_tensor_lr():
    ep, tp = make_params()
    eopt = eo.SGD(ep, lr=ember.tensor(0.1), momentum=0.9)
    topt = torch.optim.SGD(tp, lr=torch.tensor(0.1), momentum=0.9)
    for s in range(10):
        set_grads(s, ep, tp)
        eopt.step()
        topt.step()
    assert_params_close(ep, tp)
