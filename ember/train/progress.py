"""ProgressBar: a live one-line bar on a terminal, one line per epoch otherwise (logs, CI, pipes).

On a TTY (``sys.stdout.isatty()``) the line is redrawn in place (at most every ``interval``
seconds, and on the last step) with the step count, a bar, the ETA of the epoch, the throughput
in samples/s and the running loss and metrics; each epoch ends with its final line. Elsewhere
each epoch prints one line when it ends, with the ETA of the whole fit.
"""
from __future__ import annotations

import sys
import time

from .callbacks import Callback


def format_value(v):
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.4e}"


def format_logs(logs):
    return " - ".join(f"{k}: {format_value(v)}" for k, v in logs.items() if isinstance(v, (int, float)))


def format_time(seconds):
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


class ProgressBar(Callback):
    """``verbose``: "auto" or 1 (a live bar on a TTY, epoch lines elsewhere), 2 (epoch lines), 0 (silent).
    Writes to ``stream`` (default: ``sys.stdout`` at the time of writing)."""

    def __init__(self, verbose="auto", stream=None, width=30, interval=0.1):
        if verbose not in ("auto", 0, 1, 2):
            raise ValueError(f"ember.train: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
        self.verbose, self.stream, self.width, self.interval = verbose, stream, width, interval
        self._last_len = 0

    # --- output -----------------------------------------------------------------------------------------
    @property
    def out(self):
        return self.stream if self.stream is not None else sys.stdout

    @property
    def live(self):
        isatty = getattr(self.out, "isatty", None)
        return self.verbose in ("auto", 1) and bool(isatty and isatty())

    def _write(self, text, final):
        if self.verbose == 0:
            return
        if self.live:
            pad = max(0, self._last_len - len(text))
            self.out.write("\r" + text + " " * pad + ("\n" if final else ""))
            self._last_len = 0 if final else len(text)
        elif final:
            self.out.write(text + "\n")
        self.out.flush()

    def _bar(self, done, total):
        if total is None:
            return f"{done}/?"
        n = len(str(total))
        filled = int(self.width * done / total) if total else self.width
        arrow = ">" if filled < self.width else ""
        bar = "=" * filled + arrow + "." * (self.width - filled - len(arrow))
        return f"{done:>{n}}/{total} [{bar}]"

    # --- timing -------------------------------------------------------------------------------------------
    def _start(self):
        self.t0 = self._last_draw = time.perf_counter()
        self.first_batch = None

    def _rate(self, elapsed):
        samples = self.trainer.samples_seen if self.trainer is not None else 0
        return f"{samples / elapsed:.0f} samples/s" if elapsed > 0 and samples else None

    def _progress(self, batch, logs, total, prefix):
        now = time.perf_counter()
        if self.first_batch is None:
            self.first_batch = batch
        done = batch + 1
        last = total is not None and done >= total
        if not self.live or (not last and now - self._last_draw < self.interval):
            return
        self._last_draw = now
        parts = [prefix + self._bar(done, total)]
        if total is not None and not last:
            per_step = (now - self.t0) / (done - self.first_batch)
            parts.append(f"ETA {format_time(per_step * (total - done))}")
        rate = self._rate(now - self.t0)
        if rate:
            parts.append(rate)
        if logs:
            parts.append(format_logs(logs))
        self._write(" - ".join(parts), final=False)

    def _final(self, prefix, logs, total, done, eta=None):
        elapsed = time.perf_counter() - self.t0
        head = prefix + (self._bar(done, total) if self.live else (f"{done}/{total}" if total else f"{done}"))
        parts = [head, format_time(elapsed)]
        rate = self._rate(elapsed)
        if rate:
            parts.append(rate)
        if logs:
            parts.append(format_logs(logs))
        if eta:
            parts.append(eta)
        self._write(" - ".join(p for p in parts if p), final=True)

    # --- fit ------------------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.fit_t0, self.epochs_run = time.perf_counter(), 0
        self.done = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._start()
        self.epoch, self.done = epoch, 0
        self.prefix = f"Epoch {epoch + 1}/{self.params.get('epochs', '?')} "

    def on_train_batch_end(self, batch, logs=None):
        self.done = batch + 1
        self._progress(batch, logs, self.params.get("steps"), self.prefix)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_run += 1
        eta = None
        left = self.params.get("epochs", 0) - epoch - 1
        if not self.live and left > 0:
            eta = f"ETA {format_time((time.perf_counter() - self.fit_t0) / self.epochs_run * left)}"
        self._final(self.prefix.rstrip() + (" " if self.live else " - "), logs, self.params.get("steps"),
                    self.done, eta)

    def on_train_interrupt(self, logs=None):
        if self.verbose == 0:
            return
        if self.live and self._last_len:
            self.out.write("\n")
            self._last_len = 0
        t = self.trainer
        self.out.write(f"Training interrupted in epoch {t.epoch + 1}, after batch {t.batch_in_epoch}.\n")
        self.out.flush()

    # --- evaluate / predict (validation inside fit stays quiet: its results end the epoch's line) ---------
    def _evaluating(self, mode="evaluate"):
        return self.trainer is not None and self.trainer.mode == mode

    def on_test_begin(self, logs=None):
        if self._evaluating():
            self._start()
            self.done = 0

    def on_test_batch_end(self, batch, logs=None):
        if self._evaluating():
            self.done = batch + 1
            self._progress(batch, logs, self.params.get("steps"), "Evaluate ")

    def on_test_end(self, logs=None):
        if self._evaluating():
            self._final("Evaluate " if self.live else "Evaluate - ", logs, self.params.get("steps"), self.done)

    def on_predict_begin(self, logs=None):
        if self._evaluating("predict"):
            self._start()
            self.done = 0

    def on_predict_batch_end(self, batch, logs=None):
        if self._evaluating("predict"):
            self.done = batch + 1
            self._progress(batch, None, self.params.get("steps"), "Predict ")

    def on_predict_end(self, logs=None):
        if self._evaluating("predict"):
            self._final("Predict " if self.live else "Predict - ", None, self.params.get("steps"), self.done)
