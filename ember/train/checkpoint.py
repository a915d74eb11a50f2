"""ModelCheckpoint: save training checkpoints (or weights) during ``fit``, and resume from them."""
from __future__ import annotations

import os
import warnings

from .callbacks import Callback, resolve_mode


class ModelCheckpoint(Callback):
    """Save after every epoch (``save_freq="epoch"``) or every ``save_freq`` batches.

    ``filepath`` is formatted with ``epoch`` (1-based, as Keras), ``batch`` and the logs:
    ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}.safetensors"``. A file holds the whole training state
    (model, optimizer, LR schedulers, callback states, position, RNG states: see
    ``Trainer.save_checkpoint``), or just the model's state_dict with ``save_weights_only``;
    every write is atomic.

    ``save_best_only``: write only when ``monitor`` improved (``mode`` auto / min / max; an
    ``initial_value_threshold`` must be beaten first). ``save_last``: also keep the newest state
    in ``last.<ext>`` next to ``filepath`` (or at the path given). ``resume=True`` (implies
    ``save_last``) makes ``fit`` continue from that file when it exists, so a restarted job picks
    up where it stopped. When Ctrl-C stops ``fit``, the state is written to the last file.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None, save_last=False, resume=False):
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"ember.train.ModelCheckpoint: save_freq must be 'epoch' or a positive number of "
                             f"batches, got {save_freq!r}")
        if resume and save_weights_only:
            raise ValueError("ember.train.ModelCheckpoint: resume=True needs full checkpoints, not save_weights_only")
        resolve_mode(mode, monitor, who="ModelCheckpoint")
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only, self.mode = save_best_only, save_weights_only, mode
        self.save_freq, self.resume, self.best = save_freq, resume, initial_value_threshold
        self.save_last = bool(save_last) or resume
        if isinstance(save_last, (str, os.PathLike)):
            self.last_path = os.fspath(save_last)
        else:
            ext = os.path.splitext(self.filepath)[1] or ".safetensors"
            self.last_path = os.path.join(os.path.dirname(self.filepath), "last" + ext)
        self._batches, self._warned = 0, False

    def resume_path(self):
        """The checkpoint ``fit`` resumes from (``resume=True`` and the last file exists), else None."""
        return self.last_path if self.resume and os.path.exists(self.last_path) else None

    def on_train_begin(self, logs=None):
        self._max = resolve_mode(self.mode, self.monitor, self.trainer, "ModelCheckpoint") == "max"

    def _write(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.trainer.save_checkpoint(path, weights_only=self.save_weights_only)

    def _format(self, epoch, batch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, batch=batch, **logs)
        except KeyError as e:
            raise KeyError(f"ember.train.ModelCheckpoint: filepath {self.filepath!r} names {e.args[0]!r}, which is "
                           f"not in the logs (available: epoch, batch, {', '.join(logs)})") from None

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        path = self._format(epoch, batch, logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                if not self._warned:
                    warnings.warn(f"ModelCheckpoint: can save the best model only with {self.monitor!r} in the "
                                  f"logs (available: {', '.join(logs)}); skipping", stacklevel=3)
                    self._warned = True
            elif self.best is None or (value > self.best if self._max else value < self.best):
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best} to {value:.5f}, saving "
                          f"to {path}")
                self.best = value
                self._write(path)
        else:
            if self.verbose:
                print(f"Epoch {epoch + 1}: saving to {path}")
            self._write(path)
        if self.save_last:
            self._write(self.last_path)

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._save(self.trainer.epoch, batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, 0, logs)

    def on_train_interrupt(self, logs=None):
        if self.verbose:
            print(f"Saving the interrupted training state to {self.last_path}")
        self._write(self.last_path)

    def state_dict(self):
        return {"best": self.best, "batches": self._batches}

    def load_state_dict(self, state):
        self.best, self._batches = state.get("best"), state.get("batches", 0)
