"""Sorting and searching: sort, argsort, msort, topk, kthvalue, unique, unique_consecutive,
searchsorted, bucketize, histc.

Gradients of the value-selecting ops flow back through ``sorting_scatter`` (the
gradient put at the selected indices of a zero tensor), whose own gradient is
``sorting_gather``, and the other way round, so any order of derivative works.
"""
from collections import namedtuple

from . import registry as R
from .registry import register, export


def _rt(name):
    cls = namedtuple(name, ["values", "indices"])
    cls.__module__ = "ember.return_types"
    return cls


SortResult, TopkResult, KthvalueResult = _rt("sort"), _rt("topk"), _rt("kthvalue")


def _dim(dim, ndim, op):
    n = max(ndim, 1)
    if not isinstance(dim, int) or not -n <= dim < n:
        raise IndexError(f"ember.{op}: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n


def _tensor(x, op, what="input"):
    if not hasattr(x, "_data"):
        raise TypeError(f"ember.{op}: expected a Tensor as {what}, got {type(x).__name__}")
    return x


# --- the gradient carriers -------------------------------------------------------------
SCATTER = register("sorting_scatter", lambda ctx, g: (
    R.apply(GATHER, g, ctx.inputs[1], dim=ctx.dim), None), save="i")
GATHER = register("sorting_gather", lambda ctx, g: (
    R.apply(SCATTER, g, ctx.inputs[1], dim=ctx.dim, shape=ctx.shapes[0]), None), save="i")


def _selected_backward(ctx, g_values, g_indices):
    """Values picked from the input at ``indices``: the gradient goes back to those places."""
    return R.apply(SCATTER, g_values, ctx.outs[1], dim=ctx.dim, shape=ctx.shapes[0])


SORT = register("sort", _selected_backward, save="o")
ARGSORT = register("argsort", None, save="")
TOPK = register("topk", _selected_backward, save="o")
KTHVALUE = register("kthvalue", _selected_backward, save="o")


@export(method=True)
def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``; ``stable`` keeps the order of equal
    values (NaN sorts as the largest value)."""
    _tensor(input, "sort")
    dim = _dim(dim, input.ndim, "sort")
    return SortResult(*R.apply(SORT, input, dim=dim, descending=bool(descending), stable=bool(stable)))


@export(method=True)
def argsort(input, dim=-1, descending=False, stable=False):
    _tensor(input, "argsort")
    dim = _dim(dim, input.ndim, "argsort")
    return R.apply(ARGSORT, input, dim=dim, descending=bool(descending), stable=bool(stable))


@export(method=True)
def msort(input):
    """``input`` sorted along dim 0."""
    return sort(input, 0).values


@export(method=True)
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) entries along ``dim`` as ``(values, indices)``."""
    _tensor(input, "topk")
    dim = _dim(dim, input.ndim, "topk")
    n = input.shape[dim] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"ember.topk: k ({k}) is out of range for dim {dim} of size {n} "
                           f"(shape {tuple(input.shape)})")
    return TopkResult(*R.apply(TOPK, input, k=int(k), dim=dim, largest=bool(largest),
                               sorted=bool(sorted)))


@export(method=True)
def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest entry (1-based) along ``dim`` as ``(values, indices)``."""
    _tensor(input, "kthvalue")
    dim = _dim(dim, input.ndim, "kthvalue")
    n = input.shape[dim] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"ember.kthvalue: k ({k}) is out of range for dim {dim} of size {n} "
                           f"(shape {tuple(input.shape)})")
    return KthvalueResult(*R.apply(KTHVALUE, input, k=int(k), dim=dim, keepdim=bool(keepdim)))


# --- unique ------------------------------------------------------------------------------
UNIQUE = register("unique", None, save="")
UNIQUE_CONSECUTIVE = register("unique_consecutive", None, save="")


def _unique(op, input, return_inverse, return_counts, dim):
    _tensor(input, op.name)
    if dim is not None:
        if input.ndim == 0:
            raise IndexError(f"ember.{op.name}: dim {dim} given for a 0-d tensor")
        dim = _dim(dim, input.ndim, op.name)
    out = R.apply(op, input, return_inverse=bool(return_inverse), return_counts=bool(return_counts),
                  dim=dim)
    return out[0] if len(out) == 1 else out


@export(method=True)
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (always sorted, as PyTorch's CPU kernel does), optionally with
    the index of each input element in them and the count of each."""
    return _unique(UNIQUE, input, return_inverse, return_counts, dim)


@export(method=True)
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive values (or slices along ``dim``) to one."""
    return _unique(UNIQUE_CONSECUTIVE, input, return_inverse, return_counts, dim)


# --- searching -----------------------------------------------------------------------------
SEARCHSORTED = register("searchsorted", None, save="")
BUCKETIZE = register("bucketize", None, save="")


def _side(op, right, side):
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"ember.{op}: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError(f"ember.{op}: side='left' and right=True contradict each other")
        return side == "right"
    return bool(right)


@export
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where ``input`` would be inserted into the (innermost dim of) ``sorted_sequence``
    to keep it sorted."""
    seq = _tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    right = _side("searchsorted", right, side)
    ss = tuple(seq.shape)
    if not ss:
        raise RuntimeError("ember.searchsorted: sorted_sequence must have at least 1 dim, got a 0-d tensor")
    if hasattr(input, "_data"):
        si = tuple(input.shape)
        if len(ss) > 1 and (len(si) != len(ss) or si[:-1] != ss[:-1]):
            raise RuntimeError(f"ember.searchsorted: the leading dims of sorted_sequence {ss} and "
                               f"input {si} must match")
    elif len(ss) > 1:
        raise RuntimeError(f"ember.searchsorted: a scalar input needs a 1-D sorted_sequence, got {ss}")
    if sorter is not None and tuple(_tensor(sorter, "searchsorted", "sorter").shape) != ss:
        raise RuntimeError(f"ember.searchsorted: sorter of shape {tuple(sorter.shape)} must match "
                           f"sorted_sequence {ss}")
    return R.apply(SEARCHSORTED, seq, input, sorter, right=right, out_int32=bool(out_int32))


@export
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of ``input`` given 1-D sorted ``boundaries``."""
    b = _tensor(boundaries, "bucketize", "boundaries")
    if b.ndim != 1:
        raise RuntimeError(f"ember.bucketize: boundaries must be 1-D, got shape {tuple(b.shape)}")
    return R.apply(BUCKETIZE, input, b, right=bool(right), out_int32=bool(out_int32))


HISTC = register("histc", None, save="")


@export(method=True)
def histc(input, bins=100, min=0, max=0):
    """Histogram with ``bins`` equal bins over [min, max] (the data's range when min == max)."""
    _tensor(input, "histc")
    if not input.is_floating_point():
        raise TypeError(f"ember.histc: expected a floating point tensor, got {input.dtype}")
    if bins <= 0:
        raise RuntimeError(f"ember.histc: bins must be > 0, got {bins}")
    if min > max:
        raise RuntimeError(f"ember.histc: max ({max}) must be larger than or equal to min ({min})")
    return R.apply(HISTC, input, bins=int(bins), min=float(min), max=float(max))
