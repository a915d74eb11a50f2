"""save_checkpoint / load_checkpoint: a resumed run continues exactly like an uninterrupted one."""
import os
import random

import numpy as np
import pytest

import ember
import ember.io as eio
import ember.nn as nn
from ember.io import CheckpointError

from _io_helpers import arr, same_bits


class StubSGD:
    """Duck-typed optimizer (momentum SGD) with a torch-style state_dict: int keys, tuples, tensors."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params = list(params)
        self.param_groups = [{"lr": lr, "momentum": momentum, "betas": (0.5, 0.25),
                              "params": list(range(len(self.params)))}]
        self.state = {}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        g = self.param_groups[0]
        for i, p in enumerate(self.params):
            buf = self.state.setdefault(i, {"momentum_buffer": ember.zeros_like(p).detach()})["momentum_buffer"]
            buf._data[...] = g["momentum"] * buf._data + p.grad._data
            p._data[...] -= g["lr"] * buf._data

    def state_dict(self):
        return {"state": {i: {k: v.clone() for k, v in s.items()} for i, s in self.state.items()},
                "param_groups": [dict(g) for g in self.param_groups]}

    def load_state_dict(self, sd):
        self.state = {i: {k: v.clone() for k, v in s.items()} for i, s in sd["state"].items()}
        self.param_groups = [dict(g) for g in sd["param_groups"]]


class StubScheduler:
    def __init__(self, opt, gamma=0.9):
        self.opt, self.gamma, self.last_epoch = opt, gamma, 0

    def step(self):
        self.last_epoch += 1
        self.opt.param_groups[0]["lr"] *= self.gamma

    def state_dict(self):
        return {"gamma": self.gamma, "last_epoch": self.last_epoch}

    def load_state_dict(self, sd):
        self.gamma, self.last_epoch = sd["gamma"], sd["last_epoch"]


def build(kind, seed):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.3), nn.BatchNorm1d(8), nn.Linear(8, 1))
    if kind == "stub":
        opt = StubSGD(model.parameters())
        return model, opt, StubScheduler(opt)
    import ember.optim as optim
    opt = optim.Adam(model.parameters(), lr=0.01)
    return model, opt, optim.lr_scheduler.StepLR(opt, 2, 0.5)


def train(model, opt, sched, steps, losses):
    for _ in range(steps):
        # every RNG a training loop touches: ember (data, dropout), NumPy's global, Python's random
        x = ember.randn(6, 4) * float(np.random.rand()) + random.random()
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())


def seed_all():
    ember.manual_seed(1)
    np.random.seed(2)
    random.seed(3)


@pytest.mark.parametrize("kind", ["stub", "ember.optim"])
def test_resume_matches_uninterrupted_run(tmp_path, kind):
    model, opt, sched = build(kind, 0)
    seed_all()
    straight = []
    train(model, opt, sched, 8, straight)
    expected = {k: arr(v).copy() for k, v in model.state_dict().items()}

    model, opt, sched = build(kind, 0)
    seed_all()
    losses = []
    train(model, opt, sched, 4, losses)
    path = tmp_path / "ckpt.safetensors"
    eio.save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, step=4, epoch=1,
                        extra={"losses": losses, "best": min(losses)})
    train(model, opt, sched, 3, [])  # the run goes on (and diverges) before it "crashes"
    np.random.rand(5)
    random.random()

    model, opt, sched = build(kind, 123)  # a fresh process: different init
    ckpt = eio.load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    assert ckpt["step"] == 4 and ckpt["epoch"] == 1 and ckpt["extra"]["losses"] == losses
    train(model, opt, sched, 4, losses)
    assert losses == straight
    for k, v in model.state_dict().items():
        assert same_bits(arr(v), expected[k]), k


def test_rng_state_round_trip():
    seed_all()
    state = eio.capture_rng_state()
    a = (ember.rand(3)._data.copy(), np.random.rand(3), np.random.randn(), random.random())
    eio.restore_rng_state(state)
    b = (ember.rand(3)._data.copy(), np.random.rand(3), np.random.randn(), random.random())
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_dict_of_models_and_plain_load(tmp_path):
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    path = tmp_path / "gan.ckpt"
    eio.save_checkpoint(path, model={"gen": g, "disc": d}, step=7, rng=False)
    g2, d2 = nn.Linear(2, 2), nn.Linear(2, 1)
    ckpt = eio.load_checkpoint(path, model={"gen": g2, "disc": d2})
    assert ckpt["step"] == 7 and "rng" not in ckpt
    assert same_bits(arr(g2.weight.detach()), arr(g.weight.detach()))
    assert set(eio.load(path)["model"]["disc"]) == {"weight", "bias"}  # it is an ordinary ember.save file


def test_errors_change_nothing(tmp_path):
    model = nn.Linear(2, 2)
    before = arr(model.weight.detach()).copy()
    path = tmp_path / "only_model.ckpt"
    eio.save_checkpoint(path, model=nn.Linear(2, 2))
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        eio.load_checkpoint(path, model=model, optimizer=StubSGD(model.parameters()))
    assert same_bits(arr(model.weight.detach()), before)
    eio.save({"not": "a checkpoint"}, tmp_path / "plain")
    with pytest.raises(CheckpointError, match="not an Ember training checkpoint"):
        eio.load_checkpoint(tmp_path / "plain", model=model)
    with pytest.raises(CheckpointError, match=r"no state for model\['b'\]"):
        eio.save_checkpoint(path, model={"a": nn.Linear(2, 2)}, rng=False)
        eio.load_checkpoint(path, model={"b": model})
    with pytest.raises(TypeError, match="must have state_dict"):
        eio.save_checkpoint(path, optimizer=object())


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    eio.save_checkpoint(path, model=nn.Linear(2, 2), step=1)
    old = path.read_bytes()

    def boom(*a):
        raise OSError("no space left on device")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="no space"):
        eio.save_checkpoint(path, model=nn.Linear(2, 2), step=2)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["ckpt"]
    monkeypatch.undo()
    assert eio.load_checkpoint(path)["step"] == 1
