"""Trainer.fit / evaluate / predict and model.fit: learning, parity with a hand-written loop,
inputs, validation, errors raised before training starts."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.data import DataLoader, Dataset, TensorDataset
from ember.nn import functional as F
from ember.train import Trainer

from _train_helpers import assert_same_weights, blobs, mlp, weights


def test_fit_evaluate_predict():
    x, y = blobs(160)
    model = mlp(hidden=16)
    before = model.evaluate(x, y, verbose=0)
    h = model.fit(x, y, epochs=6, batch_size=16, lr=0.05, metrics=["accuracy"], verbose=0)
    assert h.epoch == list(range(6)) and h.params == {"epochs": 6, "steps": 10, "verbose": 0}
    assert set(h.history) == {"loss", "accuracy", "lr"}
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0] and h.history["loss"][-1] < before
    assert h.history["accuracy"][-1] > max(0.9, h.history["accuracy"][0])
    assert h.history["lr"] == [0.05] * 6
    loss, acc = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"loss": loss, "accuracy": acc} and acc > 0.9
    model.eval()
    out = model.predict(x, batch_size=7)
    assert not model.training  # the previous mode is restored
    assert tuple(out.shape) == (160, 3) and not out.requires_grad
    np.testing.assert_allclose(out.numpy(), model(ember.tensor(x)).detach().numpy(), rtol=1e-6)
    assert logs["accuracy"] == pytest.approx(float((out.numpy().argmax(1) == y).mean()))
    model.train()
    model.predict(x)
    assert model.training


def _manual_epoch(model, opt, batches, accum=1, clip=None):
    for i, (xb, yb) in enumerate(batches):
        loss = F.cross_entropy(model(xb), yb)
        (loss / accum if accum > 1 else loss).backward()
        if (i + 1) % accum == 0 or i + 1 == len(batches):
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            opt.zero_grad()


@pytest.mark.parametrize("accum,clip", [(1, None), (3, 0.5)])
def test_parity_with_manual_loop(accum, clip):
    x, y = blobs(100)
    ref = mlp(dropout=0.2, seed=3)
    opt = ember.optim.AdamW(ref.parameters(), lr=0.01)
    ember.manual_seed(7)
    _manual_epoch(ref, opt, DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=16), accum, clip)
    model = mlp(dropout=0.2, seed=3)
    ember.manual_seed(7)
    model.fit(x, y, batch_size=16, shuffle=False, optimizer="adamw", lr=0.01, verbose=0, grad_accum_steps=accum,
              clip_grad_norm=clip)
    assert_same_weights(model, ref)


def test_shuffle_matches_dataloader():
    """fit(shuffle=True) draws the same order as DataLoader(shuffle=True) from ember's default generator."""
    x, y = blobs(90)
    ref = mlp(dropout=0.3, seed=1)
    opt = ember.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    ember.manual_seed(11)
    loader = DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=20, shuffle=True)
    for _ in range(2):
        _manual_epoch(ref, opt, loader)
    model = mlp(dropout=0.3, seed=1)
    ember.manual_seed(11)
    Trainer(model, optimizer=lambda p: ember.optim.SGD(p, lr=0.1, momentum=0.9)).fit(
        x, y, batch_size=20, epochs=2, verbose=0)
    assert_same_weights(model, ref)


def test_second_fit_continues():
    x, y = blobs(64)
    a, b = mlp(seed=2), mlp(seed=2)
    a.fit(x, y, epochs=2, shuffle=False, verbose=0, lr=0.02)
    trainer = b.__dict__.get("_ember_trainer")
    assert trainer is None
    b.fit(x, y, epochs=1, shuffle=False, verbose=0, lr=0.02)
    trainer = b._ember_trainer
    b.fit(x, y, epochs=1, shuffle=False, verbose=0, lr=0.02)  # same settings: same Trainer and optimizer state
    assert b._ember_trainer is trainer and trainer.optimizer_steps == 4
    assert_same_weights(a, b)
    b.fit(x, y, epochs=1, shuffle=False, verbose=0, lr=0.05)  # other settings: a new Trainer
    assert b._ember_trainer is not trainer and b._ember_trainer.learning_rate == 0.05


def test_validation_split_holds_out_the_last_fraction():
    seen = {"train": [], "val": []}

    class Recording(Trainer):
        def train_step(self, batch):
            seen["train"].append(batch[0].numpy())
            return super().train_step(batch)

        def eval_step(self, batch):
            seen["val"].append(batch[0].numpy())
            return super().eval_step(batch)

    x, y = blobs(50)
    h = Recording(mlp()).fit(x, y, batch_size=8, validation_split=0.25, verbose=0)
    np.testing.assert_array_equal(np.concatenate(seen["val"]), x[37:])  # floor(50 * 0.75) = 37
    assert sorted(map(tuple, np.concatenate(seen["train"]))) == sorted(map(tuple, x[:37]))
    assert set(h.history) == {"loss", "val_loss", "lr"}


def test_inputs_datasets_loaders_dicts_multi_input():
    x, y = blobs(48)
    ds = TensorDataset(ember.tensor(x), ember.tensor(y))
    for data in (ds, DataLoader(ds, batch_size=12)):
        h = Trainer(mlp()).fit(data, epochs=1, verbose=0, validation_data=data)
        assert set(h.history) == {"loss", "val_loss", "lr"}
        assert tuple(Trainer(mlp()).predict(data).shape) == (48, 3)  # the targets in the batches are ignored

    class Dicts(Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return {"inputs": ember.tensor(x[i]), "labels": ember.tensor(y[i])}
    assert Trainer(mlp()).fit(Dicts(), batch_size=16, verbose=0).history["loss"]

    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 3), nn.Linear(2, 3)

        def forward(self, u, v):
            return self.a(u) + self.b(v)
    model = TwoInputs()
    model.fit((x[:, :2], x[:, 2:]), y, epochs=1, verbose=0)
    assert tuple(model.predict((x[:, :2], x[:, 2:])).shape) == (48, 3)


def test_sample_weight_and_steps_per_epoch():
    x, y = blobs(40)
    model = mlp()
    trainer = Trainer(model)
    w = np.r_[np.ones(20), np.zeros(20)].astype(np.float32)
    got = trainer.evaluate(x, y, sample_weight=w, batch_size=40, verbose=0)
    per = F.cross_entropy(model(ember.tensor(x)), ember.tensor(y), reduction="none").detach().numpy()
    assert got == pytest.approx(float((per * w).sum() / 40), rel=1e-6)
    h = trainer.fit(x, y, batch_size=16, steps_per_epoch=5, epochs=2, verbose=0)  # 5 > 3 batches: cycles
    assert trainer.optimizer_steps == 10 and h.params["steps"] == 5


def test_custom_train_step():
    class L2(Trainer):
        def train_step(self, batch):
            x, y, _ = self.unpack_batch(batch)
            pred = self.forward(x)
            penalty = sum((p * p).sum() for p in self.model.parameters())
            self.update_metrics(pred.detach(), y)
            return {"loss": self.compute_loss(pred, y) + 1e-3 * penalty, "penalty": penalty}
    x, y = blobs(64)
    h = L2(mlp(), metrics=["accuracy"]).fit(x, y, epochs=2, verbose=0)
    assert set(h.history) == {"loss", "penalty", "accuracy", "lr"} and h.history["penalty"][0] > 0


def test_optimizer_and_loss_objects():
    x, y = blobs(48)
    model = mlp()
    opt = ember.optim.SGD(model.parameters(), lr=0.5)
    trainer = Trainer(model, optimizer=opt, loss=nn.CrossEntropyLoss(), lr=0.1)
    assert trainer.optimizer is opt and trainer.learning_rate == 0.1  # lr overrides the instance's
    w = np.linspace(0, 1, 48).astype(np.float32)
    got = trainer.evaluate(x, y, sample_weight=w, batch_size=48, verbose=0)  # reduction="none" via the module
    per = F.cross_entropy(model(ember.tensor(x)), ember.tensor(y), reduction="none").detach().numpy()
    assert got == pytest.approx(float((per * w).sum() / 48), rel=1e-6) and trainer.loss.fn.reduction == "mean"
    trainer.fit(x, y, sample_weight=w, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="sample weights need per-sample losses"):
        Trainer(model, loss=lambda p, t: F.cross_entropy(p, t)).evaluate(x, y, sample_weight=w, verbose=0)


def test_binary_and_regression_losses():
    x, y = blobs(64, c=2)
    yb = y.astype(np.float32)
    model = nn.Sequential(nn.Linear(4, 1))
    h = model.fit(x, yb, loss="bce_with_logits", metrics=["accuracy", "auroc", "f1"], epochs=4, lr=0.1, verbose=0)
    assert h.history["auroc"][-1] > 0.9 and h.history["f1"][-1] > 0.8
    assert model._ember_trainer.metrics[0].from_logits is True  # known from the loss
    reg = nn.Linear(4, 2)
    h = reg.fit(x, np.stack([x[:, 0], x[:, 1]], 1), loss="mse", metrics=["mae", "r2"], epochs=5, lr=0.1, verbose=0)
    assert h.history["r2"][-1] > h.history["r2"][0]


def test_bad_inputs_raise_before_training():
    x, y = blobs(30)
    model = mlp()
    w0 = weights(model)
    with pytest.raises(ValueError, match="same number of samples, got 30 in x and 29 in y"):
        model.fit(x, y[:-1], verbose=0)
    with pytest.raises(ValueError, match="unknown loss 'xent'.*bce.*cross_entropy.*mse"):
        model.fit(x, y, loss="xent", verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer 'adamx'.*adamw.*sgd"):
        model.fit(x, y, optimizer="adamx", verbose=0)
    with pytest.raises(ValueError, match="unknown metric 'acuracy'.*accuracy"):
        model.fit(x, y, metrics=["acuracy"], verbose=0)
    with pytest.raises(TypeError, match="'cross_entropy' expects integer class indices.*float32.*y.long()"):
        model.fit(x, y.astype(np.float32), verbose=0)
    with pytest.raises(TypeError, match="'binary_cross_entropy_with_logits' expects floating-point.*int64"):
        nn.Linear(4, 1).fit(x, (y > 0).astype(np.int64), loss="bce_with_logits", verbose=0)
    with pytest.raises(TypeError, match="'CrossEntropyLoss' expects integer class indices"):
        Trainer(model, loss=nn.CrossEntropyLoss()).fit(TensorDataset(ember.tensor(x), ember.tensor(y * 1.0)))
    with pytest.raises(ValueError, match="validation_split needs x .* as tensors or arrays"):
        model.fit(TensorDataset(ember.tensor(x), ember.tensor(y)), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="y and sample_weight must not be given"):
        model.fit(TensorDataset(ember.tensor(x)), y, verbose=0)
    with pytest.raises(TypeError, match="one-shot iterator"):
        model.fit(iter([(x, y)]), verbose=0)
    assert_same_weights(model, w0)
    h = model.fit(x, y, epochs=2, initial_epoch=2, verbose=0)  # nothing to do, as in Keras
    assert h.history == {} and h.epoch == []
    assert_same_weights(model, w0)
