"""ModelCheckpoint files, resuming (a resumed fit ends bit for bit where an uninterrupted one
ends) and Ctrl-C handling."""
import os
import signal
import sys

import pytest

import ember
from ember.io import CheckpointError, load_checkpoint, load_file
from ember.optim.lr_scheduler import StepLR
from ember.train import EarlyStopping, LambdaCallback, LearningRateScheduler, ModelCheckpoint, Trainer

from _train_helpers import assert_same_weights, blobs, mlp, weights


def _fit(epochs, extra=(), resume_from=None, seed=0, raise_at=None):
    """A small run with dropout, shuffling, a validation split, an LR schedule and stateful callbacks.
    ``raise_at``: raise KeyboardInterrupt in on_train_batch_end at that global batch."""
    x, y = blobs(80)
    model = mlp(dropout=0.25, seed=seed)
    trainer = Trainer(model, lr=0.02, metrics=["accuracy"])
    callbacks = [LearningRateScheduler(StepLR, step_size=1, gamma=0.7), EarlyStopping(patience=10), *extra]
    if raise_at is not None:
        def hit(batch, logs):
            if trainer.global_step == raise_at:
                raise KeyboardInterrupt
        callbacks.append(LambdaCallback(on_train_batch_end=hit))
    h = trainer.fit(x, y, batch_size=16, epochs=epochs, validation_split=0.2, callbacks=callbacks,
                    resume_from=resume_from, verbose=0)
    return trainer, h


def _optimizer_state(trainer):
    return {f"{i}.{k}": v.numpy().copy() for i, s in trainer.optimizer.state_dict()["state"].items()
            for k, v in s.items() if hasattr(v, "numpy")}


def test_resume_from_epoch_checkpoint(tmp_path):
    full, hf = _fit(4, [ModelCheckpoint(tmp_path / "a" / "ep{epoch}.safetensors")])
    _fit(2, [ModelCheckpoint(tmp_path / "b" / "ep{epoch}.safetensors")])
    assert sorted(os.listdir(tmp_path / "b")) == ["ep1.safetensors", "ep2.safetensors"]
    ember.manual_seed(12345)  # the checkpoint's RNG states win over whatever the new process has
    resumed, hr = _fit(4, [ModelCheckpoint(tmp_path / "c" / "ep{epoch}.safetensors")],
                       resume_from=tmp_path / "b" / "ep2.safetensors", seed=99)
    assert hr.epoch == [2, 3]
    assert_same_weights(resumed.model, full.model)
    assert_same_weights(_optimizer_state(resumed), _optimizer_state(full))
    for k in ("loss", "accuracy", "val_loss", "lr"):
        assert hr.history[k] == hf.history[k][2:]
    assert resumed.global_step == full.global_step == 16


def test_interrupt_saves_and_resume_true_continues_mid_epoch(tmp_path):
    full, _ = _fit(3)
    ended = []
    ckpt = tmp_path / "ck" / "ep{epoch}.safetensors"
    callbacks = [ModelCheckpoint(ckpt, resume=True), LambdaCallback(on_train_end=lambda logs: ended.append(1))]
    stopped, h = _fit(3, callbacks, raise_at=6)  # 4 batches per epoch: stops in epoch 1 after its 2nd batch
    assert stopped.interrupted and ended == [1] and h.epoch == [0] and stopped.global_step == 6
    assert sorted(os.listdir(tmp_path / "ck")) == ["ep1.safetensors", "last.safetensors"]
    info = load_checkpoint(tmp_path / "ck" / "last.safetensors", restore_rng=False)
    assert (info["epoch"], info["step"], info["extra"]["batch"]) == (1, 6, 2)
    ember.manual_seed(3)
    resumed, h2 = _fit(3, [ModelCheckpoint(ckpt, resume=True), LambdaCallback()], seed=5)
    assert h2.epoch == [1, 2]
    assert_same_weights(resumed.model, full.model)
    assert_same_weights(_optimizer_state(resumed), _optimizer_state(full))


def test_checkpoint_files_best_last_weights_only(tmp_path):
    x, y = blobs(40)
    model = mlp()
    scores = [3.0, 2.0, 2.5, 1.0]
    snaps = []
    cb = ModelCheckpoint(tmp_path / "w-{epoch:02d}-{score:.1f}.safetensors", monitor="score", save_best_only=True,
                         save_weights_only=True, save_last=True)
    def script(epoch, logs):
        logs["score"] = scores[epoch]
        snaps.append(weights(model))
    model.fit(x, y, epochs=4, verbose=0, callbacks=[LambdaCallback(on_epoch_end=script), cb])
    assert sorted(os.listdir(tmp_path)) == ["last.safetensors", "w-01-3.0.safetensors", "w-02-2.0.safetensors",
                                            "w-04-1.0.safetensors"]
    for name, i in (("w-02-2.0", 1), ("last", 3)):
        assert_same_weights({k: v.numpy() for k, v in load_file(tmp_path / f"{name}.safetensors").items()}, snaps[i])
    with pytest.raises(CheckpointError, match="weights only"):
        Trainer(mlp()).fit(x, y, verbose=0, resume_from=tmp_path / "last.safetensors")
    # a full checkpoint loads with ember.io.load_checkpoint
    full = tmp_path / "full.safetensors"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(full)])
    other = mlp(seed=8)
    opt = ember.optim.AdamW(other.parameters())
    ckpt = load_checkpoint(full, model=other, optimizer=opt)
    assert ckpt["epoch"] == 1 and ckpt["extra"]["format"] == "ember.train"
    assert_same_weights(other, model)
    with pytest.raises(KeyError, match="names 'val_loss', which is not in the logs"):
        model.fit(x, y, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "{val_loss:.2f}.safetensors")])


def test_save_freq_in_batches(tmp_path):
    x, y = blobs(64)
    mlp().fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[ModelCheckpoint(tmp_path / "e{epoch}-b{batch}.safetensors", save_freq=3)])
    assert sorted(os.listdir(tmp_path)) == ["e1-b3.safetensors", "e2-b2.safetensors"]


needs_sigint = pytest.mark.skipif(sys.platform == "win32" or signal.getsignal(signal.SIGINT)
                                  is not signal.default_int_handler, reason="needs POSIX SIGINT with Python's handler")


@needs_sigint
def test_ctrl_c_stops_after_the_batch():
    x, y = blobs(64)
    batches, ended = [], []

    def on_batch(b, logs):
        batches.append(b)
        if b == 1:
            os.kill(os.getpid(), signal.SIGINT)
    trainer = Trainer(mlp())
    h = trainer.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[
        LambdaCallback(on_train_batch_end=on_batch, on_train_end=lambda logs: ended.append(1))])
    assert trainer.interrupted and batches == [0, 1] and ended == [1] and h.epoch == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@needs_sigint
def test_second_ctrl_c_is_not_swallowed():
    x, y = blobs(64)

    def twice(b, logs):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        Trainer(mlp()).fit(x, y, verbose=0, callbacks=[LambdaCallback(on_train_batch_end=twice)])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def again(logs):
        raise KeyboardInterrupt  # Ctrl-C while cleaning up after the first one
    with pytest.raises(KeyboardInterrupt):
        _fit(1, [LambdaCallback(on_train_end=again)], raise_at=1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
