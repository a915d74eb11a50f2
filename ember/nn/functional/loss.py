"""ember.nn.functional: losses (PyTorch's names, signatures, reductions and defaults).

cross_entropy is one fused op (ember.ops.loss); the others are compositions of ops, written
in the numerically stable forms PyTorch uses (logsigmoid for logits, log clamped at -100).
"""
import math
import warnings

import numpy as np

from ...ops import registry as R
from ...ops.loss import CROSS_ENTROPY
from ..._tensor import Tensor
from ... import dtypes as _dt
from ... import creation
from .distance import pairwise_distance

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss",
           "margin_ranking_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
           "poisson_nll_loss", "gaussian_nll_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss"]

_F = R.FUNCTIONS


def _err(name, msg, kind=ValueError):
    return kind(f"ember.nn.functional.{name}: {msg}")


def _reduction(name, size_average, reduce, reduction, extra=()):
    """The reduction string, from the deprecated ``size_average``/``reduce`` flags if given."""
    if size_average is not None or reduce is not None:
        sa = True if size_average is None else size_average
        reduction = "none" if reduce is False else ("mean" if sa else "sum")
    if reduction not in ("none", "mean", "sum") + extra:
        allowed = ", ".join(repr(r) for r in ("none", "mean", "sum") + extra)
        raise _err(name, f"reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    return loss if reduction == "none" else loss.mean() if reduction == "mean" else loss.sum()


def _tensors(name, **ts):
    for k, t in ts.items():
        if not isinstance(t, Tensor):
            raise _err(name, f"expected {k} to be a Tensor, got {type(t).__name__}", TypeError)


def _float_input(name, input):
    if not input.is_floating_point():
        raise _err(name, f"expected a floating point input, got {input.dtype}", RuntimeError)


def _same_size_warn(name, input, target):
    if tuple(input.shape) != tuple(target.shape):
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise _err(name, f"target of shape {tuple(target.shape)} cannot be broadcast to the input's shape "
                             f"{tuple(input.shape)}") from None
        warnings.warn(f"ember.nn.functional.{name}: using a target size ({tuple(target.shape)}) that is different "
                      f"to the input size ({tuple(input.shape)}); broadcasting may give incorrect results",
                      stacklevel=3)


def _weighted(name, loss, weight, input, reduction, mean_by_weight):
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise _err(name, f"weight of shape {tuple(weight.shape)} must have the input's shape {tuple(input.shape)}")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# --- regression ----------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r""":math:`(x - y)^2`, reduced (weighted 'mean': divided by the sum of weights)."""
    _tensors("mse_loss", input=input, target=target)
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    _same_size_warn("mse_loss", input, target)
    d = input - target
    return _weighted("mse_loss", d * d, weight, input, reduction, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r""":math:`|x - y|`, reduced (weighted 'mean': divided by the sum of weights)."""
    _tensors("l1_loss", input=input, target=target)
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    _same_size_warn("l1_loss", input, target)
    return _weighted("l1_loss", (input - target).abs(), weight, input, reduction, True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    r""":math:`0.5 d^2 / \beta` where :math:`|d| < \beta`, else :math:`|d| - 0.5 \beta` (:math:`d = x - y`)."""
    _tensors("smooth_l1_loss", input=input, target=target)
    reduction = _reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise _err("smooth_l1_loss", f"beta must be >= 0, got {beta}", RuntimeError)
    _same_size_warn("smooth_l1_loss", input, target)
    d = input - target
    a = d.abs()
    loss = a if beta == 0 else _F["where"](a < beta, d * d * (0.5 / beta), a - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    r""":math:`0.5 d^2` where :math:`|d| < \delta`, else :math:`\delta (|d| - 0.5 \delta)`."""
    _tensors("huber_loss", input=input, target=target)
    reduction = _reduction("huber_loss", None, None, reduction)
    if delta <= 0:
        raise _err("huber_loss", f"delta must be > 0, got {delta}", RuntimeError)
    _same_size_warn("huber_loss", input, target)
    d = input - target
    a = d.abs()
    loss = _F["where"](a < delta, d * d * 0.5, (a - 0.5 * delta) * delta)
    return _weighted("huber_loss", loss, weight, input, reduction, False)


# --- classification -------------------------------------------------------------------------
def _class_target(name, input, target, allow_soft):
    """Check input/target; return (class dim, soft). Class indices: int64, the input's shape
    without the class dim; probabilities: floating, the input's shape."""
    _tensors(name, input=input, target=target)
    _float_input(name, input)
    if input.ndim == 0:
        raise _err(name, "expected an input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    cdim = 0 if input.ndim == 1 else 1
    want = tuple(input.shape[:cdim]) + tuple(input.shape[cdim + 1:])
    if target.dtype == _dt.int64:
        if tuple(target.shape) != want:
            raise _err(name, f"expected target of shape {want} (class indices for an input of shape "
                             f"{tuple(input.shape)}), got {tuple(target.shape)}")
        return cdim, False
    if allow_soft and target.is_floating_point():
        if tuple(target.shape) != tuple(input.shape):
            raise _err(name, f"expected target of shape {tuple(input.shape)} (class probabilities, the input's "
                             f"shape), got {tuple(target.shape)}")
        return cdim, True
    kinds = "int64 (class indices) or float (probabilities)" if allow_soft else "int64 (class indices)"
    raise _err(name, f"expected target of dtype {kinds}, got {target.dtype} of shape {tuple(target.shape)} "
                     f"for an input of shape {tuple(input.shape)}", RuntimeError)


def _class_weight(name, weight, input, cdim):
    if weight is None:
        return None
    c = input.shape[cdim]
    if tuple(weight.shape) != (c,):
        raise _err(name, f"expected weight of shape ({c},) (one per class), got {tuple(weight.shape)}", RuntimeError)
    return weight


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    r""":math:`-\sum_c q_c \log \mathrm{softmax}(x)_c` per sample, with :math:`q` the one-hot class
    index (rows equal to ``ignore_index`` count for nothing) or the given class probabilities,
    smoothed toward uniform by ``label_smoothing`` and weighted per class by ``weight``.
    'mean' divides by the summed target weights (class indices) or the number of samples."""
    reduction = _reduction("cross_entropy", size_average, reduce, reduction)
    cdim, soft = _class_target("cross_entropy", input, target, True)
    weight = _class_weight("cross_entropy", weight, input, cdim)
    if not 0.0 <= label_smoothing <= 1.0:
        raise _err("cross_entropy", f"label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if soft and target.dtype != input.dtype:
        target = target.to(input.dtype)
    return R.apply(CROSS_ENTROPY, input, target, weight, cdim=cdim, reduction=reduction,
                   ignore_index=int(ignore_index), label_smoothing=float(label_smoothing), soft=soft)[0]


def _check_range(name, target, ignore_index, c):
    bad = ((target < 0) | (target >= c)) & (target != ignore_index)
    if bool(bad.any()):
        raise _err(name, f"target {int(target[bad].reshape(-1)[0])} is out of bounds for {c} classes", IndexError)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    r""":math:`-w_{y} x_{y}` per sample (``input`` holds log-probabilities); 'mean' divides by the
    summed weights of the non-ignored targets."""
    reduction = _reduction("nll_loss", size_average, reduce, reduction)
    cdim, _ = _class_target("nll_loss", input, target, False)
    weight = _class_weight("nll_loss", weight, input, cdim)
    _check_range("nll_loss", target, ignore_index, input.shape[cdim])
    valid = target != ignore_index
    tc = _F["where"](valid, target, 0)
    picked = input.gather(cdim, tc.unsqueeze(cdim)).squeeze(cdim)
    wt = weight[tc] * valid.to(input.dtype) if weight is not None else valid.to(input.dtype)
    loss = _F["where"](valid, -(picked * wt), 0)
    if reduction == "mean":
        return loss.sum() / wt.sum()
    return _reduce(loss, reduction)


def _binary_target(name, input, target):
    _tensors(name, input=input, target=target)
    _float_input(name, input)
    if tuple(target.shape) != tuple(input.shape):
        raise _err(name, f"expected target of the input's shape {tuple(input.shape)}, got {tuple(target.shape)}")
    return target if target.dtype == input.dtype else target.to(input.dtype)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    r""":math:`-w (y \log x + (1 - y) \log(1 - x))` with the logs clamped at -100 (as PyTorch)."""
    reduction = _reduction("binary_cross_entropy", size_average, reduce, reduction)
    target = _binary_target("binary_cross_entropy", input, target)
    if bool(((input < 0) | (input > 1)).any()):
        raise _err("binary_cross_entropy", "all elements of input should be between 0 and 1", RuntimeError)
    log_x = input.log().clamp_min(-100)
    log_1mx = (-input).log1p().clamp_min(-100)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    r""":math:`-w (p\, y \log \sigma(x) + (1 - y) \log(1 - \sigma(x)))`, computed stably from the
    logits as :math:`(1 - y) x - (1 + (p - 1) y) \log \sigma(x)`; ``pos_weight`` :math:`p`
    broadcasts along the last (class) dim."""
    reduction = _reduction("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    target = _binary_target("binary_cross_entropy_with_logits", input, target)
    ls = _F["logsigmoid"](input)
    log_weight = 1 + (pos_weight - 1) * target if pos_weight is not None else None
    loss = (1 - target) * input - (ls * log_weight if log_weight is not None else ls)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    r""":math:`y (\log y - x)` pointwise (``input`` holds log-probabilities; ``log_target``: so does
    ``target``); 'batchmean' divides the sum by the batch size (the KL divergence)."""
    _tensors("kl_div", input=input, target=target)
    reduction = _reduction("kl_div", size_average, reduce, reduction, ("batchmean",))
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _F["xlogy"](target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    r""":math:`e^x - y x` (``log_input``) or :math:`x - y \log(x + \epsilon)`; ``full`` adds the
    Stirling term :math:`y \log y - y + \frac12 \log(2 \pi y)` where :math:`y > 1`."""
    _tensors("poisson_nll_loss", input=input, target=target)
    reduction = _reduction("poisson_nll_loss", size_average, reduce, reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        big = target > 1
        ts = _F["where"](big, target, 2.0)  # a safe value where masked: no nan gradients
        stirling = ts * ts.log() - ts + (ts * (2 * math.pi)).log() * 0.5
        loss = loss + _F["where"](big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    r""":math:`\frac12 (\log \max(v, \epsilon) + (x - y)^2 / \max(v, \epsilon))` (+ :math:`\frac12 \log 2\pi`
    with ``full``); ``var`` has the input's shape, or one dim of size 1 / missing last dim
    (homoscedastic). The clamp passes gradients through unchanged, as PyTorch's."""
    _tensors("gaussian_nll_loss", input=input, target=target)
    if isinstance(var, (int, float)):
        if var < 0:
            raise _err("gaussian_nll_loss", "var has negative entry/entries")
        var = creation.full_like(input, float(var))
    elif bool((var < 0).any()):
        raise _err("gaussian_nll_loss", "var has negative entry/entries")
    ish, vsh = tuple(input.shape), tuple(var.shape)
    if vsh != ish:
        if ish[:-1] == vsh:
            var = var.unsqueeze(-1)
        elif not (len(ish) == len(vsh) and sum(v for i, v in zip(ish, vsh) if i != v) == 1):
            raise _err("gaussian_nll_loss", f"var of shape {vsh} is of incorrect size for an input of shape {ish}")
    if reduction not in ("none", "mean", "sum"):
        raise _err("gaussian_nll_loss", f"reduction must be one of 'none', 'mean', 'sum', got {reduction!r}")
    var = var + (var.clamp_min(eps) - var).detach()
    d = input - target
    loss = (var.log() + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# --- margins and embeddings -----------------------------------------------------------------
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    r""":math:`1 - \cos(x_1, x_2)` where :math:`y = 1`, :math:`\max(0, \cos(x_1, x_2) - m)` where :math:`y = -1`."""
    _tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction("cosine_embedding_loss", size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise _err("cosine_embedding_loss", f"expected inputs of the same shape (N, D) or (D,), got "
                                            f"{tuple(input1.shape)} and {tuple(input2.shape)}", RuntimeError)
    if target.ndim != input1.ndim - 1 or (target.ndim and target.shape[0] != input1.shape[0]):
        raise _err("cosine_embedding_loss", f"expected target of shape {tuple(input1.shape[:-1])}, got "
                                            f"{tuple(target.shape)}", RuntimeError)
    d = input1.ndim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim=d)
    denom = (((input1 * input1).sum(dim=d) + eps) * ((input2 * input2).sum(dim=d) + eps)).sqrt()
    cos = prod / denom
    loss = _F["where"](target == 1, 1 - cos, 0.0) + _F["where"](target == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    r""":math:`\max(0, -y (x_1 - x_2) + m)`."""
    _tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction("margin_ranking_loss", size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise _err("margin_ranking_loss", f"expected inputs and target of the same ndim, got shapes "
                                          f"{tuple(input1.shape)}, {tuple(input2.shape)}, {tuple(target.shape)}",
                   RuntimeError)
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    r""":math:`x` where :math:`y = 1`, :math:`\max(0, m - x)` where :math:`y = -1`."""
    _tensors("hinge_embedding_loss", input=input, target=target)
    reduction = _reduction("hinge_embedding_loss", size_average, reduce, reduction)
    loss = _F["where"](target != 1, (margin - input).clamp_min(0), 0.0) + _F["where"](target != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    r""":math:`\log(1 + e^{-y x})`, computed as :math:`-\log \sigma(y x)`."""
    _tensors("soft_margin_loss", input=input, target=target)
    reduction = _reduction("soft_margin_loss", size_average, reduce, reduction)
    if tuple(input.shape) != tuple(target.shape):
        raise _err("soft_margin_loss", f"expected target of the input's shape {tuple(input.shape)}, got "
                                       f"{tuple(target.shape)}")
    return _reduce(-_F["logsigmoid"](input * target), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    r""":math:`-\frac1C \sum_c w_c (y_c \log \sigma(x_c) + (1 - y_c) \log \sigma(-x_c))` per sample."""
    _tensors("multilabel_soft_margin_loss", input=input, target=target)
    reduction = _reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    ls = _F["logsigmoid"]
    loss = -(target * ls(input) + (1 - target) * ls(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(dim=input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    r""":math:`\frac1C \sum_{j \ne y} w_y \max(0, m - x_y + x_j)^p` per sample (``p`` 1 or 2)."""
    _tensors("multi_margin_loss", input=input, target=target)
    reduction = _reduction("multi_margin_loss", size_average, reduce, reduction)
    if p not in (1, 2):
        raise _err("multi_margin_loss", f"only p == 1 and p == 2 are supported, got {p}")
    if input.ndim not in (1, 2) or target.dtype != _dt.int64 or tuple(target.shape) != tuple(input.shape[:-1]):
        raise _err("multi_margin_loss", f"expected input (N, C) or (C,) and int64 target of shape "
                                        f"{tuple(input.shape[:-1])}, got {tuple(input.shape)} and "
                                        f"{tuple(target.shape)} {target.dtype}", RuntimeError)
    c = input.shape[-1]
    _check_range("multi_margin_loss", target, None, c)
    t = target.unsqueeze(-1)
    z = (input - input.gather(-1, t) + margin).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t]
    z = _F["where"](creation.arange(c) == t, 0.0, z)
    return _reduce(z.sum(dim=-1) / c, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    r""":math:`\max(0, m + d(a, p) - d(a, n))` with :math:`d` the ``p``-norm pairwise distance
    (``swap``: :math:`d(a, n)` replaced by :math:`\min(d(a, n), d(p, n))`)."""
    _tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    reduction = _reduction("triplet_margin_loss", size_average, reduce, reduction)
    if margin <= 0:
        raise _err("triplet_margin_loss", f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise _err("triplet_margin_loss", f"expected anchor, positive and negative of the same ndim, got "
                                          f"shapes {tuple(anchor.shape)}, {tuple(positive.shape)}, "
                                          f"{tuple(negative.shape)}", RuntimeError)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _F["minimum"](d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    r""":math:`\max(0, m + d(a, p) - d(a, n))` with any ``distance_function`` (default: pairwise_distance)."""
    reduction = _reduction("triplet_margin_with_distance_loss", None, None, reduction)
    if margin <= 0:
        raise _err("triplet_margin_with_distance_loss", f"margin must be greater than 0, got {margin}")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = _F["minimum"](d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)
