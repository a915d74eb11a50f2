"""``Trainer``: Keras-style ``fit`` / ``evaluate`` / ``predict`` for any ``ember.nn.Module``.

    trainer = Trainer(model, optimizer="adamw", loss="cross_entropy", metrics=["accuracy"])
    history = trainer.fit(x, y, epochs=10, validation_split=0.2, callbacks=[EarlyStopping(patience=2)])

One epoch is the PyTorch loop a user would write (``zero_grad`` after each step, ``backward``,
optional gradient clipping and accumulation, ``step``), so ``fit`` on the same seed gives the
same weights as that loop. Callbacks are the extension point; for custom losses or several
optimizers, subclass and override ``train_step`` / ``eval_step`` / ``predict_step``
(a ``train_step`` returning a ``"loss"`` tensor that requires grad gets backward and the
optimizer step from the trainer, as in Lightning; return floats to do them yourself).

Checkpoints (``save_checkpoint``, ``ModelCheckpoint``) hold the model, optimizer, LR schedulers,
callback state, the position (epoch and batch) and every RNG state, so
``fit(..., resume_from=path)`` ends with the same weights as a run that was never stopped.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from . import data as _data
from . import metrics as _metrics
from .callbacks import CallbackList
from .resolve import get_loss, get_optimizer_factory

CHECKPOINT_FORMAT = "ember.train"


def _check_int(name, value, low, allow_none=False):
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"ember.train: {name} must be an integer >= {low}, got {value!r}")
    return value


def _scalar(v):
    if isinstance(v, Tensor):
        return v.detach().item() if v.numel() == 1 else v.detach()
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class _Means:
    """Sample-weighted running means of the scalar logs of a loop's steps."""

    def __init__(self):
        self.sums, self.counts, self.samples = {}, {}, 0

    def update(self, logs, n):
        self.samples += n
        for k, v in logs.items():
            v = _scalar(v)
            if isinstance(v, float):
                self.sums[k] = self.sums.get(k, 0.0) + v * n
                self.counts[k] = self.counts.get(k, 0) + n
            else:
                self.sums[k], self.counts[k] = v, None  # non-scalars: the last value

    def result(self):
        return {k: (s / self.counts[k] if self.counts[k] else s) if self.counts[k] is not None else s
                for k, s in self.sums.items()}


@contextlib.contextmanager
def _graceful_sigint(trainer):
    """During fit, the first Ctrl-C asks the trainer to stop after the current batch; the handler
    then steps aside, so a second Ctrl-C raises KeyboardInterrupt at once."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        trainer.interrupted = True
        print("\nInterrupted: stopping after the current batch (press Ctrl-C again to abort at once)",
              file=sys.stderr, flush=True)
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class Trainer:
    """Trains ``model`` with ``optimizer`` (a name such as "adamw" / "sgd", an Optimizer, its class,
    or ``fn(params) -> Optimizer``; built on first use, ``lr`` overrides its learning rate) on
    ``loss`` (a name such as "cross_entropy" / "bce_with_logits" / "mse", an nn loss module or
    ``fn(pred, target)``), reporting ``metrics`` (names or ``ember.train.metrics`` objects).
    ``callbacks`` join every ``fit``; ``clip_grad_norm`` and ``grad_accum_steps`` are defaults
    that ``fit`` may override."""

    def __init__(self, model, optimizer="adamw", loss="cross_entropy", metrics=None, callbacks=None, lr=None,
                 clip_grad_norm=None, grad_accum_steps=1):
        self.model = model
        self.loss = get_loss(loss)
        self._make_optimizer = get_optimizer_factory(optimizer, lr)
        self._optimizer = None
        self.metrics = [_metrics.get(m, self.loss.from_logits) for m in (metrics or [])]
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"ember.train: metric names must be unique and not 'loss', got {names}; "
                             f"give metrics distinct names with name=...")
        self.callbacks = list(callbacks or [])
        self.clip_grad_norm = clip_grad_norm
        self.grad_accum_steps = _check_int("grad_accum_steps", grad_accum_steps, 1)
        self._config = {"optimizer": optimizer, "loss": loss, "metrics": metrics, "lr": lr}
        self.stop_training = self.interrupted = False
        self.history = None
        self.mode = None  # "fit", "evaluate" or "predict" while one runs
        self.epoch = self.batch_in_epoch = self.global_step = self.optimizer_steps = self.samples_seen = 0
        self._epoch_finished, self._epoch_start, self._pending = False, None, None
        self._callback_list = self._train_data = None
        self._accum_count, self._accum, self._clip = 0, 1, None

    # --- the optimizer ------------------------------------------------------------------------------
    @property
    def optimizer(self):
        if self._optimizer is None:
            self._optimizer = self._make_optimizer(self.model.parameters())
        return self._optimizer

    @optimizer.setter
    def optimizer(self, opt):
        self._optimizer = opt

    @property
    def learning_rate(self):
        return float(self.optimizer.param_groups[0]["lr"])

    # --- overridable steps ------------------------------------------------------------------------------
    def forward(self, x):
        """The model's output for a batch's inputs (a tuple is spread as positional arguments, a
        dict as keyword arguments)."""
        if isinstance(x, (tuple, list)):
            return self.model(*x)
        if isinstance(x, dict):
            return self.model(**x)
        return self.model(x)

    def unpack_batch(self, batch):
        """(x, y, sample_weight) of a batch; see ember.train.data for the accepted layouts."""
        return _data.unpack(batch)

    def compute_loss(self, pred, y, sample_weight=None):
        """The loss of a batch. With sample weights: per-sample losses (averaged over any other dims)
        times the weights, summed, over the batch size (Keras' "sum_over_batch_size")."""
        if y is None:
            raise ValueError("ember.train: the batch has no targets, so no loss can be computed; pass y (or data "
                             "that yields (x, y))")
        kind = self.loss.kind
        if isinstance(y, Tensor) and isinstance(pred, Tensor):
            if kind == "class" and y.dtype.np.kind in "iu" and y.dtype.name != "int64":
                y = y.long()
            elif kind in ("binary", "regression") and tuple(y.shape) != tuple(pred.shape) and \
                    y.numel() == pred.numel() and pred.shape[-1:] == (1,):
                y = y.reshape(pred.shape)  # (N,) targets for an (N, 1) output, as Keras allows
        if sample_weight is None:
            return self.loss(pred, y)
        per = self.loss(pred, y, reduction="none")
        if per.ndim > 1:
            per = per.reshape(per.shape[0], -1).mean(1)
        w = sample_weight.to(per.dtype).reshape(-1) if isinstance(sample_weight, Tensor) else sample_weight
        return (per * w).sum() / max(per.shape[0], 1)

    def update_metrics(self, pred, y, sample_weight=None):
        if y is None:
            return
        for m in self.metrics:
            m.update(pred, y)

    def train_step(self, batch):
        """One training batch: forward, loss, metrics. Returns the logs; a ``"loss"`` tensor that
        requires grad gets backward and the optimizer step from the trainer."""
        x, y, sw = self.unpack_batch(batch)
        pred = self.forward(x)
        loss = self.compute_loss(pred, y, sw)
        self.update_metrics(pred.detach() if isinstance(pred, Tensor) else pred, y, sw)
        return {"loss": loss}

    def eval_step(self, batch):
        """One evaluation batch (under no_grad, model in eval mode): the loss and metrics."""
        x, y, sw = self.unpack_batch(batch)
        pred = self.forward(x)
        loss = self.compute_loss(pred, y, sw)
        self.update_metrics(pred, y, sw)
        return {"loss": loss}

    def predict_step(self, batch):
        """The model's output for one batch (targets in the batch are ignored)."""
        return self.forward(self.unpack_batch(batch)[0])

    # --- fit ------------------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, *, batch_size=32, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, sample_weight=None, grad_accum_steps=None,
            clip_grad_norm=None, resume_from=None):
        """Train for ``epochs`` (from ``initial_epoch``); returns the History.

        ``x`` / ``y``: arrays, a Dataset or a DataLoader (see ember.train.data). ``validation_split``
        holds out the last fraction of array data (before shuffling), ``validation_data`` is
        ``(x_val, y_val[, sample_weight])``, a Dataset or a DataLoader. ``steps_per_epoch`` /
        ``validation_steps`` cap (or, cycling the data, extend) the batches per epoch.
        ``resume_from``: a checkpoint from ``save_checkpoint`` / ModelCheckpoint to continue from."""
        _check_int("batch_size", batch_size, 1)
        _check_int("epochs", epochs, 0)
        _check_int("initial_epoch", initial_epoch, 0)
        _check_int("steps_per_epoch", steps_per_epoch, 1, allow_none=True)
        _check_int("validation_steps", validation_steps, 1, allow_none=True)
        _check_int("validation_freq", validation_freq, 1)
        _check_int("validation_batch_size", validation_batch_size, 1, allow_none=True)
        accum = _check_int("grad_accum_steps", grad_accum_steps if grad_accum_steps is not None
                           else self.grad_accum_steps, 1)
        if verbose not in ("auto", 0, 1, 2):
            raise ValueError(f"ember.train: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"ember.train: validation_split must be in [0, 1), got {validation_split}")
        if validation_split and validation_data is not None:
            raise ValueError("ember.train: give validation_split or validation_data, not both")
        if validation_split and not _data.is_array_input(x):
            raise ValueError(f"ember.train: validation_split needs x (and y) as tensors or arrays, got "
                             f"{type(x).__name__}; split a Dataset with ember.data.random_split and pass "
                             f"validation_data")
        train, val = self._fit_data(x, y, sample_weight, batch_size, shuffle, validation_split, validation_data,
                                    validation_batch_size or batch_size)
        steps = _data.num_batches(train, steps_per_epoch)
        cbs = CallbackList(self.callbacks + list(callbacks or []), self,
                           {"epochs": epochs, "steps": steps, "verbose": verbose}, verbose=verbose)
        resume = resume_from
        for cb in cbs:
            if resume is None and hasattr(cb, "resume_path"):
                resume = cb.resume_path()
        self.history, self._callback_list, self._train_data = cbs.history, cbs, train
        self._accum, self._accum_count = accum, 0
        self._clip = clip_grad_norm if clip_grad_norm is not None else self.clip_grad_norm
        self.stop_training = self.interrupted = False
        self._pending, self._epoch_finished = None, False
        was_training = self.model.training
        self.optimizer.zero_grad()
        self.mode, logs = "fit", {}
        try:
            with _graceful_sigint(self):
                cbs.on_train_begin({})
                start = self._resume(resume, cbs) if resume is not None else initial_epoch
                try:
                    for epoch in range(start, epochs):
                        logs = self._fit_epoch(epoch, train, steps, val, validation_steps, validation_freq, cbs)
                        if self.stop_training or self.interrupted:
                            break
                except KeyboardInterrupt:
                    if self.interrupted:  # a second Ctrl-C after the first one asked to stop: abort now
                        raise
                    self.interrupted = True
                if self.interrupted:
                    cbs.on_train_interrupt(logs)  # checkpoints first: on_train_end may change the weights
                cbs.on_train_end(logs)
        finally:
            self.mode, self._train_data = None, None
            self.model.train(was_training)
        return self.history

    def _fit_data(self, x, y, sample_weight, batch_size, shuffle, validation_split, validation_data, val_batch_size):
        if validation_split:
            data, n = _data.arrays(x, y, sample_weight)
            tr, n_tr, va, n_va = _data.split(data, n, validation_split)
            train, val = _data.ArrayLoader(tr, n_tr, batch_size, shuffle), _data.ArrayLoader(va, n_va, val_batch_size)
            _data.check_targets(self.loss, tr)
            return train, val
        train, sample = _data.loader(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle)
        _data.check_targets(self.loss, sample)
        val = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)) and _data.is_array_input(validation_data) \
                    and 2 <= len(validation_data) <= 3:
                val, vsample = _data.loader(*validation_data, batch_size=val_batch_size, what="validation_data")
            else:
                val, vsample = _data.loader(validation_data, batch_size=val_batch_size, what="validation_data")
            _data.check_targets(self.loss, vsample)
        return train, val

    def _loader_generator(self, train):
        g = getattr(train, "generator", None)
        return g if hasattr(g, "get_state") else None

    def _capture_epoch_start(self, train):
        from ..io import capture_rng_state
        g = self._loader_generator(train)
        return {"rng": capture_rng_state(), "loader_generator": g.get_state() if g is not None else None}

    def _restore_states(self, rng, loader_state, train):
        from ..io import restore_rng_state
        restore_rng_state(rng)
        g = self._loader_generator(train)
        if g is not None and loader_state is not None:
            g.set_state(loader_state)

    def _fit_epoch(self, epoch, train, steps, val, val_steps, val_freq, cbs):
        self.epoch, self.batch_in_epoch, self.samples_seen, self._epoch_finished = epoch, 0, 0, False
        pending, self._pending = self._pending, None
        if pending is not None:  # resuming in the middle of this epoch: replay its start
            self._restore_states(pending["epoch_start"]["rng"], pending["epoch_start"]["loader_generator"], train)
        self._epoch_start = self._capture_epoch_start(train)
        for m in self.metrics:
            m.reset()
        means, logs = _Means(), {}
        cbs.on_epoch_begin(epoch, {})
        self.model.train()
        batches = _data.iterate(train, steps)
        if pending is not None:
            for _ in range(pending["batch"]):
                if next(batches, None) is None:
                    break
                self.batch_in_epoch += 1
            self._restore_states(pending["rng"], pending["loader_generator"], train)
        finished = True
        for batch in batches:
            b = self.batch_in_epoch
            cbs.on_train_batch_begin(b, {})
            step_logs = self.train_step(batch)
            self._backward_and_step(step_logs.get("loss"))
            n = _data.batch_len(batch)
            means.update(step_logs, n)
            self.samples_seen += n
            self.batch_in_epoch += 1
            self.global_step += 1
            logs = self._logs(means, final=False)
            cbs.on_train_batch_end(b, logs)
            if self.stop_training or self.interrupted:
                finished = False
                break
        if finished and self._accum_count:
            self._optimizer_step()  # the epoch's last, partial accumulation
        if self.interrupted:
            return logs
        logs = self._logs(means, final=True)
        if val is not None and (epoch + 1) % val_freq == 0:
            logs.update({"val_" + k: v for k, v in self._test_loop(val, val_steps, cbs).items()})
        logs["lr"] = self.learning_rate
        self._epoch_finished = True
        cbs.on_epoch_end(epoch, logs)
        return logs

    def _backward_and_step(self, loss):
        if not (isinstance(loss, Tensor) and loss.requires_grad):
            return
        (loss / self._accum if self._accum > 1 else loss).backward()
        self._accum_count += 1
        if self._accum_count >= self._accum:
            self._optimizer_step()

    def _optimizer_step(self):
        if self._clip is not None:
            from ..nn.utils import clip_grad_norm_
            clip_grad_norm_(self.model.parameters(), self._clip)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self._accum_count = 0
        self.optimizer_steps += 1

    def _logs(self, means, final):
        logs = means.result()
        for m in self.metrics:
            if final or m.batch_logs:
                logs[m.name] = m.compute()
        return logs

    # --- evaluate / predict --------------------------------------------------------------------------------------
    def _test_loop(self, batches, steps, cbs, count=False):
        was_training = self.model.training
        self.model.eval()
        for m in self.metrics:
            m.reset()
        means, logs = _Means(), {}
        if count:
            self.samples_seen = 0
        cbs.on_test_begin({})
        try:
            with no_grad():
                for b, batch in enumerate(_data.iterate(batches, steps)):
                    cbs.on_test_batch_begin(b, {})
                    n = _data.batch_len(batch)
                    means.update(self.eval_step(batch), n)
                    if count:
                        self.samples_seen += n
                    logs = self._logs(means, final=False)
                    cbs.on_test_batch_end(b, logs)
            logs = self._logs(means, final=True)
            cbs.on_test_end(logs)
        finally:
            self.model.train(was_training)
        return logs

    def evaluate(self, x=None, y=None, batch_size=32, verbose="auto", return_dict=False, sample_weight=None,
                 steps=None, callbacks=None):
        """The loss (and metrics) over the data, model in eval mode: the loss alone when there are no
        metrics, else ``[loss, metric, ...]``, or a dict with ``return_dict=True``."""
        _check_int("batch_size", batch_size, 1)
        _check_int("steps", steps, 1, allow_none=True)
        batches, sample = _data.loader(x, y, sample_weight, batch_size=batch_size)
        _data.check_targets(self.loss, sample)
        cbs = CallbackList(callbacks, self, {"steps": _data.num_batches(batches, steps), "verbose": verbose},
                           add_history=False, verbose=verbose)
        self.mode = "evaluate"
        try:
            logs = self._test_loop(batches, steps, cbs, count=True)
        finally:
            self.mode = None
        if return_dict:
            return logs
        values = [logs.get("loss")] + [logs.get(m.name) for m in self.metrics]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=32, verbose=0, steps=None, callbacks=None):
        """The model's outputs over ``x`` (targets in the data are ignored), concatenated along dim 0;
        no_grad, eval mode, and the model's previous mode restored after."""
        from ..ops.registry import FUNCTIONS
        _check_int("batch_size", batch_size, 1)
        _check_int("steps", steps, 1, allow_none=True)
        if _data.is_array_input(x):
            data, n = _data.arrays(x)
            batches = _data.ArrayLoader(data, n, batch_size)
        else:
            batches, _ = _data.loader(x, batch_size=batch_size)
        cbs = CallbackList(callbacks, self, {"steps": _data.num_batches(batches, steps), "verbose": verbose},
                           add_history=False, verbose=verbose)
        was_training = self.model.training
        self.model.eval()
        self.mode, outputs, self.samples_seen = "predict", [], 0
        try:
            cbs.on_predict_begin({})
            with no_grad():
                for b, batch in enumerate(_data.iterate(batches, steps)):
                    cbs.on_predict_batch_begin(b, {})
                    out = self.predict_step(batch)
                    outputs.append(out)
                    self.samples_seen += _data.batch_len(batch)
                    cbs.on_predict_batch_end(b, {"outputs": out})
            cbs.on_predict_end({})
        finally:
            self.mode = None
            self.model.train(was_training)
        if not outputs:
            raise ValueError("ember.train.predict: the data yielded no batches")

        def cat(items):
            first = items[0]
            if isinstance(first, (tuple, list)):
                return type(first)(cat([it[i] for it in items]) for i in range(len(first)))
            if isinstance(first, dict):
                return {k: cat([it[k] for it in items]) for k in first}
            return FUNCTIONS["cat"](list(items), 0) if isinstance(first, Tensor) else list(items)
        return cat(outputs)

    # --- checkpoints ------------------------------------------------------------------------------------------------
    def _position(self):
        """(epoch, batches done in it) that a resumed fit starts from."""
        if self._epoch_finished:
            return self.epoch + 1, 0
        return self.epoch, self.batch_in_epoch

    def save_checkpoint(self, path, weights_only=False):
        """Write the training state to ``path`` atomically: model, optimizer, LR schedulers (of the
        running fit's callbacks), callback states, position and RNG states (``ember.io.save_checkpoint``).
        ``weights_only``: just the model's state_dict as a safetensors file."""
        from ..io import save_checkpoint, save_file
        if weights_only:
            save_file(dict(self.model.state_dict()), path)
            return
        epoch, batch = self._position()
        cbs = self._callback_list
        schedulers = {k: cb.scheduler for k, cb in cbs._keyed() if getattr(cb, "scheduler", None) is not None} \
            if cbs is not None else {}
        states = {k: v for k, v in cbs.state_dict().items() if k not in schedulers} if cbs is not None else {}
        g = self._loader_generator(self._train_data)
        extra = {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": epoch, "batch": batch,
                 "global_step": self.global_step, "optimizer_steps": self.optimizer_steps, "callbacks": states,
                 "epoch_start": self._epoch_start if batch else None,
                 "loader_generator": g.get_state() if g is not None else None}
        save_checkpoint(path, model=self.model, optimizer=self.optimizer, scheduler=schedulers or None,
                        step=self.global_step, epoch=epoch, extra=extra)

    def _resume(self, path, cbs):
        """Load a checkpoint into the model, optimizer and callbacks; returns the epoch to start at."""
        from ..io import CheckpointError, load_checkpoint
        from ..io import NotATrainingCheckpoint
        try:
            ckpt = load_checkpoint(path, model=self.model, optimizer=self.optimizer, restore_rng=False)
        except NotATrainingCheckpoint:
            raise CheckpointError(f"ember.train: cannot resume from {str(path)!r}: it holds weights only "
                                  f"(ModelCheckpoint(save_weights_only=True)); resuming needs a full "
                                  f"checkpoint") from None
        extra = ckpt.get("extra")
        if not isinstance(extra, dict) or extra.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"ember.train: cannot resume from {str(path)!r}: it was not written by a Trainer "
                                  f"(ModelCheckpoint or Trainer.save_checkpoint)")
        schedulers = ckpt.get("scheduler") or {}
        for k, cb in cbs._keyed():
            if k in schedulers and getattr(cb, "scheduler", None) is not None:
                cb.scheduler.load_state_dict(schedulers[k])
        cbs.load_state_dict(extra.get("callbacks"))
        self.global_step, self.optimizer_steps = extra["global_step"], extra["optimizer_steps"]
        epoch, batch = extra["epoch"], extra["batch"]
        if batch:
            self._pending = {"batch": batch, "rng": ckpt["rng"], "loader_generator": extra["loader_generator"],
                             "epoch_start": extra["epoch_start"]}
        else:
            self._restore_states(ckpt["rng"], extra["loader_generator"], self._train_data)
        self.epoch = epoch
        return epoch


# --- Module.fit / evaluate / predict ---------------------------------------------------------------------------------
_TRAINER_ARGS = ("optimizer", "loss", "metrics", "lr")


def _same(a, b):
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - objects without a usable == are different unless identical
        return False


def model_trainer(model, kwargs, keep):
    """The Trainer behind ``model.fit`` / ``evaluate`` / ``predict``: the one kept on the model when
    the trainer arguments among ``kwargs`` match it (so a second ``fit`` continues with the same
    optimizer state), else a new one (kept on the model when ``keep``). Returns (trainer, rest)."""
    kwargs = dict(kwargs)
    given = {k: kwargs.pop(k) for k in _TRAINER_ARGS if k in kwargs}
    trainer = model.__dict__.get("_ember_trainer")
    if trainer is not None and all(_same(trainer._config[k], v) for k, v in given.items()):
        return trainer, kwargs
    config = dict(trainer._config) if trainer is not None else {}
    config.update(given)
    new = Trainer(model, **config)
    if keep:
        model.__dict__["_ember_trainer"] = new
    return new, kwargs
