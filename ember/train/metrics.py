"""Streaming metrics: ``update(pred, target)`` once per batch, ``compute()`` for the result over
everything seen since ``reset()``. Usable alone or by name in ``fit(metrics=[...])``.

Classification inputs follow PyTorch's conventions:

- ``pred`` with one more dim than ``target`` holds class scores (logits or probabilities, the
  class dim is 1, as for ``cross_entropy``): multiclass, the predicted class is the argmax.
- ``pred`` of the target's shape (or with a trailing dim of 1) holds binary scores: probabilities,
  or logits when ``from_logits=True`` (``None``: a batch with a value outside [0, 1] is taken as
  logits); the predicted class is ``prob >= threshold``.
- integer ``pred`` holds predicted class labels.

Macro averages run over the classes present in the targets or the predictions (as scikit-learn
does); a ratio with a zero denominator is 0 (scikit-learn's ``zero_division=0``).
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "Precision", "Recall", "F1Score", "AUROC",
           "ConfusionMatrix", "MeanSquaredError", "MeanAbsoluteError", "R2Score", "get", "METRICS"]


def _np(x):
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _div(a, b):
    """a / b elementwise, 0 where b == 0."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Metric:
    """Base class: subclasses define ``reset``, ``update(pred, target)`` and ``compute``.

    ``higher_is_better`` tells monitors (EarlyStopping, ModelCheckpoint) which way is better;
    ``batch_logs=False`` keeps a metric that is costly to compute out of per-batch logs."""

    higher_is_better = True
    batch_logs = True

    def __init__(self, name=None):
        self.name = name or _snake(type(self).__name__)
        self.reset()

    def reset(self):
        raise NotImplementedError

    def update(self, pred, target):
        raise NotImplementedError

    def compute(self):
        raise NotImplementedError

    def __call__(self, pred, target):
        """Update with one batch and return the result so far."""
        self.update(pred, target)
        return self.compute()

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """The (weighted) mean of the values passed to ``update(value, weight=1)``."""

    higher_is_better = False

    def reset(self):
        self.total, self.count = 0.0, 0.0

    def update(self, value, weight=1.0):
        v = _np(value).astype(np.float64)
        self.total += float(v.sum()) * weight if v.ndim else float(v) * weight
        self.count += weight * (v.size if v.ndim else 1)

    def compute(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The sample-weighted mean over batches of ``fn(pred, target)`` (a per-batch mean)."""

    def __init__(self, fn, name=None, higher_is_better=True):
        self.fn, self.higher_is_better = fn, higher_is_better
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def update(self, pred, target):
        n = len(target) if getattr(target, "ndim", 1) else 1
        super().update(float(_np(self.fn(pred, target))), n)


# --- classification --------------------------------------------------------------------------------
def _labels(pred, target, threshold=0.5, from_logits=None):
    """(predicted labels, target labels, class scores or None, binary?) as flat int64 arrays."""
    p, t = _np(pred), _np(target)
    if p.dtype.kind in "iub":
        if p.shape != t.shape:
            raise ValueError(f"ember.train.metrics: label predictions must have the target's shape "
                             f"{t.shape}, got {p.shape}")
        return p.reshape(-1).astype(np.int64), t.reshape(-1).astype(np.int64), None, False
    if p.ndim == t.ndim + 1 and p.ndim >= 2 and p.shape[1] > 1 and p.shape[:1] + p.shape[2:] == t.shape:
        scores = np.moveaxis(p, 1, -1).reshape(-1, p.shape[1])  # (samples, classes)
        return scores.argmax(1), t.reshape(-1).astype(np.int64), scores, False
    if p.shape != t.shape and p.size == t.size and p.shape[-1:] == (1,):
        p = p.reshape(t.shape)
    if p.shape != t.shape:
        raise ValueError(f"ember.train.metrics: cannot match predictions of shape {p.shape} with targets of shape "
                         f"{t.shape}: expected class scores of shape (N, C, ...) for targets (N, ...), or "
                         f"binary scores / labels of the target's shape")
    logits = from_logits if from_logits is not None else bool(p.size and (p.min() < 0 or p.max() > 1))
    prob = _sigmoid(p.astype(np.float64)) if logits else p
    return (prob >= threshold).reshape(-1).astype(np.int64), t.reshape(-1).astype(np.int64), \
        prob.reshape(-1), True


class Accuracy(Metric):
    """Fraction of correct predictions: multiclass (argmax of the class scores, or the target among
    the ``top_k`` scores), binary (``prob >= threshold``; elementwise for multi-label targets) or labels."""

    def __init__(self, threshold=0.5, top_k=1, from_logits=None, name="accuracy"):
        self.threshold, self.top_k, self.from_logits = threshold, int(top_k), from_logits
        super().__init__(name)

    def reset(self):
        self.correct, self.total = 0, 0

    def update(self, pred, target):
        pl, tl, scores, binary = _labels(pred, target, self.threshold, self.from_logits)
        if self.top_k > 1 and scores is not None and not binary:
            k = min(self.top_k, scores.shape[1])
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            self.correct += int((top == tl[:, None]).any(1).sum())
        else:
            self.correct += int((pl == tl).sum())
        self.total += tl.size

    def compute(self):
        return self.correct / self.total if self.total else 0.0


class _Confusion(Metric):
    """Accumulates a confusion matrix (rows: true class, columns: predicted), growing it as
    larger labels appear when ``num_classes`` is not given."""

    def __init__(self, num_classes=None, threshold=0.5, from_logits=None, name=None):
        self.num_classes, self.threshold, self.from_logits = num_classes, threshold, from_logits
        super().__init__(name)

    def reset(self):
        self.matrix = np.zeros((self.num_classes or 0,) * 2, np.int64)
        self.binary = None

    def update(self, pred, target):
        pl, tl, scores, binary = _labels(pred, target, self.threshold, self.from_logits)
        if pl.size and (min(pl.min(), tl.min()) < 0):
            raise ValueError("ember.train.metrics: class labels must be non-negative")
        c = max(self.matrix.shape[0], 2 if binary else 0, scores.shape[1] if scores is not None and not binary else 0,
                int(max(pl.max(), tl.max())) + 1 if pl.size else 0)
        if self.num_classes is not None and c > self.num_classes:
            raise ValueError(f"ember.train.metrics: {type(self).__name__}(num_classes={self.num_classes}) got "
                             f"class label {c - 1}")
        if c > self.matrix.shape[0]:
            grow = c - self.matrix.shape[0]
            self.matrix = np.pad(self.matrix, ((0, grow), (0, grow)))
        self.matrix += np.bincount(tl * c + pl, minlength=c * c).reshape(c, c)
        self.binary = binary if self.binary is None else self.binary and binary


class ConfusionMatrix(_Confusion):
    """The confusion matrix as an int64 tensor (``normalize``: None, "true", "pred" or "all", as
    scikit-learn's ``confusion_matrix``)."""

    def __init__(self, num_classes=None, normalize=None, threshold=0.5, from_logits=None, name="confusion_matrix"):
        if normalize not in (None, "true", "pred", "all"):
            raise ValueError(f"ember.train.metrics.ConfusionMatrix: normalize must be None, 'true', 'pred' or 'all', "
                             f"got {normalize!r}")
        self.normalize = normalize
        super().__init__(num_classes, threshold, from_logits, name)

    def compute(self):
        from ..creation import tensor
        m = self.matrix
        if self.normalize == "true":
            m = _div(m, m.sum(1, keepdims=True))
        elif self.normalize == "pred":
            m = _div(m, m.sum(0, keepdims=True))
        elif self.normalize == "all":
            m = _div(m, m.sum())
        return tensor(m)


_AVERAGES = ("auto", "binary", "micro", "macro", "weighted", None)


class _PRF(_Confusion):
    """Precision / recall / F1 from the confusion matrix. ``average``: "binary" (the ``pos_label``
    class), "micro", "macro", "weighted", None (a tensor with one value per class) or "auto"
    ("binary" for two classes, else "macro")."""

    def __init__(self, average="auto", num_classes=None, threshold=0.5, pos_label=1, from_logits=None, name=None):
        if average not in _AVERAGES:
            raise ValueError(f"ember.train.metrics.{type(self).__name__}: average must be one of "
                             f"{', '.join(map(repr, _AVERAGES))}, got {average!r}")
        self.average, self.pos_label = average, pos_label
        super().__init__(num_classes, threshold, from_logits, name)

    def _score(self, tp, fp, fn):
        raise NotImplementedError

    def compute(self):
        m = self.matrix
        tp = np.diag(m).astype(np.float64)
        fp, fn = m.sum(0) - tp, m.sum(1) - tp
        average = self.average
        if average == "auto":
            average = "binary" if m.shape[0] <= 2 else "macro"
        if average == "binary":
            if m.shape[0] > 2:
                raise ValueError(f"ember.train.metrics.{type(self).__name__}: average='binary' needs two classes, "
                                 f"got {m.shape[0]}; use average='macro', 'micro' or 'weighted'")
            k = self.pos_label
            return float(self._score(tp[k], fp[k], fn[k])) if k < m.shape[0] else 0.0
        if average == "micro":
            return float(self._score(tp.sum(), fp.sum(), fn.sum()))
        scores = self._score(tp, fp, fn)
        if average is None:
            from ..creation import tensor
            return tensor(scores)
        if average == "weighted":
            support = m.sum(1)
            return float((scores * support).sum() / support.sum()) if support.sum() else 0.0
        present = (m.sum(0) + m.sum(1)) > 0
        return float(scores[present].mean()) if present.any() else 0.0


class Precision(_PRF):
    """tp / (tp + fp)."""

    def _score(self, tp, fp, fn):
        return _div(tp, tp + fp)


class Recall(_PRF):
    """tp / (tp + fn)."""

    def _score(self, tp, fp, fn):
        return _div(tp, tp + fn)


class F1Score(_PRF):
    """2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall."""

    def __init__(self, average="auto", num_classes=None, threshold=0.5, pos_label=1, from_logits=None,
                 name="f1_score"):
        super().__init__(average, num_classes, threshold, pos_label, from_logits, name)

    def _score(self, tp, fp, fn):
        return _div(2 * tp, 2 * tp + fp + fn)


def _binary_auc(scores, positive):
    """ROC AUC as the Mann-Whitney statistic (ties count one half): equal to the area under the
    ROC curve by the trapezoidal rule. NaN when only one class is present."""
    npos = int(positive.sum())
    nneg = positive.size - npos
    if npos == 0 or nneg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = ((ends - counts + 1 + ends) / 2.0)[inverse]  # average 1-based rank of each tie group
    return float((ranks[positive].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))


class AUROC(Metric):
    """Area under the ROC curve: binary scores, or one-vs-rest over class scores averaged
    ("macro", or "weighted" by class support) for multiclass. Class scores that are not
    probabilities (rows not summing to 1) go through softmax first, as scikit-learn expects
    probabilities. Keeps every score seen, so it is left out of per-batch logs."""

    batch_logs = False

    def __init__(self, average="macro", name="auroc"):
        if average not in ("macro", "weighted"):
            raise ValueError(f"ember.train.metrics.AUROC: average must be 'macro' or 'weighted', got {average!r}")
        self.average = average
        super().__init__(name)

    def reset(self):
        self.scores, self.targets = [], []

    def update(self, pred, target):
        p, t = _np(pred).astype(np.float64), _np(target)
        if p.ndim == t.ndim + 1 and p.ndim >= 2 and p.shape[1] > 1:
            p = np.moveaxis(p, 1, -1).reshape(-1, p.shape[1])
        elif p.size == t.size:
            p = p.reshape(-1)
        else:
            raise ValueError(f"ember.train.metrics.AUROC: cannot match scores of shape {p.shape} with targets of "
                             f"shape {t.shape}")
        if self.scores and self.scores[0].ndim != p.ndim:
            raise ValueError("ember.train.metrics.AUROC: binary and multiclass scores mixed across updates")
        self.scores.append(p)
        self.targets.append(t.reshape(-1).astype(np.int64))

    def compute(self):
        if not self.scores:
            return float("nan")
        s, t = np.concatenate(self.scores), np.concatenate(self.targets)
        if s.ndim == 1:
            return _binary_auc(s, t == 1)
        if not (s.min() >= 0 and s.max() <= 1 and np.allclose(s.sum(1), 1.0, atol=1e-4)):
            s = _softmax(s, 1)
        if s.shape[1] == 2:
            return _binary_auc(s[:, 1], t == 1)
        aucs = np.array([_binary_auc(s[:, c], t == c) for c in range(s.shape[1])])
        support = np.bincount(t, minlength=s.shape[1])[:s.shape[1]].astype(np.float64)
        ok = ~np.isnan(aucs)
        if not ok.any():
            return float("nan")
        if self.average == "weighted":
            return float((aucs[ok] * support[ok]).sum() / support[ok].sum())
        return float(aucs[ok].mean())


# --- regression -----------------------------------------------------------------------------------
def _pair(pred, target, who):
    p, t = _np(pred).astype(np.float64), _np(target).astype(np.float64)
    if p.shape != t.shape:
        if p.size != t.size:
            raise ValueError(f"ember.train.metrics.{who}: predictions of shape {p.shape} do not match targets of "
                             f"shape {t.shape}")
        p = p.reshape(t.shape)  # (N, 1) predictions for (N,) targets
    return p, t


class MeanSquaredError(Metric):
    """Mean of (pred - target)^2 over every element."""

    higher_is_better = False

    def __init__(self, name="mse"):
        super().__init__(name)

    def reset(self):
        self.total, self.count = 0.0, 0

    def _err(self, p, t):
        return np.square(p - t)

    def update(self, pred, target):
        p, t = _pair(pred, target, type(self).__name__)
        self.total += float(self._err(p, t).sum())
        self.count += t.size

    def compute(self):
        return self.total / self.count if self.count else 0.0


class MeanAbsoluteError(MeanSquaredError):
    """Mean of |pred - target| over every element."""

    def __init__(self, name="mae"):
        super().__init__(name)

    def _err(self, p, t):
        return np.abs(p - t)


class R2Score(Metric):
    """Coefficient of determination 1 - SS_res / SS_tot per output column, averaged uniformly
    over outputs (scikit-learn's ``r2_score``; a constant target scores 1 if predicted exactly,
    else 0). Streams the target variance with Chan's parallel update, so it is stable."""

    def __init__(self, name="r2"):
        super().__init__(name)

    def reset(self):
        self.n, self.mean, self.m2, self.ss_res = 0, 0.0, 0.0, 0.0

    def update(self, pred, target):
        p, t = _pair(pred, target, "R2Score")
        t = t.reshape(len(t) if t.ndim else 1, -1)
        p = p.reshape(t.shape)
        nb, mb = len(t), t.mean(0)
        m2b = np.square(t - mb).sum(0)
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * nb / n
        self.m2 = self.m2 + m2b + np.square(delta) * self.n * nb / n
        self.ss_res = self.ss_res + np.square(t - p).sum(0)
        self.n = n

    def compute(self):
        if not self.n:
            return 0.0
        ss_tot, ss_res = np.atleast_1d(self.m2), np.atleast_1d(self.ss_res)
        r2 = np.where(ss_tot > 0, 1.0 - _div(ss_res, ss_tot), np.where(ss_res == 0, 1.0, 0.0))
        return float(r2.mean())


# --- lookup by name ----------------------------------------------------------------------------------
METRICS = {
    "accuracy": Accuracy, "acc": Accuracy,
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": F1Score,
    "auroc": AUROC, "auc": AUROC, "roc_auc": AUROC,
    "confusion_matrix": ConfusionMatrix,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "r2": R2Score, "r2_score": R2Score,
}


def get(metric, from_logits=None):
    """A Metric from a name (see METRICS), a Metric instance or a function ``fn(pred, target)``.
    ``from_logits`` (known from the loss) configures binary classification metrics made by name."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        cls = METRICS.get(metric.lower())
        if cls is None:
            raise ValueError(f"ember.train: unknown metric {metric!r}; known metrics: {', '.join(sorted(METRICS))} "
                             f"(or pass a Metric object or a function fn(pred, target))")
        kwargs = {"name": metric.lower()}
        if cls in (Accuracy, Precision, Recall, F1Score, ConfusionMatrix):
            kwargs["from_logits"] = from_logits
        return cls(**kwargs)
    if callable(metric):
        return MeanMetricWrapper(metric)
    raise TypeError(f"ember.train: a metric must be a name, a Metric or a function, got {type(metric).__name__}")
