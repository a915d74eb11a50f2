"""Callbacks: hook order, EarlyStopping, TerminateOnNaN, LR schedules, CSVLogger, TensorBoard, ProgressBar."""
import csv
import math
import re
import sys

import numpy as np
import pytest

import ember
from ember.train import (CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, ProgressBar,
                         ReduceLROnPlateau, TensorBoard, TerminateOnNaN, Trainer)

from _train_helpers import assert_same_weights, blobs, mlp, weights


def _scripted(values, key="score"):
    """A callback that puts values[epoch] into the epoch logs under ``key`` (it runs first)."""
    return LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__(key, values[epoch]))


def test_lambda_callback_hook_order():
    events = []
    hooks = {name: (lambda name: lambda *a: events.append((name,) + tuple(x for x in a if isinstance(x, int))))(name)
             for name in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
                          "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin",
                          "on_test_batch_end")}
    x, y = blobs(24)
    Trainer(mlp(), callbacks=[LambdaCallback(**hooks)]).fit(x[:16], y[:16], batch_size=8, epochs=2, verbose=0,
                                                             validation_data=(x[16:], y[16:]))
    epoch = lambda e: [("on_epoch_begin", e), ("on_train_batch_begin", 0), ("on_train_batch_end", 0),  # noqa: E731
                       ("on_train_batch_begin", 1), ("on_train_batch_end", 1), ("on_test_begin",),
                       ("on_test_batch_begin", 0), ("on_test_batch_end", 0), ("on_test_end",), ("on_epoch_end", e)]
    assert events == [("on_train_begin",)] + epoch(0) + epoch(1) + [("on_train_end",)]
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_start'"):
        LambdaCallback(on_epoch_start=print)


def test_early_stopping_restores_best_weights():
    x, y = blobs(32)
    snapshots = []
    model = mlp()
    es = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=10, verbose=0, lr=0.05, callbacks=[
        _scripted([5, 4, 3, 3.5, 3.6, 3.7, 1, 1, 1, 1]), es,
        LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(weights(model)))])
    assert h.epoch == [0, 1, 2, 3, 4] and es.stopped_epoch == 4 and es.best_epoch == 2 and es.best == 3
    assert_same_weights(model, snapshots[2])
    # baseline: improvements that do not beat it do not reset the wait (Keras); start_from_epoch: ignored epochs
    h = model.fit(x, y, epochs=10, verbose=0, lr=0.05, callbacks=[
        _scripted([5, 5, 5, 5, 5, 5, 5, 5, 5, 5]), EarlyStopping(monitor="score", patience=2, baseline=0.5)])
    assert h.epoch == [0, 1]
    h = model.fit(x, y, epochs=10, verbose=0, lr=0.05, callbacks=[
        _scripted([5, 4, 3, 2, 1, 0, 0, 0, 0, 0]), EarlyStopping(monitor="score", patience=2, baseline=0.5)])
    assert h.epoch == [0, 1, 2, 3, 4, 5, 6, 7]
    h = model.fit(x, y, epochs=10, verbose=0, lr=0.05, callbacks=[
        _scripted([9, 9, 9, 1, 2, 3, 4, 5, 6, 7]), EarlyStopping(monitor="score", patience=1, start_from_epoch=3)])
    assert h.epoch == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="up")


def test_terminate_on_nan():
    x, y = blobs(96)
    x[64:70] = np.nan  # the third batch of 32
    batches = []
    h = mlp().fit(x, y, shuffle=False, epochs=3, verbose=0, callbacks=[
        TerminateOnNaN(), LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1, 2] and h.epoch == [0] and math.isnan(h.history["loss"][0])


def test_learning_rate_schedules():
    x, y = blobs(32)
    h = mlp().fit(x, y, epochs=4, batch_size=8, verbose=0, lr=0.1,
                  callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])
    h = mlp().fit(x, y, epochs=4, batch_size=8, verbose=0, lr=0.1,
                  callbacks=[LearningRateScheduler(ember.optim.lr_scheduler.StepLR, step_size=2, gamma=0.5)])
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05])
    trainer = Trainer(mlp(), lr=0.1)
    h = trainer.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[LearningRateScheduler(
        lambda opt: ember.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.9 ** step), interval="step")])
    assert h.history["lr"] == pytest.approx([0.1 * 0.9 ** 4, 0.1 * 0.9 ** 8])  # the lr after the epoch's last step
    assert trainer.learning_rate == pytest.approx(0.1 * 0.9 ** 8)
    h = mlp().fit(x, y, epochs=6, verbose=0, lr=0.1, callbacks=[
        _scripted([1.0] * 6), ReduceLROnPlateau(monitor="score", patience=1, factor=0.5)])
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])


def test_csv_logger(tmp_path):
    x, y = blobs(40)
    path = tmp_path / "log.csv"
    model = mlp()
    h = model.fit(x, y, epochs=2, verbose=0, metrics=["accuracy"], validation_split=0.2, callbacks=[CSVLogger(path)])
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    for i, row in enumerate(rows[1:]):
        assert [float(v) for v in row[1:]] == pytest.approx([h.history[k][i] for k in rows[0][1:]])
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.2, callbacks=[CSVLogger(path, separator=";", append=True)])
    lines = open(path).read().splitlines()
    assert len(lines) == 4 and lines[3].startswith("0;")


def test_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    x, y = blobs(40)
    mlp().fit(x, y, epochs=3, batch_size=8, verbose=0, validation_split=0.2, metrics=["accuracy"],
              callbacks=[TensorBoard(tmp_path, histogram_freq=2, update_freq=3)])

    def load(sub):
        acc = EventAccumulator(str(tmp_path / sub), size_guidance={"scalars": 0, "histograms": 0})
        acc.Reload()
        return acc
    train, val = load("train"), load("validation")
    for tag in ("epoch_loss", "epoch_accuracy", "epoch_learning_rate"):
        assert [e.step for e in train.Scalars(tag)] == [0, 1, 2]
    assert [e.step for e in train.Scalars("batch_loss")] == [3, 6, 9, 12]  # 4 batches x 3 epochs, every 3rd
    assert sorted(val.Tags()["scalars"]) == ["epoch_accuracy", "epoch_loss"]
    assert [e.step for e in val.Scalars("epoch_loss")] == [0, 1, 2]
    assert sorted(train.Tags()["histograms"]) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert [e.step for e in train.Histograms("0.weight")] == [0, 2]
    assert train.Tags()["graph"]


def _epoch_lines(out):
    return [line for line in out.splitlines() if line.startswith("Epoch")]


def test_progress_bar_lines_when_not_a_tty(capsys):
    x, y = blobs(40)
    mlp().fit(x, y, epochs=2, batch_size=16, metrics=["accuracy"], validation_split=0.2)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 2 and _epoch_lines(out) == lines
    pat = r"Epoch {}/2 - 2/2 - \S+ - \d+ samples/s - loss: \d\.\d{{4}} - accuracy: \d\.\d{{4}} - " \
          r"val_loss: \d\.\d{{4}} - val_accuracy: \d\.\d{{4}} - lr: \d\.\d{{4}}"
    assert re.fullmatch(pat.format(1) + r" - ETA \S+", lines[0]) and re.fullmatch(pat.format(2), lines[1])
    mlp().fit(x, y, epochs=2, verbose=0)
    Trainer(mlp()).evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""
    Trainer(mlp()).evaluate(x, y)
    assert re.fullmatch(r"Evaluate - 2/2 - \S+ - \d+ samples/s - loss: \d\.\d{4}\n", capsys.readouterr().out)


def test_progress_bar_live_on_a_tty(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    x, y = blobs(48)
    mlp().fit(x, y, epochs=2, batch_size=16, callbacks=[ProgressBar(interval=0)])
    out = capsys.readouterr().out
    assert out.count("\n") == 2  # one finished line per epoch, redrawn in place with \r
    first = out.split("\n")[0]
    frames = first.split("\r")[1:]
    assert len(frames) == 4  # steps 1, 2, 3 and the epoch's final line
    assert re.match(r"Epoch 1/2 1/3 \[==========>\.{19}\] - ETA \S+ - \d+ samples/s - loss: \d\.\d{4}", frames[0])
    assert re.match(r"Epoch 1/2 3/3 \[={30}\] - \S+ - \d+ samples/s - loss: \d\.\d{4} - lr: ", frames[-1])
    mlp().fit(x, y, epochs=1, verbose=2)  # verbose=2: epoch lines even on a terminal
    assert "\r" not in capsys.readouterr().out
