"""ember.optim.lr_scheduler against torch.optim.lr_scheduler: the same LR (and momentum / beta1)
sequence over 100 steps, and state_dict round trips."""
import copy
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn
import ember.optim as eo
import ember.optim.lr_scheduler as els

torch = pytest.importorskip("torch")
tls = torch.optim.lr_scheduler
STEPS = 100


class Halve:
    """A callable object with state: LambdaLR saves its __dict__."""

    def __init__(self):
        self.base = 0.95

    def __call__(self, epoch):
        return self.base ** epoch


def make_opts(kind="SGD"):
    """Ember and torch optimizers over two param groups with different lrs."""
    a, b = np.ones((2, 2), np.float32), np.ones(3, np.float32)
    ep = [ember.nn.Parameter(ember.from_numpy(a.copy())), ember.nn.Parameter(ember.from_numpy(b.copy()))]
    tp = [torch.nn.Parameter(torch.from_numpy(a.copy())), torch.nn.Parameter(torch.from_numpy(b.copy()))]
    kw = dict(momentum=0.9) if kind == "SGD" else {}
    mk = lambda m, p: getattr(m, kind)([{"params": p[:1]}, {"params": p[1:], "lr": 0.05}], lr=0.1, **kw)  # noqa
    return mk(eo, ep), mk(torch.optim, tp)


# name -> (build(module, optimizer), optimizer kind); module is ember's or torch's lr_scheduler
CASES = {
    "LambdaLR": (lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + 0.1 * e)), "SGD"),
    "LambdaLR-list": (lambda m, o: m.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 + math.sin(e)]), "SGD"),
    "MultiplicativeLR": (lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97), "SGD"),
    "StepLR": (lambda m, o: m.StepLR(o, step_size=7, gamma=0.5), "SGD"),
    "MultiStepLR": (lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.3), "SGD"),
    "ConstantLR": (lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=20), "SGD"),
    "LinearLR": (lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=40), "SGD"),
    "ExponentialLR": (lambda m, o: m.ExponentialLR(o, gamma=0.96), "SGD"),
    "PolynomialLR": (lambda m, o: m.PolynomialLR(o, total_iters=60, power=2.0), "SGD"),
    "CosineAnnealingLR": (lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=0.001), "SGD"),
    "CosineAnnealingWarmRestarts": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10, eta_min=0.01), "SGD"),
    "CosineAnnealingWarmRestarts-Tmult": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2), "SGD"),
    "CyclicLR-triangular": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=10), "SGD"),
    "CyclicLR-triangular2": (lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.2, step_size_up=7, step_size_down=13,
                                                     mode="triangular2"), "SGD"),
    "CyclicLR-exp_range": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=8, mode="exp_range",
                                                   gamma=0.98), "SGD"),
    "CyclicLR-adam": (lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=15, base_momentum=0.85,
                                              max_momentum=0.95), "Adam"),
    "CyclicLR-nomomentum": (lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=5, cycle_momentum=False), "Adam"),
    "CyclicLR-scale_fn": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=6, scale_fn=lambda x: 1 / (1 + 0.1 * x),
                                                  scale_mode="iterations"), "SGD"),
    "OneCycleLR-cos": (lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS), "SGD"),
    "OneCycleLR-linear": (lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.2], epochs=10, steps_per_epoch=10,
                                                    anneal_strategy="linear", pct_start=0.25), "SGD"),
    "OneCycleLR-three_phase": (lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, three_phase=True,
                                                         div_factor=10.0), "Adam"),
    "OneCycleLR-nomomentum": (lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=STEPS,
                                                        cycle_momentum=False), "Adam"),
    "SequentialLR": (lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=10),
                                                     m.CosineAnnealingLR(o, T_max=90)], milestones=[10]), "SGD"),
    "SequentialLR-3": (lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, factor=0.5, total_iters=5),
                                                       m.ExponentialLR(o, gamma=0.9),
                                                       m.StepLR(o, step_size=10, gamma=0.5)],
                                                   milestones=[5, 30]), "SGD"),
    "ChainedScheduler": (lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=10),
                                                          m.ExponentialLR(o, gamma=0.97)]), "SGD"),
    "ChainedScheduler-cosine": (lambda m, o: m.ChainedScheduler([m.LinearLR(o, 0.2, total_iters=10),
                                                                 m.CosineAnnealingLR(o, T_max=25)], o), "Adam"),
}


def trace(sched, opt, steps=STEPS, start=0):
    out = []
    for _ in range(start, steps):
        opt.step()
        sched.step()
        out.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups],
                    [g.get("momentum", g.get("betas")) for g in opt.param_groups]))
    return out


def assert_traces_equal(a, b):
    assert len(a) == len(b)
    for (l1, g1, m1), (l2, g2, m2) in zip(a, b):
        np.testing.assert_allclose(l1, l2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(np.array(m1, float), np.array(m2, float), rtol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_lr_sequence_matches_torch(case):
    build, kind = CASES[case]
    eopt, topt = make_opts(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # used in the right order, no scheduler warns
        es, ts = build(els, eopt), build(tls, topt)
        assert es.get_last_lr() == ts.get_last_lr()
        assert_traces_equal(trace(es, eopt), trace(ts, topt))


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip(case):
    build, kind = CASES[case]
    eopt, topt = make_opts(kind)
    es, ts = build(els, eopt), build(tls, topt)
    first = trace(es, eopt, 30)
    trace(ts, topt, 30)
    saved_sched, saved_opt = copy.deepcopy(es.state_dict()), copy.deepcopy(eopt.state_dict())
    # the keys PyTorch saves (callables aside)
    assert set(saved_sched) == set(ts.state_dict()) - {"_scale_fn_ref"}
    rest = trace(es, eopt, STEPS, 30)
    eopt2, _ = make_opts(kind)
    es2 = build(els, eopt2)
    eopt2.load_state_dict(saved_opt)
    es2.load_state_dict(saved_sched)
    assert es2.get_last_lr() == first[-1][0]
    assert_traces_equal(trace(es2, eopt2, STEPS, 30), rest)


def test_lambda_state_dict_saves_callable_objects():
    eopt, topt = make_opts()
    f = Halve()
    s = els.LambdaLR(eopt, f)
    t = tls.LambdaLR(topt, Halve())
    assert s.state_dict()["lr_lambdas"] == t.state_dict()["lr_lambdas"] == [{"base": 0.95}, {"base": 0.95}]
    sd = s.state_dict()
    sd["lr_lambdas"] = [{"base": 0.5}, None]
    s.load_state_dict(sd)
    assert f.base == 0.5
    assert set(s.state_dict()) == set(t.state_dict())


def test_step_with_epoch_uses_closed_form():
    for build in (lambda m, o: m.StepLR(o, 5, 0.5), lambda m, o: m.CosineAnnealingLR(o, 20),
                  lambda m, o: m.MultiStepLR(o, [3, 9]), lambda m, o: m.LinearLR(o, total_iters=8),
                  lambda m, o: m.ExponentialLR(o, 0.9), lambda m, o: m.PolynomialLR(o, 10),
                  lambda m, o: m.ConstantLR(o, total_iters=4)):
        eopt, topt = make_opts()
        es, ts = build(els, eopt), build(tls, topt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in [3, 7, 1, 12, 30]:
                eopt.step()
                topt.step()
                es.step(epoch)
                ts.step(epoch)
                np.testing.assert_allclose(es.get_last_lr(), ts.get_last_lr(), rtol=1e-12)


def test_warm_restarts_step_with_fractional_epochs():
    for T_mult in (1, 2):
        eopt, topt = make_opts()
        es = els.CosineAnnealingWarmRestarts(eopt, T_0=4, T_mult=T_mult, eta_min=0.001)
        ts = tls.CosineAnnealingWarmRestarts(topt, T_0=4, T_mult=T_mult, eta_min=0.001)
        for i in range(STEPS):
            epoch = i * 0.37
            eopt.step()
            topt.step()
            es.step(epoch)
            ts.step(epoch)
            np.testing.assert_allclose(es.get_last_lr(), ts.get_last_lr(), rtol=1e-12)
            assert es.T_i == ts.T_i and es.last_epoch == ts.last_epoch


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", factor=0.5, patience=2),
                                dict(threshold_mode="abs", threshold=0.05, cooldown=3, patience=1),
                                dict(mode="max", threshold_mode="abs", min_lr=[0.01, 0.02], patience=0),
                                dict(factor=0.2, patience=3, min_lr=0.004, eps=1e-3)])
def test_reduce_lr_on_plateau(kw):
    eopt, topt = make_opts()
    es, ts = els.ReduceLROnPlateau(eopt, **kw), tls.ReduceLROnPlateau(topt, **kw)
    metrics = [1.0 / (1 + i) if i < 20 else 0.05 + 0.01 * math.sin(i) for i in range(STEPS)]
    for i, m in enumerate(metrics):
        eopt.step()
        topt.step()
        es.step(ember.tensor(m) if i % 3 == 0 else m)
        ts.step(m)
        assert es.get_last_lr() == ts.get_last_lr()
        if i == 50:
            sd = copy.deepcopy(es.state_dict())
            assert set(sd) == set(ts.state_dict())
    assert es.num_bad_epochs == ts.num_bad_epochs and es.best == ts.best
    eopt2, _ = make_opts()
    es2 = els.ReduceLROnPlateau(eopt2, **kw)
    es2.load_state_dict(sd)
    assert es2.last_epoch == 51 and es2.mode == es.mode


def test_scheduler_before_optimizer_step_warns():
    eopt, _ = make_opts()
    s = els.StepLR(eopt, 3)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        s.step()


def test_get_lr_outside_step_warns():
    eopt, _ = make_opts()
    s = els.ExponentialLR(eopt, 0.9)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_tensor_lr_is_updated_in_place():
    p = ember.nn.Parameter(ember.ones(2))
    lr = ember.tensor(0.1)
    opt = eo.SGD([p], lr=lr)
    s = els.ExponentialLR(opt, 0.5)
    opt.step()
    s.step()
    assert opt.param_groups[0]["lr"] is lr and abs(lr.item() - 0.05) < 1e-7


@pytest.mark.parametrize("make,exc,match", [
    (lambda o: els.StepLR(object(), 3), TypeError, "ember.optim.lr_scheduler.StepLR: object is not an Optimizer"),
    (lambda o: els.ConstantLR(o, factor=2.0), ValueError, "ConstantLR: factor expected to be between 0 and 1"),
    (lambda o: els.LinearLR(o, start_factor=0), ValueError, "LinearLR: start_factor"),
    (lambda o: els.StepLR(o, 3, last_epoch=5), KeyError, "initial_lr"),
    (lambda o: els.LambdaLR(o, [lambda e: 1.0]), ValueError, "LambdaLR: expected 2 lr_lambdas, but got 1"),
    (lambda o: els.ReduceLROnPlateau(o, factor=1.0), ValueError, "ReduceLROnPlateau: factor should be < 1.0"),
    (lambda o: els.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown"),
    (lambda o: els.CyclicLR(o, 0.1, 1.0, mode="zigzag"), ValueError, "CyclicLR: mode 'zigzag' is invalid"),
    (lambda o: els.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "expected positive integer T_0"),
    (lambda o: els.OneCycleLR(o, 0.1), ValueError, "OneCycleLR: you must define either total_steps"),
    (lambda o: els.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda o: els.SequentialLR(o, [els.StepLR(o, 2)], milestones=[3]), ValueError, "SequentialLR: expects one"),
    (lambda o: els.ChainedScheduler([els.ReduceLROnPlateau(o)]), ValueError, "does not support ReduceLROnPlateau"),
    (lambda o: els.CyclicLR(eo.Adagrad([ember.nn.Parameter(ember.ones(1))]), 0.1, 1.0), ValueError,
     "optimizer must support momentum or beta1"),
])
def test_errors(make, exc, match):
    eopt, _ = make_opts()
    with pytest.raises(exc, match=match):
        make(eopt)


def test_one_cycle_past_total_steps_raises():
    eopt, _ = make_opts()
    s = els.OneCycleLR(eopt, 0.1, total_steps=3)
    for _ in range(3):
        eopt.step()
        s.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 4 times"):
        s.step()
