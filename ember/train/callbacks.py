"""Callbacks: the one extension point of ``Trainer.fit`` / ``evaluate`` / ``predict`` (Keras' semantics).

A callback overrides any of the hooks below; ``self.trainer`` and ``self.model`` are set before
training starts, ``self.params`` holds ``epochs`` / ``steps`` / ``verbose``. Setting
``self.trainer.stop_training = True`` ends ``fit`` after the current batch (then the epoch's
validation and ``on_epoch_end`` run, as in Keras). Epoch and batch numbers are 0-based.

Callbacks with state worth resuming (EarlyStopping, ModelCheckpoint, the LR schedulers)
return it from ``state_dict()``; training checkpoints carry it.
"""
from __future__ import annotations

import csv
import inspect
import math
import os
import warnings

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
         "on_train_interrupt")
_EPOCH_HOOKS = ("on_epoch_begin", "on_epoch_end")
_BATCH_HOOKS = tuple(h for h in HOOKS if "batch" in h)


class Callback:
    """Base class; every hook is a no-op. ``on_train_interrupt(logs)`` runs when Ctrl-C stops
    ``fit`` (before ``on_train_end``)."""

    trainer = model = None
    params: dict = {}

    def set_trainer(self, trainer):
        self.trainer, self.model = trainer, trainer.model

    def set_params(self, params):
        self.params = params

    def state_dict(self):
        """State to carry in training checkpoints (None: nothing)."""
        return None

    def load_state_dict(self, state):
        pass

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_batch_begin(self, batch, logs=None): pass  # Keras' older names for the train-batch hooks
    def on_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    def on_train_interrupt(self, logs=None): pass


class CallbackList:
    """Calls a hook on every callback in order. Adds a History (and a ProgressBar unless
    ``verbose == 0``) at the end when none was given, as Keras does."""

    def __init__(self, callbacks, trainer, params, add_history=True, verbose=0):
        from .progress import ProgressBar
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"ember.train: callbacks must be ember.train.Callback instances, got "
                                f"{type(cb).__name__}")
        self.history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if verbose != 0 and not any(isinstance(cb, ProgressBar) for cb in self.callbacks):
            self.callbacks.append(ProgressBar(verbose=verbose))
        for cb in self.callbacks:
            cb.set_trainer(trainer)
            cb.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def _keyed(self):
        """(key, callback) for the callbacks with state; keys are stable across runs with the same list."""
        for i, cb in enumerate(self.callbacks):
            if not isinstance(cb, History):
                yield f"{i}.{type(cb).__name__}", cb

    def state_dict(self):
        return {k: s for k, cb in self._keyed() if (s := cb.state_dict()) is not None}

    def load_state_dict(self, states):
        for k, cb in self._keyed():
            if k in (states or {}):
                cb.load_state_dict(states[k])


def _make_hook(name):
    def hook(self, *args):
        for cb in self.callbacks:
            getattr(cb, name)(*args)
    hook.__name__ = name
    return hook


for _name in HOOKS:
    setattr(CallbackList, _name, _make_hook(_name))


class History(Callback):
    """Records the epoch logs: ``history`` (a dict of lists per log key), ``epoch`` and ``params``.
    ``fit`` always adds one and returns it."""

    def __init__(self):
        self.history, self.epoch = {}, []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``; any hook
    name is accepted, each function takes the hook's arguments."""

    def __init__(self, **hooks):
        allowed = set(HOOKS) | {"on_batch_begin", "on_batch_end"}
        for name, fn in hooks.items():
            if name not in allowed:
                raise TypeError(f"ember.train.LambdaCallback: unknown hook {name!r}; hooks: "
                                f"{', '.join(sorted(allowed))}")
            if fn is not None:
                setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.trainer.stop_training = True


# --- monitoring a logged value -----------------------------------------------------------------------
_MAX_WORDS = ("acc", "auc", "auroc", "f1", "precision", "recall", "r2")


def resolve_mode(mode, monitor, trainer=None, who="callback"):
    """'min' or 'max' for ``monitor``: given, or (``auto``) from the trainer's metric of that name,
    else 'max' for accuracy-like names and 'min' otherwise."""
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"ember.train.{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    name = monitor[4:] if monitor.startswith("val_") else monitor
    for m in getattr(trainer, "metrics", None) or ():
        if m.name == name:
            return "max" if m.higher_is_better else "min"
    return "max" if any(w in name for w in _MAX_WORDS) else "min"


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs
    (Keras' EarlyStopping: ``baseline`` must be beaten for the wait to reset, ``start_from_epoch``
    epochs are ignored, and with ``restore_best_weights`` the best epoch's weights are put back
    when training ends)."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        self.monitor, self.min_delta, self.patience, self.verbose = monitor, abs(min_delta), patience, verbose
        self.mode, self.baseline, self.restore_best_weights = mode, baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        resolve_mode(mode, monitor, who="EarlyStopping")  # a bad mode fails here
        self._reset()

    def _reset(self):
        self.wait, self.stopped_epoch, self.best, self.best_epoch, self.best_weights = 0, 0, None, 0, None

    def on_train_begin(self, logs=None):
        self._reset()
        self._max = resolve_mode(self.mode, self.monitor, self.trainer, "EarlyStopping") == "max"

    def _improved(self, value, reference):
        if reference is None:
            return True
        return value - self.min_delta > reference if self._max else value + self.min_delta < reference

    def _weights(self):
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"EarlyStopping: monitor {self.monitor!r} is not in the logs (available: "
                          f"{', '.join(logs or {})})", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._weights()
        self.wait += 1
        if self._improved(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self._weights()
            if self.baseline is None or self._improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        for k, v in state.items():
            setattr(self, k, v)


# --- learning rate -------------------------------------------------------------------------------------
def _set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        group["lr"] = float(lr)


def _required_args(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return sum(1 for p in sig.parameters.values() if p.default is p.empty
               and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


class LearningRateScheduler(Callback):
    """Set the learning rate every epoch (``interval="epoch"``) or optimizer step (``"step"``).

    ``schedule`` is one of:
    - a function ``fn(epoch, lr) -> new lr`` (Keras; with "step", ``fn(step, lr)``), called before
      each epoch / step;
    - an ``ember.optim.lr_scheduler`` scheduler (built on the trainer's optimizer), or a class or
      function ``make(optimizer)`` that builds one from the trainer's optimizer (``**kwargs`` are
      passed to a class): ``scheduler.step()`` runs after each epoch / optimizer step.
    """

    def __init__(self, schedule, interval="epoch", verbose=0, **kwargs):
        from ..optim.lr_scheduler import LRScheduler
        if interval not in ("epoch", "step"):
            raise ValueError(f"ember.train.LearningRateScheduler: interval must be 'epoch' or 'step', got {interval!r}")
        self.interval, self.verbose, self.kwargs = interval, verbose, kwargs
        self.scheduler = self.fn = self.factory = None
        if isinstance(schedule, LRScheduler) or hasattr(schedule, "step") and hasattr(schedule, "optimizer"):
            self.scheduler = schedule
        elif isinstance(schedule, type) or _required_args(schedule) == 1:
            self.factory = schedule
        elif callable(schedule):
            self.fn = schedule
        else:
            raise TypeError(f"ember.train.LearningRateScheduler: schedule must be a function fn(epoch, lr), an LR "
                            f"scheduler or a scheduler class, got {type(schedule).__name__}")
        self._steps_seen = 0

    def on_train_begin(self, logs=None):
        opt = self.trainer.optimizer
        if self.factory is not None and self.scheduler is None:
            self.scheduler = self.factory(opt, **self.kwargs)
        if self.scheduler is not None and self.scheduler.optimizer is not opt:
            raise ValueError("ember.train.LearningRateScheduler: the scheduler was built on another optimizer than "
                             "the trainer's; pass a scheduler class or make(optimizer) function instead")
        self._steps_seen = self.trainer.optimizer_steps

    def _apply_fn(self, t):
        old = float(self.trainer.optimizer.param_groups[0]["lr"])
        new = float(self.fn(t, old))
        _set_lr(self.trainer.optimizer, new)
        if self.verbose and new != old:
            print(f"LearningRateScheduler: setting learning rate to {new:.6g}")

    def on_epoch_begin(self, epoch, logs=None):
        if self.fn is not None and self.interval == "epoch":
            self._apply_fn(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        if self.fn is not None and self.interval == "step":
            self._apply_fn(self.trainer.optimizer_steps)

    def on_train_batch_end(self, batch, logs=None):
        steps = self.trainer.optimizer_steps
        if self.scheduler is not None and self.interval == "step" and steps != self._steps_seen:
            self.scheduler.step()
        self._steps_seen = steps

    def on_epoch_end(self, epoch, logs=None):
        if self.scheduler is not None and self.interval == "epoch":
            self.scheduler.step()

    def state_dict(self):
        return self.scheduler.state_dict() if self.scheduler is not None else None

    def load_state_dict(self, state):
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved by ``min_delta``
    (absolute, as Keras) for more than ``patience`` epochs. Wraps
    ``ember.optim.lr_scheduler.ReduceLROnPlateau``, so ``patience`` and ``cooldown`` count as in
    PyTorch (Keras reduces one epoch sooner for the same ``patience``)."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        if factor >= 1.0:
            raise ValueError(f"ember.train.ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        resolve_mode(mode, monitor, who="ReduceLROnPlateau")
        self.monitor, self.factor, self.patience, self.verbose, self.mode = monitor, factor, patience, verbose, mode
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.scheduler = None

    def on_train_begin(self, logs=None):
        from ..optim.lr_scheduler import ReduceLROnPlateau as _Plateau
        if self.scheduler is None or self.scheduler.optimizer is not self.trainer.optimizer:
            self.scheduler = _Plateau(self.trainer.optimizer, resolve_mode(self.mode, self.monitor, self.trainer),
                                      self.factor, self.patience, self.min_delta, "abs", self.cooldown, self.min_lr)

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"ReduceLROnPlateau: monitor {self.monitor!r} is not in the logs (available: "
                          f"{', '.join(logs or {})})", stacklevel=2)
            return
        old = float(self.trainer.optimizer.param_groups[0]["lr"])
        self.scheduler.step(value)
        new = float(self.trainer.optimizer.param_groups[0]["lr"])
        if self.verbose and new < old:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:.6g}.")

    def state_dict(self):
        return self.scheduler.state_dict() if self.scheduler is not None else None

    def load_state_dict(self, state):
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state)


# --- CSV --------------------------------------------------------------------------------------------------
class CSVLogger(Callback):
    """One CSV row per epoch: ``epoch`` then the log keys in sorted order (Keras' CSVLogger);
    ``append=True`` continues an existing file without repeating its header."""

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = self.writer = self.file = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.header_written = exists
        self.keys = self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self.writer = csv.DictWriter(self.file, fieldnames=["epoch"] + self.keys, delimiter=self.sep)
            if not self.header_written:
                self.writer.writeheader()

        def fmt(v):
            if isinstance(v, (list, tuple)) or hasattr(v, "tolist"):
                return '"[%s]"' % ", ".join(map(str, v.tolist() if hasattr(v, "tolist") else v))
            return v
        self.writer.writerow({"epoch": epoch, **{k: fmt(logs[k]) if k in logs else "NA" for k in self.keys}})
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
        self.file = self.writer = None
