"""ember.nn.functional: embedding, embedding_bag, one_hot.

``sparse=True`` is accepted and gives the same (dense) gradient: ember has no sparse
tensors; the optimisers update the whole weight.
"""
import numpy as np

from ... import creation as _c
from ..._tensor import Tensor, _counter
from ...autograd.grad_mode import no_grad
from ...ops import registry as R
from ...ops.nn import EMBEDDING, EMBEDDING_BACKWARD, EMBEDDING_BAG_LAYOUT, EMBEDDING_BAG_MAX_INDEX
from ...ops.registry import FUNCTIONS

__all__ = ["embedding", "embedding_bag", "one_hot"]


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding of an integer tensor along a new last dim."""
    return FUNCTIONS["one_hot"](tensor, num_classes)


def _check_indices(name, input, num):
    if not isinstance(input, Tensor) or input._data.dtype.kind not in "iu":
        what = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"ember.{name}: expected an integer (Long or Int) index tensor, got {what}")
    d = input._data
    if d.size and (int(d.min()) < 0 or int(d.max()) >= num):
        bad = int(d.min()) if int(d.min()) < 0 else int(d.max())
        raise IndexError(f"ember.{name}: index {bad} is out of range for a weight of {num} rows")


def _padding_idx(name, padding_idx, num):
    if padding_idx is None:
        return -1
    if not -num <= padding_idx < num:
        raise ValueError(f"ember.{name}: padding_idx {padding_idx} must be within num_embeddings ({num})")
    return padding_idx % num


def _renorm_(weight, indices, max_norm, norm_type):
    """Rescale in place (no grad) the rows at ``indices`` whose ``norm_type``-norm exceeds ``max_norm``."""
    with no_grad():
        w = weight._data
        rows = np.unique(indices._data.reshape(-1))
        if rows.size == 0:
            return
        sel = w[rows].astype(np.float64)
        norms = np.linalg.norm(sel, ord=norm_type, axis=1) if norm_type != 2 else np.sqrt((sel * sel).sum(1))
        big = norms > max_norm
        if big.any():
            scale = max_norm / (norms[big] + 1e-7)
            w[rows[big]] = (sel[big] * scale[:, None]).astype(w.dtype)
            _counter(weight)[0] += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input``: shape
    input.shape + (embedding_dim,). The row at ``padding_idx`` gets no gradient; with
    ``max_norm`` the looked-up rows are first renormalised in place."""
    if weight.ndim != 2:
        raise ValueError(f"ember.embedding: weight has to be a 2D tensor, got shape {tuple(weight.shape)}")
    num = weight.shape[0]
    _check_indices("embedding", input, num)
    pad = _padding_idx("embedding", padding_idx, num)
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return R.apply(EMBEDDING, weight, input, padding_idx=pad, scale_grad_by_freq=bool(scale_grad_by_freq))


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embedding rows without a per-bag loop. ``input`` is
    (B, N) (B bags of N) or 1-D with ``offsets`` giving each bag's start; entries equal to
    ``padding_idx`` are left out of every reduction; empty bags give zeros."""
    if weight.ndim != 2:
        raise ValueError(f"ember.embedding_bag: weight has to be a 2D tensor, got shape {tuple(weight.shape)}")
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"ember.embedding_bag: per_sample_weights of shape {tuple(per_sample_weights.shape)} "
                         f"must have the same shape as the input {tuple(input.shape)}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("ember.embedding_bag: if input is 2D, then offsets has to be None, as input is "
                             "treated as a mini-batch of fixed length sequences")
        offsets = _c.arange(input.shape[0]) * input.shape[1]
        include_last_offset = False
        input = input.reshape(-1)
        per_sample_weights = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("ember.embedding_bag: offsets has to be a 1D tensor but got None")
        if offsets.ndim != 1:
            raise ValueError(f"ember.embedding_bag: offsets has to be a 1D tensor, got shape {tuple(offsets.shape)}")
    else:
        raise ValueError(f"ember.embedding_bag: input has to be 1D or 2D tensor, got shape {tuple(input.shape)}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"ember.embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("ember.embedding_bag: max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"ember.embedding_bag: per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}')")
    num, n = weight.shape[0], input.numel()
    _check_indices("embedding_bag", input, num)
    od = offsets._data
    if od.size and (int(od[0]) != 0 or int(od[-1]) > n or np.any(np.diff(od) < 0)):
        raise ValueError(f"ember.embedding_bag: offsets must start at 0, be non-decreasing and not exceed the "
                         f"input's length {n}, got {od.tolist()}")
    pad = _padding_idx("embedding_bag", padding_idx, num)
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    bag_of, valid, count = R.apply(EMBEDDING_BAG_LAYOUT, input, offsets, padding_idx=pad,
                                   include_last_offset=bool(include_last_offset))
    num_bags = count.shape[0]
    rows = R.apply(EMBEDDING, weight, input, padding_idx=pad, scale_grad_by_freq=bool(scale_grad_by_freq))
    if mode == "max" and n:
        pos, filled = R.apply(EMBEDDING_BAG_MAX_INDEX, rows, bag_of, valid, num_bags=num_bags)
        return FUNCTIONS["take_along_dim"](rows, pos, 0) * filled.unsqueeze(-1).to(weight.dtype)
    factor = valid.to(weight.dtype)
    if mode == "mean":
        per_bag = count.clamp(min=1).to(weight.dtype)
        factor = factor / R.apply(EMBEDDING, per_bag.unsqueeze(-1), bag_of, padding_idx=-1,
                                  scale_grad_by_freq=False).squeeze(-1)
    if per_sample_weights is not None:
        factor = factor * per_sample_weights
    return R.apply(EMBEDDING_BACKWARD, rows * factor.unsqueeze(-1), bag_of, num_weights=num_bags, padding_idx=-1,
                   scale_grad_by_freq=False)
