"""Losses and optimizers by name (``Trainer(optimizer="adamw", loss="cross_entropy")``)."""
from __future__ import annotations

# name -> (ember.nn.functional function, target kind). Kinds: "class" (integer class indices, or
# class probabilities of the prediction's shape for cross_entropy), "binary" / "regression"
# (float targets of the prediction's shape), None (not checked).
LOSSES = {
    "cross_entropy": ("cross_entropy", "class"), "categorical_crossentropy": ("cross_entropy", "class"),
    "sparse_categorical_crossentropy": ("cross_entropy", "class"),
    "nll": ("nll_loss", "class"), "nll_loss": ("nll_loss", "class"),
    "bce": ("binary_cross_entropy", "binary"), "binary_cross_entropy": ("binary_cross_entropy", "binary"),
    "binary_crossentropy": ("binary_cross_entropy", "binary"),
    "bce_with_logits": ("binary_cross_entropy_with_logits", "binary"),
    "binary_cross_entropy_with_logits": ("binary_cross_entropy_with_logits", "binary"),
    "mse": ("mse_loss", "regression"), "mse_loss": ("mse_loss", "regression"),
    "mean_squared_error": ("mse_loss", "regression"),
    "mae": ("l1_loss", "regression"), "l1": ("l1_loss", "regression"), "l1_loss": ("l1_loss", "regression"),
    "mean_absolute_error": ("l1_loss", "regression"),
    "huber": ("huber_loss", "regression"), "huber_loss": ("huber_loss", "regression"),
    "smooth_l1": ("smooth_l1_loss", "regression"), "smooth_l1_loss": ("smooth_l1_loss", "regression"),
    "kl_div": ("kl_div", None),
}
_MODULE_KINDS = {"CrossEntropyLoss": "class", "NLLLoss": "class", "BCELoss": "binary", "BCEWithLogitsLoss": "binary",
                 "MSELoss": "regression", "L1Loss": "regression", "HuberLoss": "regression",
                 "SmoothL1Loss": "regression"}

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "NAdam", "radam": "RAdam",
              "rmsprop": "RMSprop", "adagrad": "Adagrad", "adadelta": "Adadelta"}


class Loss:
    """A loss with what the trainer needs to know about it: ``name``, target ``kind`` and whether
    it takes logits (``from_logits``: True / False / None when not a binary loss)."""

    def __init__(self, fn, name, kind, reduction_kw):
        self.fn, self.name, self.kind, self.reduction_kw = fn, name, kind, reduction_kw
        self.from_logits = {"binary_cross_entropy_with_logits": True, "BCEWithLogitsLoss": True,
                            "binary_cross_entropy": False, "BCELoss": False}.get(name)

    def __call__(self, pred, target, reduction="mean"):
        if reduction == "mean":
            return self.fn(pred, target)
        if self.reduction_kw == "kwarg":
            return self.fn(pred, target, reduction=reduction)
        if self.reduction_kw == "attr":
            old, self.fn.reduction = self.fn.reduction, reduction
            try:
                return self.fn(pred, target)
            finally:
                self.fn.reduction = old
        raise ValueError(f"ember.train: sample weights need per-sample losses, which the loss {self.name!r} "
                         f"cannot give; use a named loss or an nn loss module with a `reduction` attribute")


def get_loss(loss):
    """A Loss from a name (see LOSSES), an ``ember.nn`` loss module or a function ``fn(pred, target)``."""
    from ..nn import functional as F
    from ..nn.modules.module import Module
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        entry = LOSSES.get(loss.lower())
        if entry is None:
            raise ValueError(f"ember.train: unknown loss {loss!r}; known losses: {', '.join(sorted(LOSSES))} "
                             f"(or pass an ember.nn loss module or a function fn(pred, target))")
        return Loss(getattr(F, entry[0]), entry[0], entry[1], "kwarg")
    if isinstance(loss, Module):
        name = type(loss).__name__
        return Loss(loss, name, _MODULE_KINDS.get(name), "attr" if hasattr(loss, "reduction") else None)
    if callable(loss):
        return Loss(loss, getattr(loss, "__name__", "loss"), None, None)
    raise TypeError(f"ember.train: loss must be a name, an ember.nn loss module or a function, got "
                    f"{type(loss).__name__}")


def get_optimizer_factory(optimizer, lr=None):
    """A function ``make(params) -> Optimizer`` from a name (see OPTIMIZERS), an Optimizer class or
    instance, or a function ``fn(params) -> Optimizer``; ``lr`` (when given) sets every group's lr."""
    from .. import optim
    if isinstance(optimizer, str):
        name = OPTIMIZERS.get(optimizer.lower())
        if name is None:
            raise ValueError(f"ember.train: unknown optimizer {optimizer!r}; known optimizers: "
                             f"{', '.join(sorted(OPTIMIZERS))} (or pass an Optimizer, its class or fn(params))")
        optimizer = getattr(optim, name)
    if isinstance(optimizer, type) and issubclass(optimizer, optim.Optimizer):
        cls = optimizer
        return lambda params: cls(params) if lr is None else cls(params, lr=lr)
    if isinstance(optimizer, optim.Optimizer):
        instance = optimizer
        return lambda params: _with_lr(instance, lr)
    if callable(optimizer):
        fn = optimizer

        def make(params):
            opt = fn(params)
            if not isinstance(opt, optim.Optimizer):
                raise TypeError(f"ember.train: the optimizer function returned {type(opt).__name__}, not an Optimizer")
            return _with_lr(opt, lr)
        return make
    raise TypeError(f"ember.train: optimizer must be a name, an Optimizer, an Optimizer class or a function "
                    f"fn(params), got {type(optimizer).__name__}")


def _with_lr(opt, lr):
    if lr is not None:
        for group in opt.param_groups:
            group["lr"] = lr
    return opt
