"""``ember demo``: a small CNN learns scikit-learn's 8x8 handwritten digits with ``model.fit``.

Writes to ``out`` (default ``ember-demo``):
- ``logs/train`` and ``logs/validation``: TensorBoard runs (per-epoch loss / accuracy / learning
  rate, a histogram of every weight per epoch, the model graph, and an image of test digits);
  view them with ``tensorboard --logdir ember-demo/logs``;
- ``digits_cnn.safetensors``: the weights of the epoch with the best validation accuracy
  (``model.load_state_dict(ember.load(path))``).
"""
from __future__ import annotations

import os
import time

import numpy as np

import ember
from ember import nn


def make_model():
    """Two conv blocks and a classifier head: 1x8x8 -> 32x4x4 -> 64x2x2 -> 10 logits."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 2 * 2, 128), nn.ReLU(), nn.Linear(128, 10))


def load_split(seed=0, test_size=0.2):
    """Digits as (N, 1, 8, 8) float32 in [0, 1] and int64 labels, split stratified by class."""
    from ember.data.datasets import load_digits
    train, test = load_digits().train_test_split(test_size, stratify=True,
                                                 generator=ember.Generator().manual_seed(seed))
    return (train.data.unsqueeze(1), train.targets), (test.data.unsqueeze(1), test.targets)


def log_samples(log_dir, model, x, y, n=32):
    """One image of ``n`` test digits (scaled up 4x) and their predicted labels as text."""
    from ember.tensorboard import SummaryWriter
    pred = model.predict(x[:n]).argmax(1).tolist()
    big = np.repeat(np.repeat(x[:n].numpy(), 4, axis=2), 4, axis=3)
    rows = [pred[i:i + 8] for i in range(0, n, 8)]
    with SummaryWriter(os.path.join(log_dir, "train")) as w:
        w.add_images("test_digits", big, 0)
        w.add_text("test_digits_predicted", "  \n".join(" ".join(map(str, r)) for r in rows)
                   + f"  \n(true: {' '.join(map(str, y[:n].tolist()))})", 0)


def clear_old_logs(logs):
    """Remove event files of an earlier demo run, so TensorBoard shows this run's curves only."""
    for run in ("train", "validation"):
        folder = os.path.join(logs, run)
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            if name.startswith("events.out.tfevents."):
                os.remove(os.path.join(folder, name))


def run(out="ember-demo", epochs=12, seed=0, batch_size=32, lr=3e-3, verbose=1):
    """Train and evaluate; returns a dict with test_accuracy, history, seconds and output paths."""
    from ember.train import LearningRateScheduler, ModelCheckpoint, TensorBoard
    start = time.perf_counter()
    ember.manual_seed(seed)
    (x, y), (x_test, y_test) = load_split(seed)
    model = make_model()
    os.makedirs(out, exist_ok=True)
    checkpoint = os.path.join(out, "digits_cnn.safetensors")
    callbacks = [ModelCheckpoint(checkpoint, monitor="val_accuracy", save_best_only=True, save_weights_only=True),
                 LearningRateScheduler(ember.optim.lr_scheduler.CosineAnnealingLR, T_max=epochs)]
    try:
        import tensorboard  # noqa: F401  (the event-file protos come from it)
        logs = os.path.join(out, "logs")
        clear_old_logs(logs)
        callbacks.append(TensorBoard(logs, histogram_freq=1))
    except ImportError:
        logs = None
    history = model.fit(x, y, optimizer="adamw", lr=lr, loss="cross_entropy", metrics=["accuracy"],
                        epochs=epochs, batch_size=batch_size, validation_split=0.1,  # test set kept unseen
                        callbacks=callbacks, verbose=verbose)
    result = model.evaluate(x_test, y_test, batch_size=256, return_dict=True, verbose=0)
    if logs:
        log_samples(logs, model, x_test, y_test)
    return {"test_accuracy": result["accuracy"], "test_loss": result["loss"], "test_samples": len(y_test),
            "history": history.history, "seconds": time.perf_counter() - start, "checkpoint": checkpoint,
            "logs": logs, "model": model}
