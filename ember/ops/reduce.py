"""Reductions: sum mean prod nansum nanmean, max/min amax amin argmax argmin aminmax,
var std var_mean std_mean, logsumexp norm, all any count_nonzero, median.

Reduction ops take ``dim`` as a sorted tuple of non-negative axes (the public functions
normalise PyTorch's int / tuple / None / negative dims) and ``keepdim``. Gradients of
reduced outputs go back through ``reduce_grad`` (one broadcasting view instead of an
unsqueeze + expand chain); value-selecting reductions (max(dim), median(dim), cummax)
route their gradient to the selected index with ``select_along_backward``.
Scans and softmax live in ``scan.py``.
"""
import math
import operator
from collections import namedtuple

from .. import dtypes as _dt
from . import registry as R
from .registry import register, export, METHODS, FUNCTIONS, call  # noqa: F401

SUM_TO_SIZE = register("sum_to_size", lambda ctx, g: g.expand(ctx.shapes[0]), save="",
                       fusion="reduce")


@export(function=False, method=True)
def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (the reverse of broadcasting)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return R.apply(SUM_TO_SIZE, input, shape=tuple(size))


# PyTorch's torch.return_types, as named tuples
max_ret, min_ret, median_ret, mode_ret, cummax_ret, cummin_ret = (
    namedtuple(n, "values indices") for n in ("max", "min", "median", "mode", "cummax", "cummin"))
aminmax_ret = namedtuple("aminmax", "min max")


# --- argument checks ----------------------------------------------------------------------
def _check_tensor(input, op):
    if not hasattr(input, "_data"):
        raise TypeError(f"ember.{op}: expected a Tensor as input, got {type(input).__name__}")


def _range_error(op, d, n):
    return IndexError(f"ember.{op}: dimension out of range (expected to be in range of "
                      f"[{-n}, {n - 1}], but got {d})")


_ALL = tuple(tuple(range(n)) for n in range(65))  # NumPy's maximum ndim is 64


def dims(input, dim, op):
    """PyTorch's ``dim`` (None, an int or a sequence; None and () mean every dim) as a
    sorted tuple of non-negative axes; ``()`` for a 0-d input (where dims 0 and -1 are valid)."""
    if dim is None:  # the common full reduction, without the checks below
        try:
            return _ALL[input._data.ndim]
        except AttributeError:
            pass
    _check_tensor(input, op)
    ndim = input._data.ndim
    if dim is None:
        return tuple(range(ndim))
    try:
        dim = (operator.index(dim),)
    except TypeError:
        if not isinstance(dim, (tuple, list)):
            raise TypeError(f"ember.{op}: dim must be an int or a sequence of ints, got {dim!r}") from None
        if len(dim) == 0:
            return tuple(range(ndim))
    n = ndim or 1
    out = []
    for d in dim:
        try:
            d = operator.index(d)
        except TypeError:
            raise TypeError(f"ember.{op}: dim must be an int or a sequence of ints, got {dim!r}") from None
        if not -n <= d < n:
            raise _range_error(op, d, n)
        if d % n in out:
            raise RuntimeError(f"ember.{op}: dim {d % n} appears multiple times in the list of dims")
        out.append(d % n)
    return tuple(sorted(out)) if ndim else ()


def dim1(input, dim, op):
    """A single (possibly negative) dim as a non-negative int (0 for a 0-d input)."""
    _check_tensor(input, op)
    n = input._data.ndim or 1
    try:
        d = operator.index(dim)
    except TypeError:
        raise TypeError(f"ember.{op}: dim must be an int, got {type(dim).__name__}") from None
    if not -n <= d < n:
        raise _range_error(op, d, n)
    return d % n


def check_float(input, op):
    if input._data.dtype.kind not in "fV":  # V: bfloat16
        raise RuntimeError(f"ember.{op}: expected a floating point tensor, got {input.dtype}")


def _check_nonempty(input, axes, op):
    shape = input._data.shape
    for d in axes:
        if shape[d] == 0:
            raise IndexError(f"ember.{op}: expected reduction dim {d} to have non-zero size "
                             f"(input shape {tuple(shape)})")


def _check_numel(input, op):
    if input._data.size == 0:
        raise RuntimeError(f"ember.{op}: expected reduction dim to be specified for an empty input "
                           f"(shape {tuple(input._data.shape)}); pass dim=")


def _cast(input, dtype):
    return input if dtype is None else input.to(_dt.to_dtype(dtype))


def _count(shape, axes):
    n = 1
    for d in axes:
        n *= shape[d]
    return n


def _ratio(a, b):
    return a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a))


# --- gradient plumbing --------------------------------------------------------------------
REDUCE_GRAD = register("reduce_grad", lambda ctx, g: R.apply(SUM, g, dim=ctx.dim, keepdim=ctx.keepdim),
                       save="", view=True, fusion="movement",
                       doc="A reduced tensor broadcast back to the reduction's input shape.")


def unreduce(g, shape, axes, keepdim):
    """``g`` (reduced over ``axes`` of ``shape``) broadcast back to ``shape``."""
    return R.apply(REDUCE_GRAD, g, shape=tuple(shape), dim=axes, keepdim=keepdim)


def keep(t, shape, axes, keepdim):
    """``t`` (reduced over ``axes``) with the reduced dims kept as size 1 (broadcastable)."""
    if keepdim or not axes:
        return t
    kshape = tuple(1 if i in axes else s for i, s in enumerate(shape))
    return R.apply(REDUCE_GRAD, t, shape=kshape, dim=axes, keepdim=False)


def _select_backward(ctx, g, *_):
    """Value-selecting reductions: the gradient goes to the selected index."""
    return R.apply(SELECT_ALONG_BACKWARD, g, ctx.outs[1], shape=ctx.shapes[0], dim=ctx.dim,
                   keepdim=ctx.keepdim)


SELECT_ALONG = register(
    "select_along", lambda ctx, g: (R.apply(SELECT_ALONG_BACKWARD, g, ctx.inputs[1], shape=ctx.shapes[0],
                                            dim=ctx.dim, keepdim=ctx.keepdim), None),
    doc="x at the given indices along dim (torch.gather for a reduced index).")
SELECT_ALONG_BACKWARD = register(
    "select_along_backward", lambda ctx, g: (R.apply(SELECT_ALONG, g, ctx.inputs[1], dim=ctx.dim,
                                                     keepdim=ctx.keepdim), None),
    doc="Zeros with g added at the given indices along dim (the adjoint of select_along).")


def _tie_grad(x, out, g, axes, keepdim):
    """The gradient of a max/min-like value shared evenly among the elements equal to it."""
    shape = x._data.shape
    mask = (x == keep(out, shape, axes, keepdim)).to(g.dtype)
    return mask * (keep(g, shape, axes, keepdim) / R.apply(SUM, mask, dim=axes, keepdim=True))


# --- sums and products --------------------------------------------------------------------------
def _sum_backward(ctx, g):  # ctx.attrs is {dim, keepdim}
    return R.apply(REDUCE_GRAD, g, shape=ctx.shapes[0], **ctx.attrs)


def _mean_backward(ctx, g):  # scale the small reduced grad, then broadcast
    return R.apply(REDUCE_GRAD, g / _count(ctx.shapes[0], ctx.dim), shape=ctx.shapes[0], **ctx.attrs)


def _nansum_backward(ctx, g):
    x = ctx.inputs[0]
    return unreduce(g, ctx.shapes[0], ctx.dim, ctx.keepdim) * (x == x).to(g.dtype)


def _nanmean_backward(ctx, g):
    x = ctx.inputs[0]
    valid = (x == x).to(g.dtype)
    n = R.apply(SUM, valid, dim=ctx.dim, keepdim=True)
    return valid * (keep(g, ctx.shapes[0], ctx.dim, ctx.keepdim) / n)


def _prod_backward(ctx, g):
    # d prod / dx_i = product of the others: P / x_i without zeros in the slice, P (the product of
    # the nonzeros) at the only zero of a slice with one zero, and 0 otherwise
    x, axes = ctx.inputs[0], ctx.dim
    z = (x == 0).to(g.dtype)
    nonzero = x + z
    p = R.apply(PROD, nonzero, dim=axes, keepdim=True)
    nz = R.apply(SUM, z, dim=axes, keepdim=True)
    gp = keep(g, ctx.shapes[0], axes, ctx.keepdim) * p
    return gp * (nz == 0).to(g.dtype) / nonzero + z * (gp * (nz == 1).to(g.dtype))


SUM = register("sum", _sum_backward, save="", fusion="reduce")
MEAN = register("mean", _mean_backward, save="", fusion="reduce")
NANSUM = register("nansum", _nansum_backward, fusion="reduce")
NANMEAN = register("nanmean", _nanmean_backward, fusion="reduce")
PROD = register("prod", _prod_backward, fusion="reduce")


@export(method=True)
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (an int, a tuple, or None for all); ints and bools sum to int64."""
    axes = dims(input, dim, "sum")
    return R.apply(SUM, _cast(input, dtype), dim=axes, keepdim=keepdim)


@export(method=True)
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating nan as zero."""
    axes = dims(input, dim, "nansum")
    return R.apply(NANSUM, _cast(input, dtype), dim=axes, keepdim=keepdim)


@export(method=True)
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; nan for an empty reduction."""
    axes = dims(input, dim, "mean")
    input = _cast(input, dtype)
    check_float(input, "mean")
    return R.apply(MEAN, input, dim=axes, keepdim=keepdim)


@export(method=True)
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-nan elements."""
    axes = dims(input, dim, "nanmean")
    input = _cast(input, dtype)
    check_float(input, "nanmean")
    return R.apply(NANMEAN, input, dim=axes, keepdim=keepdim)


@export(method=True)
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or over one ``dim``; ints multiply in int64."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"ember.prod: dim must be an int or None, got {dim!r}")
    axes = dims(input, dim, "prod")
    return R.apply(PROD, _cast(input, dtype), dim=axes, keepdim=keepdim)


# --- extrema ----------------------------------------------------------------------------------------
AMAX = register("amax", lambda ctx, g: _tie_grad(ctx.inputs[0], ctx.out, g, ctx.dim, ctx.keepdim),
                save="io", fusion="reduce")
AMIN = register("amin", lambda ctx, g: _tie_grad(ctx.inputs[0], ctx.out, g, ctx.dim, ctx.keepdim),
                save="io", fusion="reduce")
MAX_DIM = register("max_dim", _select_backward, save="o", fusion="reduce")
MIN_DIM = register("min_dim", _select_backward, save="o", fusion="reduce")
ARGMAX = register("argmax", fusion="reduce")
ARGMIN = register("argmin", fusion="reduce")


def _extremum(name, full_op, dim_op, ret, pairwise):
    def fn(input, dim=None, keepdim=False, *, other=None):
        if other is not None or hasattr(dim, "_data"):  # max(input, other): elementwise
            return FUNCTIONS[pairwise](input, dim if other is None else other)
        if dim is None:
            _check_tensor(input, name)
            _check_numel(input, name)
            return R.apply(full_op, input, dim=tuple(range(input._data.ndim)), keepdim=False)
        d = dim1(input, dim, name)
        if input._data.ndim:
            _check_nonempty(input, (d,), name)
        return ret(*R.apply(dim_op, input, dim=d, keepdim=keepdim))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``{name}(input)``: the {name}imum (the gradient is shared among ties); "
                  f"``{name}(input, dim, keepdim)``: (values, indices) of the first {name}imum; "
                  f"``{name}(input, other)``: elementwise {pairwise}.")
    FUNCTIONS[name] = METHODS[name] = fn
    return fn


max = _extremum("max", AMAX, MAX_DIM, max_ret, "maximum")
min = _extremum("min", AMIN, MIN_DIM, min_ret, "minimum")


def _amax_amin(name, op):
    def fn(input, dim=(), keepdim=False):
        axes = dims(input, dim, name)
        _check_nonempty(input, axes, name)
        return R.apply(op, input, dim=axes, keepdim=keepdim)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{name[1:]}imum over ``dim`` (all dims by default); the gradient is shared among ties."
    FUNCTIONS[name] = METHODS[name] = fn
    return fn


amax = _amax_amin("amax", AMAX)
amin = _amax_amin("amin", AMIN)


def _argext(name, op):
    def fn(input, dim=None, keepdim=False):
        if dim is None:
            _check_tensor(input, name)
            _check_numel(input, name)
            return R.apply(op, input, dim=None, keepdim=keepdim)
        d = dim1(input, dim, name)
        if input._data.ndim:
            _check_nonempty(input, (d,), name)
        return R.apply(op, input, dim=d, keepdim=keepdim)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Index of the first {name[3:]}imum over ``dim`` (of the flattened input if None)."
    FUNCTIONS[name] = METHODS[name] = fn
    return fn


argmax = _argext("argmax", ARGMAX)
argmin = _argext("argmin", ARGMIN)


@export(method=True)
def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` (all if None)."""
    axes = dims(input, dim, "aminmax") if dim is None else (dim1(input, dim, "aminmax"),)
    if input._data.ndim == 0:
        axes = ()
    if input._data.size == 0 and (not axes or _count(input._data.shape, axes) == 0):
        raise RuntimeError(f"ember.aminmax: cannot compute aminmax over an empty dimension "
                           f"(input shape {tuple(input._data.shape)})")
    return aminmax_ret(R.apply(AMIN, input, dim=axes, keepdim=keepdim),
                       R.apply(AMAX, input, dim=axes, keepdim=keepdim))


# --- statistics ------------------------------------------------------------------------------------
def _moment_grad(ctx, x, mean, gv, gm):
    """The gradient of (var, mean) reduced over ctx.dim, given their upstream gradients."""
    shape, axes, kd = ctx.shapes[0], ctx.dim, ctx.keepdim
    n = _count(shape, axes)
    if n == 0:  # empty input: an empty gradient
        return x * 0
    grad = (x - keep(mean, shape, axes, kd)) * (keep(gv, shape, axes, kd) * _ratio(2.0, n - ctx.correction))
    return grad + keep(gm, shape, axes, kd) * _ratio(1.0, n)


def _var_mean_backward(ctx, gv, gm):
    var, mean = ctx.outs
    return _moment_grad(ctx, ctx.inputs[0], mean, gv, gm)


def _std_mean_backward(ctx, gs, gm):
    std, mean = ctx.outs
    zero = (std == 0).to(gs.dtype)  # PyTorch: 0 where the std is 0
    gv = gs * (1 - zero) / (2 * (std + zero))
    return _moment_grad(ctx, ctx.inputs[0], mean, gv, gm)


VAR_MEAN = register("var_mean", _var_mean_backward, save="io", fusion="reduce")
STD_MEAN = register("std_mean", _std_mean_backward, save="io", fusion="reduce")


def _var_args(input, dim, unbiased, correction, op):
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"ember.{op}: cannot specify both unbiased and correction")
    axes = dims(input, dim, op)
    check_float(input, op)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return axes, correction


def _moments(name, op, index):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        axes, c = _var_args(input, dim, unbiased, correction, name)
        out = R.apply(op, input, dim=axes, correction=c, keepdim=keepdim)
        return out if index is None else out[index]
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``{name}`` over ``dim`` with Bessel's ``correction`` (default 1; "
                  f"``unbiased=False`` means 0).")
    FUNCTIONS[name] = fn
    if index is not None:
        METHODS[name] = fn
    return fn


var = _moments("var", VAR_MEAN, 0)
std = _moments("std", STD_MEAN, 0)
var_mean = _moments("var_mean", VAR_MEAN, None)
std_mean = _moments("std_mean", STD_MEAN, None)


def _logsumexp_backward(ctx, g):
    x, out, shape = ctx.inputs[0], ctx.out, ctx.shapes[0]
    return keep(g, shape, ctx.dim, ctx.keepdim) * call("exp", x - keep(out, shape, ctx.dim, ctx.keepdim))


LOGSUMEXP = register("logsumexp", _logsumexp_backward, promote="float", save="io", fusion="reduce")


@export(method=True)
def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input)))`` over ``dim``, computed stably."""
    return R.apply(LOGSUMEXP, input, dim=dims(input, dim, "logsumexp"), keepdim=keepdim)


def _sign(x):
    return (x > 0).to(x.dtype) - (x < 0).to(x.dtype)


def _norm_backward(ctx, g):
    x, out, p = ctx.inputs[0], ctx.out, ctx.ord
    shape, axes, kd = ctx.shapes[0], ctx.dim, ctx.keepdim
    gk = keep(g, shape, axes, kd)
    if p == 0:
        return x * 0
    if p == 1:
        return gk * _sign(x)
    outk = keep(out, shape, axes, kd)
    if p == 2:  # x / norm, 0 where the norm is 0 (x is all zeros there)
        return x * (gk / (outk + (outk == 0).to(g.dtype)))
    sx = _sign(x)
    if math.isinf(p):  # the gradient is shared among the elements of extreme |x|
        mask = (x * sx == outk).to(g.dtype)
        return sx * mask * (gk / R.apply(SUM, mask, dim=axes, keepdim=True))
    ax = x * sx
    zx = (x == 0).to(g.dtype)
    scaled = sx * (ax + zx) ** (p - 1)  # sign(x) |x|^(p-1), 0 at x = 0
    if p < 1:
        return scaled * (gk * outk ** (1 - p))
    zo = (outk == 0).to(g.dtype)
    return scaled * (gk * (1 - zo) / (outk + zo) ** (p - 1))


NORM = register("norm", _norm_backward, save="io", fusion="reduce")


@export(method=True)
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all if None): p = 2 ('fro'), 1, inf, -inf, 0 or any other number."""
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"ember.norm: p={p!r} is not supported (use a number or 'fro')")
        p = 2
    if p is None:
        p = 2
    axes = dims(input, dim, "norm")
    input = _cast(input, dtype)
    check_float(input, "norm")
    if math.isinf(p) and input._data.ndim:
        _check_nonempty(input, axes, "norm")
    return R.apply(NORM, input, ord=float(p), dim=axes, keepdim=keepdim)


# --- logic ------------------------------------------------------------------------------------------
ALL = register("all", fusion="reduce")
ANY = register("any", fusion="reduce")
COUNT_NONZERO = register("count_nonzero", fusion="reduce")


@export(method=True)
def all(input, dim=None, keepdim=False):
    """Whether every element over ``dim`` is nonzero (bool; uint8 for uint8 input)."""
    return R.apply(ALL, input, dim=dims(input, dim, "all"), keepdim=keepdim)


@export(method=True)
def any(input, dim=None, keepdim=False):
    """Whether any element over ``dim`` is nonzero."""
    return R.apply(ANY, input, dim=dims(input, dim, "any"), keepdim=keepdim)


@export(method=True)
def count_nonzero(input, dim=None):
    """Number of nonzero elements over ``dim`` (int64)."""
    return R.apply(COUNT_NONZERO, input, dim=dims(input, dim, "count_nonzero"))


# --- median -------------------------------------------------------------------------------------------
MEDIAN = register("median", lambda ctx, g: _tie_grad(ctx.inputs[0], ctx.out, g,
                                                      tuple(range(len(ctx.shapes[0]))), False),
                  save="io", fusion="reduce")
MEDIAN_DIM = register("median_dim", _select_backward, save="o", fusion="reduce")


@export(method=True)
def median(input, dim=None, keepdim=False):
    """Lower median of all elements, or (values, indices) over ``dim``."""
    if dim is None:
        _check_tensor(input, "median")
        if input._data.size == 0 and input._data.dtype.kind in "biu":
            raise RuntimeError(f"ember.median: the median of an empty {input.dtype} tensor is undefined")
        return R.apply(MEDIAN, input)
    d = dim1(input, dim, "median")
    if input._data.ndim:
        _check_nonempty(input, (d,), "median")
    return median_ret(*R.apply(MEDIAN_DIM, input, dim=d, keepdim=keepdim))


MODE = register("mode", _select_backward, save="o", fusion="reduce")


@export(method=True)
def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value over ``dim`` (smallest among ties) and
    the index of its last occurrence."""
    d = dim1(input, dim, "mode")
    if input._data.ndim:
        _check_nonempty(input, (d,), "mode")
    return mode_ret(*R.apply(MODE, input, dim=d, keepdim=keepdim))
