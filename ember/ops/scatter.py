"""Gather/scatter along a dim: gather, scatter, scatter_add, scatter_reduce, take_along_dim.

Scatters write through flat positions computed from the index (kernels/cpu/indexing.py);
their gradients are gathers and vice versa.
"""
import numpy as np

from . import registry as R
from .define import inplace
from .registry import register, export, METHODS, FUNCTIONS
from ..autograd.grad_mode import STATE as _GRAD
from .indexing import _err, _dim, _int_index, _check_bounds, GETITEM, MASKED_FILL, take

GATHER = register("gather", lambda ctx, g: (_zeros_scatter_add(g, ctx.shapes[0], ctx.inputs[1], ctx.dim), None), skip=(0,))
SCATTER = register("scatter", lambda ctx, g: (
    R.apply(SCATTER, g, ctx.inputs[1], 0, dim=ctx.dim) if ctx.needs(0) else None, None,
    R.apply(GATHER, g, ctx.inputs[1], dim=ctx.dim) if ctx.needs(2) else None), skip=(0, 2))
SCATTER_ADD = register("scatter_add", lambda ctx, g: (
    g, None, R.apply(GATHER, g, ctx.inputs[1], dim=ctx.dim) if ctx.needs(2) else None), skip=(0, 2))


def _zeros_scatter_add(g, shape, index, dim):
    return R.apply(SCATTER_ADD, FUNCTIONS["zeros"](shape, dtype=g.dtype), index, g, dim=dim)


def _where(cond, a, b):
    """``a`` where ``cond`` else ``b``, without letting inf/nan of the other branch leak."""
    return R.apply(MASKED_FILL, b, cond, 0) + R.apply(MASKED_FILL, a, cond == False, 0)  # noqa: E712


def _scatter_reduce_backward(ctx, g):
    """PyTorch's rule (FunctionsManual.cpp scatter_reduce_backward), in Ember ops."""
    self, index, src = ctx.inputs
    dim, reduce, include_self = ctx.dim, ctx.reduce, ctx.include_self
    gather = lambda t: R.apply(GATHER, t, index, dim=dim)  # noqa: E731
    zeros = lambda shape: FUNCTIONS["zeros"](shape, dtype=g.dtype)  # noqa: E731
    if reduce == "sum":
        g_self, g_src = g, gather(g)
    elif reduce == "mean":
        n = zeros(ctx.shapes[0]) + (1 if include_self else 0)
        n = R.apply(SCATTER_ADD, n, index, zeros(ctx.shapes[2]) + 1, dim=dim)
        n = R.apply(MASKED_FILL, n, n == 0, 1)
        g_self = g / n
        g_src = gather(g_self)
    elif reduce == "prod":
        result = ctx.out
        masked_self = R.apply(MASKED_FILL, self, self == 0, 1)
        masked_self_result = scatter_reduce(masked_self, dim, index, src, reduce, include_self=include_self)
        g_self = g * masked_self_result / masked_self
        src_zero = src == 0
        n_zeros = gather(_zeros_scatter_add(src_zero.to(g.dtype), ctx.shapes[0], index, dim))
        single_zero = src_zero * (n_zeros == 1)
        masked_src = R.apply(MASKED_FILL, src, single_zero, 1)
        masked_src_result = scatter_reduce(self, dim, index, masked_src, reduce, include_self=include_self)
        g_src = _where(single_zero, gather(g * masked_src_result),
                       gather(g * result) / R.apply(MASKED_FILL, src, src_zero, 1))
    else:  # amax / amin: the gradient is shared evenly among the elements equal to the result
        result = ctx.out
        value = gather(result)
        self_is = (self == result).to(g.dtype)
        if not include_self:  # the excluded self values never tie with the result
            self_is = R.apply(SCATTER, self_is, index, 0, dim=dim)
        src_is = (src == value).to(g.dtype)
        share = g / R.apply(SCATTER_ADD, self_is, index, src_is, dim=dim)
        g_self, g_src = self_is * share, src_is * gather(share)
    if not include_self:
        g_self = R.apply(SCATTER, g_self, index, 0, dim=dim)
    return (g_self if ctx.needs(0) else None), None, (g_src if ctx.needs(2) else None)


SCATTER_REDUCE = register("scatter_reduce", _scatter_reduce_backward, save="io")


def _check_scatter(op, input, dim, index, src=None):
    """Validate a gather/scatter call; returns (dim, src cut to index's shape)."""
    _int_index(index, op)
    xs, ishape = input._data.shape, index._data.shape
    dim = _dim(dim, len(xs), op)
    if len(ishape) != len(xs) and not (len(ishape) <= 1 and len(xs) <= 1):
        raise _err(RuntimeError, op, f"index {ishape} must have the same number of dimensions as "
                                     f"input {xs}")
    xs1, is1 = xs or (1,), ishape or (1,)
    for d, n in enumerate(is1):
        if d != dim and n > xs1[d]:
            raise _err(RuntimeError, op, f"size of index {ishape} exceeds the input size {xs} at "
                                         f"dimension {d}")
    _check_bounds(index._data, xs1[dim], dim, op, RuntimeError, negative=False)
    if hasattr(src, "_data"):
        ss = src._data.shape
        if src.dtype != input.dtype:
            raise _err(RuntimeError, op, f"expected self.dtype ({input.dtype}) to be equal to "
                                         f"src.dtype ({src.dtype})")
        if len(ss) != len(ishape) or any(n > s for n, s in zip(ishape, ss)):
            raise _err(RuntimeError, op, f"index {ishape} must not be larger than src {ss}")
        if ss != ishape:  # scatter reads the index-shaped block of src: slice it (a view)
            src = R.apply(GETITEM, src, key=tuple(("s", 0, n, 1) for n in ishape))
    return dim, src


@export(method=True)
def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` (for dim 0)."""
    dim, _ = _check_scatter("gather", input, dim, index)
    return R.apply(GATHER, input, index, dim=dim)


@export(method=True)
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src`` (a tensor, or a number via ``src`` / ``value``) written at ``index``."""
    src = value if src is None else src
    if src is None:
        raise _err(TypeError, "scatter", "expected a src tensor or a value")
    if reduce is not None:
        modes = {"add": "sum", "multiply": "prod"}
        if reduce not in modes:
            raise _err(RuntimeError, "scatter", f"reduce must be 'add' or 'multiply', got {reduce!r}")
        if not hasattr(src, "_data"):
            src = FUNCTIONS["tensor"](np.full(index.shape, src, input._data.dtype))
        return scatter_reduce(input, dim, index, src, modes[reduce])
    dim, src = _check_scatter("scatter", input, dim, index, src)
    return R.apply(SCATTER, input, index, src, dim=dim)


@export(method=True)
def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices accumulate)."""
    dim, src = _check_scatter("scatter_add", input, dim, index, src)
    return R.apply(SCATTER_ADD, input, index, src, dim=dim)


@export(method=True)
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into ``input`` at ``index`` with sum, prod, mean, amax or amin."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise _err(RuntimeError, "scatter_reduce", f"reduce must be one of sum, prod, mean, amax, amin; "
                                                   f"got {reduce!r}")
    dim, src = _check_scatter("scatter_reduce", input, dim, index, src)
    return R.apply(SCATTER_REDUCE, input, index, src, dim=dim, reduce=reduce, include_self=bool(include_self))



@export(method=True)
def take_along_dim(input, indices, dim=None):
    """``gather`` with ``input`` and ``indices`` broadcast (except along ``dim``); dim None: flat."""
    _int_index(indices, "take_along_dim")
    if dim is None:
        flat = METHODS["reshape"](indices, -1) if "reshape" in METHODS else \
            FUNCTIONS["tensor"](indices._data.reshape(-1))
        return take(input, flat)
    xs, ixs = input._data.shape, indices._data.shape
    if len(xs) != len(ixs):
        raise _err(RuntimeError, "take_along_dim", f"input {xs} and indices {ixs} should have the same "
                                                   f"number of dimensions")
    dim = _dim(dim, len(xs), "take_along_dim")
    try:
        b = list(np.broadcast_shapes(tuple(1 if d == dim else s for d, s in enumerate(xs)),
                                     tuple(1 if d == dim else s for d, s in enumerate(ixs))))
    except ValueError:
        raise _err(RuntimeError, "take_along_dim", f"input {xs} and indices {ixs} cannot be broadcast "
                                                   f"outside dim {dim}") from None
    xb, ib = tuple(b[:dim] + [xs[dim]] + b[dim + 1:]), tuple(b[:dim] + [ixs[dim]] + b[dim + 1:])
    if xb != xs:
        input = input.expand(xb)
    if ib != ixs:
        indices = indices.expand(ib)
    return gather(input, dim, indices)


for _fn in (scatter, scatter_add):
    METHODS[_fn.__name__ + "_"] = inplace(_fn, _fn.__name__ + "_")


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place :func:`scatter_reduce`."""
    x = self
    if _GRAD.enabled and (self._rg or src._rg):
        x = R.call("add", self, 0)  # the rule reads self's old values, which the commit overwrites
    return R.commit_inplace(self, scatter_reduce(x, dim, index, src, reduce, include_self=include_self),
                            "scatter_reduce_")


METHODS["scatter_reduce_"] = scatter_reduce_
