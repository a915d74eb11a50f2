"""Copying movement ops: cat / stack and friends, repeats, flips and rolls, triangles, pad."""
import numpy as np

from . import registry as R
from .define import inplace
from .registry import register, export, METHODS, FUNCTIONS
from .movement import _dim, _dims, _sizes, _reshape, _narrow, expand


# --- joins -------------------------------------------------------------------------------
def _cat_backward(ctx, g):
    out, start, d = [], 0, ctx.dim
    for i, s in enumerate(ctx.shapes):
        if s == (0,) and g._data.ndim != 1:  # a skipped empty input
            out.append(FUNCTIONS["zeros"]((0,), dtype=g.dtype) if ctx.needs(i) else None)
            continue
        out.append(_narrow(g, d, start, s[d]) if ctx.needs(i) else None)
        start += s[d]
    return tuple(out)


def _stack_backward(ctx, g):
    return tuple(_reshape(_narrow(g, ctx.dim, i, 1), s) if ctx.needs(i) else None
                 for i, s in enumerate(ctx.shapes))


CAT = register("cat", _cat_backward, promote="common", save="", fusion="movement")
STACK = register("stack", _stack_backward, promote="common", save="", fusion="movement")


def _seq(tensors, op):
    if hasattr(tensors, "_data") or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"ember.{op}: expected a sequence of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"ember.{op}: expected a non-empty list of tensors")
    return tuple(tensors)


@export
def cat(tensors, dim=0):
    """Join tensors along an existing dim; 1-d empty tensors are skipped, dtypes promote."""
    tensors = _seq(tensors, "cat")
    # 1-d empty tensors are skipped by the kernel, but still promote and get a gradient
    keep = [x for x in tensors if x._data.shape != (0,)] or [tensors[0]]
    ref = keep[0]._data.shape
    if not ref:
        raise RuntimeError("ember.cat: zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _dim(dim, len(ref), "cat")
    for i, x in enumerate(keep):
        s = x._data.shape
        if len(s) != len(ref) or any(a != b for j, (a, b) in enumerate(zip(s, ref)) if j != d):
            raise RuntimeError(f"ember.cat: sizes of tensors must match except in dimension {d}: "
                               f"got shapes {tuple(ref)} and {tuple(s)} (entry {i})")
    return R.apply(CAT, *tensors, dim=d)


@export
def concat(tensors, dim=0):
    return cat(tensors, dim)


@export
def concatenate(tensors, axis=0):
    return cat(tensors, axis)


@export
def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim."""
    tensors = _seq(tensors, "stack")
    ref = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != ref:
            raise RuntimeError(f"ember.stack: expects each tensor to be equal size, but got "
                               f"{list(ref)} at entry 0 and {list(x._data.shape)} at entry {i}")
    return R.apply(STACK, *tensors, dim=_dim(dim, len(ref), "stack", extra=1))


def _atleast(n, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(n, (x,)) for x in tensors[0])
    if len(tensors) > 1:
        return tuple(_atleast(n, (x,)) for x in tensors)
    x = tensors[0]
    shp = x._data.shape
    if len(shp) >= n:
        return x
    new = {1: {0: (1,)}, 2: {0: (1, 1), 1: (1,) + shp},
           3: {0: (1, 1, 1), 1: (1,) + shp + (1,), 2: shp + (1,)}}[n][len(shp)]
    return _reshape(x, new)


@export
def atleast_1d(*tensors):
    return _atleast(1, tensors)


@export
def atleast_2d(*tensors):
    return _atleast(2, tensors)


@export
def atleast_3d(*tensors):
    return _atleast(3, tensors)


@export
def hstack(tensors):
    ts = atleast_1d(list(_seq(tensors, "hstack")))
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


@export
def vstack(tensors):
    return cat(atleast_2d(list(_seq(tensors, "vstack"))), 0)


@export
def dstack(tensors):
    return cat(atleast_3d(list(_seq(tensors, "dstack"))), 2)


@export
def column_stack(tensors):
    ts = [_reshape(x, (x._data.size, 1)) if x._data.ndim <= 1 else x for x in _seq(tensors, "column_stack")]
    return cat(ts, 1)


row_stack = export(vstack, name="row_stack")


@export
def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids (expanded views) of 0-d/1-d tensors; 'xy' swaps the first two dims."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"ember.meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for x in tensors:
        if x._data.ndim > 1:
            raise RuntimeError(f"ember.meshgrid: expects 0-d or 1-d tensors, got shape "
                               f"{tuple(x._data.shape)}")
    sizes = [x._data.size for x in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    out = []
    for i, x in enumerate(tensors):
        pos = order.index(i)
        out.append(expand(_reshape(x, tuple(sizes[i] if j == pos else 1 for j in range(len(shape)))),
                          shape))
    return tuple(out)


# --- repeats -------------------------------------------------------------------------------
def _repeat_backward(ctx, g):
    shp, reps = ctx.shapes[0], ctx.repeats
    full = (1,) * (len(reps) - len(shp)) + tuple(shp)
    inter = tuple(v for r, s in zip(reps, full) for v in (r, s))
    keep = tuple(v for s in full for v in (1, s))
    return _reshape(_reshape(g, inter).sum_to_size(keep), shp)


REPEAT = register("repeat", _repeat_backward, save="", fusion="movement")


@export(function=False, method=True)
def repeat(input, *sizes):
    """Tile ``input`` ``sizes`` times along each dim (torch's repeat, not np.repeat)."""
    sizes = _sizes(sizes, "repeat")
    if len(sizes) < input._data.ndim:
        raise RuntimeError(f"ember.repeat: number of repeat dims ({len(sizes)}) can not be smaller than "
                           f"number of dims of the tensor ({input._data.ndim})")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"ember.repeat: repeats must be non-negative, got {sizes}")
    return R.apply(REPEAT, input, repeats=sizes)


@export(method=True)
def tile(input, dims):
    dims = _sizes((dims,), "tile")
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


def _repeat_interleave_backward(ctx, g):
    d, r, shp = ctx.dim, ctx.repeats, ctx.shapes[0]
    if isinstance(r, int):
        g = _reshape(g, shp[:d] + (shp[d], r) + shp[d + 1:])
        return _reshape(g.sum_to_size(shp[:d] + (shp[d], 1) + shp[d + 1:]), shp)
    return R.apply(RI_BACKWARD, g, repeats=r, dim=d)


REPEAT_INTERLEAVE = register("repeat_interleave", _repeat_interleave_backward, save="", fusion="movement")
RI_BACKWARD = register("repeat_interleave_backward", lambda ctx, g: R.apply(
    REPEAT_INTERLEAVE, g, repeats=ctx.repeats, dim=ctx.dim), save="", fusion="movement")


@export(method=True)
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int or a per-element int tensor) along ``dim``
    (flattened when None). ``repeat_interleave(counts)`` gives the indices ``repeat(arange)``."""
    if repeats is None:  # torch.repeat_interleave(repeats): indices
        counts = input._data
        return type(input)._from_array(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if dim is None:
        input, dim = _reshape(input, (input._data.size,)), 0
    shp = input._data.shape
    d = _dim(dim, len(shp), "repeat_interleave")
    n = shp[d] if shp else 1
    if not shp:
        input = _reshape(input, (1,))
    if hasattr(repeats, "_data"):
        r = repeats._data
        if r.dtype.kind not in "iu" or r.ndim > 1:
            raise RuntimeError(f"ember.repeat_interleave: repeats must be an int tensor of 0 or 1 dims, "
                               f"got {repeats.dtype} of shape {tuple(r.shape)}")
        if r.size == 1:
            repeats = int(r.reshape(()))
        elif r.size != n:
            raise RuntimeError(f"ember.repeat_interleave: repeats must have the same size ({r.size}) as "
                               f"input along dim ({n})")
        else:
            repeats = tuple(int(v) for v in r)
    reps = (repeats,) if isinstance(repeats, int) else repeats
    if any(v < 0 for v in reps):
        raise RuntimeError("ember.repeat_interleave: repeats can not be negative")
    out = R.apply(REPEAT_INTERLEAVE, input, repeats=repeats, dim=d)
    if output_size is not None and out._data.shape[d] != output_size:
        raise RuntimeError(f"ember.repeat_interleave: output_size {output_size} does not match the "
                           f"repeated size {out._data.shape[d]}")
    return out


# --- reorderings -----------------------------------------------------------------------------
FLIP = register("flip", lambda ctx, g: R.apply(FLIP, g, dims=ctx.dims), save="", fusion="movement")
ROLL = register("roll", lambda ctx, g: R.apply(ROLL, g, shifts=tuple(-s for s in ctx.shifts),
                                               dims=ctx.dims), save="", fusion="movement")


@export(method=True)
def flip(input, *args, dims=None):
    """A copy with the order of entries along ``dims`` (an int, ints or a tuple) reversed."""
    dims = _sizes(args if dims is None else (dims,), "flip")
    return R.apply(FLIP, input, dims=_dims(dims, input._data.ndim, "flip"))


@export(method=True)
def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError(f"ember.fliplr: input must be >= 2-d, got {input._data.ndim}-d")
    return R.apply(FLIP, input, dims=(1,))


@export(method=True)
def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("ember.flipud: input must be >= 1-d")
    return R.apply(FLIP, input, dims=(0,))


@export(method=True)
def roll(input, shifts, dims=None):
    """Rotate entries by ``shifts`` along ``dims`` (the flattened tensor when None)."""
    shifts = tuple(int(s) for s in (shifts if isinstance(shifts, (tuple, list)) else (shifts,)))
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"ember.roll: with dims=None, shifts must be one int, got {shifts}")
        return R.apply(ROLL, input, shifts=shifts, dims=())
    dims = tuple(_dim(d, input._data.ndim, "roll")
                 for d in (dims if isinstance(dims, (tuple, list)) else (dims,)))
    if len(shifts) != len(dims):
        raise RuntimeError(f"ember.roll: shifts and dimensions must align, got shifts {shifts} "
                           f"and dims {dims}")
    return R.apply(ROLL, input, shifts=shifts, dims=dims)


TRIL = register("tril", lambda ctx, g: R.apply(TRIL, g, diagonal=ctx.diagonal), save="", fusion="movement")
TRIU = register("triu", lambda ctx, g: R.apply(TRIU, g, diagonal=ctx.diagonal), save="", fusion="movement")


def _tri(op, name):
    def fn(input, diagonal=0):
        if input._data.ndim < 2:
            raise RuntimeError(f"ember.{name}: input tensor must have at least 2 dimensions, "
                               f"got shape {tuple(input._data.shape)}")
        return R.apply(op, input, diagonal=int(diagonal))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The {'lower' if name == 'tril' else 'upper'} triangle of the last two dims; rest zero."
    FUNCTIONS[name] = METHODS[name] = fn
    METHODS[name + "_"] = inplace(fn, name + "_")
    return fn


tril, triu = _tri(TRIL, "tril"), _tri(TRIU, "triu")


# --- padding --------------------------------------------------------------------------------
def _pad_backward(ctx, g):
    if ctx.mode == "constant":
        return R.apply(PAD, g, pad=tuple(-p for p in ctx.pad), mode="constant", value=0)
    return R.apply(PAD_BACKWARD, g, pad=ctx.pad, mode=ctx.mode)


PAD = register("pad", _pad_backward, save="", fusion="movement")
PAD_BACKWARD = register("pad_backward", lambda ctx, g: R.apply(PAD, g, pad=ctx.pad, mode=ctx.mode, value=0),
                        save="", fusion="movement")


@export
def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: ``pad`` = (last dim before, after, next-to-last ...); modes
    constant (``value``; negative widths crop), reflect, replicate, circular."""
    pad = tuple(int(p) for p in pad)
    shp = input._data.shape
    if len(pad) % 2 or len(pad) > 2 * len(shp):
        raise RuntimeError(f"ember.pad: padding length must be even and at most twice the number of "
                           f"dims of the input ({len(shp)}), got {len(pad)}")
    if mode == "constant":
        for i in range(len(pad) // 2):
            n = shp[-1 - i]
            if n + pad[2 * i] + pad[2 * i + 1] < 0:
                raise RuntimeError(f"ember.pad: the input size {n} plus negative padding {pad[2 * i]} and "
                                   f"{pad[2 * i + 1]} resulted in a negative output size")
        return R.apply(PAD, input, pad=pad, mode="constant", value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"ember.pad: unsupported padding mode {mode!r}")
    if value not in (None, 0):
        raise RuntimeError(f"ember.pad: padding mode {mode!r} doesn't take a value argument")
    k = len(pad) // 2
    if not 1 <= k <= 3 or len(shp) not in (k + 1, k + 2):
        raise NotImplementedError(f"ember.pad: {mode} padding of {k} dims expects a {k + 1}D or {k + 2}D "
                                  f"input, got shape {tuple(shp)}")
    if any(p < 0 for p in pad):  # negative widths crop first (as torch), then pad the rest
        for i in range(k):
            d = len(shp) - 1 - i
            a, b = min(pad[2 * i], 0), min(pad[2 * i + 1], 0)
            if a or b:
                input = _narrow(input, d, -a, input._data.shape[d] + a + b)
        pad = tuple(max(p, 0) for p in pad)
    shp = input._data.shape
    for i in range(k):
        n, a, b = shp[-1 - i], pad[2 * i], pad[2 * i + 1]
        limit = n - 1 if mode == "reflect" else n
        if mode == "replicate" and n == 0 or mode != "replicate" and (a > limit or b > limit):
            raise RuntimeError(f"ember.pad: {mode} padding ({a}, {b}) is too large for dim "
                               f"{len(shp) - 1 - i} of size {n} in input shape {tuple(shp)}")
    return R.apply(PAD, input, pad=pad, mode=mode, value=0)
