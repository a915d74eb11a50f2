"""TensorBoard callback: Keras' layout with ``ember.tensorboard.SummaryWriter``.

``log_dir/train`` gets ``epoch_<key>`` scalars (``epoch_learning_rate`` for the lr) at step
``epoch``, ``batch_<key>`` scalars every ``update_freq`` batches (at the global batch count),
weight histograms every ``histogram_freq`` epochs and the model graph once; ``log_dir/validation``
gets the ``val_`` logs as ``epoch_<key>``, so TensorBoard overlays the two runs.
"""
from __future__ import annotations

import os

from .callbacks import Callback


class TensorBoard(Callback):
    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, update_freq="epoch"):
        if update_freq not in ("epoch", "batch") and (isinstance(update_freq, bool) or
                                                      not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"ember.train.TensorBoard: update_freq must be 'epoch', 'batch' or a positive number "
                             f"of batches, got {update_freq!r}")
        self.log_dir, self.histogram_freq, self.write_graph = os.fspath(log_dir), histogram_freq, write_graph
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers, self._graph_written = {}, False

    def _writer(self, which):
        if which not in self._writers:
            from ..tensorboard import SummaryWriter
            self._writers[which] = SummaryWriter(os.path.join(self.log_dir, which))
        return self._writers[which]

    def on_train_begin(self, logs=None):
        if self.write_graph and not self._graph_written:
            self._writer("train").add_graph(self.model)
            self._graph_written = True

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch":
            return
        step = self.trainer.global_step
        if step % self.update_freq == 0:
            w = self._writer("train")
            for k, v in (logs or {}).items():
                if isinstance(v, (int, float)):
                    w.add_scalar(f"batch_{k}", v, step)

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            if not isinstance(v, (int, float)):
                continue
            if k.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{k[4:]}", v, epoch)
            else:
                self._writer("train").add_scalar("epoch_learning_rate" if k == "lr" else f"epoch_{k}", v, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            w = self._writer("train")
            for name, p in self.model.named_parameters():
                w.add_histogram(name, p.detach(), epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}
