"""Movement ops that view: reshape, permute, expand, narrow, diagonal, unfold, and the
argument parsing built on them (view, squeeze, flatten, transpose, movedim), and the
multi-output split_with_sizes / unbind (split, chunk, unbind). The outputs alias input 0,
and in-place ops on them are replayed on the base by name through copy_slices, so their
attributes are plain data.
The copying movement ops (cat, stack, repeat, flip, roll, tril, pad ...) are in rearrange.py.
"""
import numpy as np

from . import registry as R
from .. import dtypes as _dt
from .registry import register, export, METHODS, FUNCTIONS, call, OPS  # noqa: F401

EXPAND = register("expand", lambda ctx, g: g.sum_to_size(ctx.shapes[0]), save="", view=True,
                  fusion="movement")


@export(function=False, method=True)
def expand(input, *size):
    """A view of ``input`` broadcast to ``size`` (-1 keeps a dim)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return R.apply(EXPAND, input, shape=tuple(size))


def _copy_slices_backward(ctx, g):
    """The base gets ``g`` outside the view region; the written value gets the region."""
    view_ops = ctx.view_ops
    g_base = None
    if ctx.needs(0):
        zeros = FUNCTIONS["zeros"](ctx.shapes[1], dtype=g.dtype)
        g_base = R.apply(COPY_SLICES, g, zeros, view_ops=view_ops)
    g_value = None
    if ctx.needs(1):
        g_value = g
        for name, attrs in view_ops:
            g_value = R.apply(OPS[name], g_value, **attrs)
    return g_base, g_value


# Written by in-place ops on views of tensors in the graph (PyTorch's CopySlices):
# the base's new value is its old value with the view's region replaced.
COPY_SLICES = register("copy_slices", _copy_slices_backward, save="", fusion=None)


# --- argument helpers ----------------------------------------------------------------
def _dim(d, ndim, op, extra=0):
    """``d`` as a non-negative axis of a tensor with ``ndim`` (+ ``extra``) dims."""
    n = max(ndim + extra, 1)
    try:
        d = d.__index__()
    except AttributeError:
        raise TypeError(f"ember.{op}: dim must be an int, got {type(d).__name__}") from None
    if not -n <= d < n:
        raise IndexError(f"ember.{op}: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {d})")
    return d % n


def _dims(dims, ndim, op):
    out = tuple(_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"ember.{op}: dims {tuple(dims)} repeat a dim")
    return out


def _sizes(size, op):
    """Varargs or one sequence of ints (Python ints or one-element tensors) as a tuple."""
    if len(size) == 1 and not isinstance(size[0], int) and hasattr(size[0], "__len__") \
            and not hasattr(size[0], "_data"):
        size = size[0]
    try:
        return tuple(s.__index__() for s in size)
    except (AttributeError, TypeError):
        raise TypeError(f"ember.{op}: size must be a sequence of ints, got {tuple(size)!r}") from None


def _infer(shape, numel, op):
    """Resolve one -1 in ``shape`` for ``numel`` elements, checking the total."""
    known, neg = 1, [i for i, s in enumerate(shape) if s == -1]
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"ember.{op}: invalid shape dimension {s} in {list(shape)}")
            known *= s
    if len(neg) > 1:
        raise RuntimeError(f"ember.{op}: only one dimension can be inferred, got {list(shape)}")
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"ember.{op}: shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"ember.{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# --- reshape and views -------------------------------------------------------------------
def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


RESHAPE = register("reshape", lambda ctx, g: R.apply(RESHAPE, g, shape=ctx.shapes[0]), save="",
                   view=True, fusion="movement")
PERMUTE = register("permute", lambda ctx, g: R.apply(PERMUTE, g, dims=_inverse(ctx.dims)), save="",
                   view=True, fusion="movement")
VIEW_DTYPE = register("view_dtype", None, save="", view=True)
CLONE = register("clone", lambda ctx, g: g, save="", fusion="elementwise")


def _reshape(x, shape):
    return R.apply(RESHAPE, x, shape=shape)


@export(method=True)
def reshape(input, *shape):
    """``input`` with ``shape`` (one -1 is inferred): a view when the strides allow."""
    return _reshape(input, _infer(_sizes(shape, "reshape"), input._data.size, "reshape"))


@export(function=False, method=True)
def view(input, *shape):
    """A view of ``input`` with ``shape``; raises where the strides make that impossible.
    ``view(dtype)`` reinterprets the bytes as another dtype."""
    if len(shape) == 1 and (isinstance(shape[0], (_dt.dtype, str, type)) or shape[0] is float):
        return _view_dtype(input, _dt.to_dtype(shape[0]))
    shape = _infer(_sizes(shape, "view"), input._data.size, "view")
    try:
        np.reshape(input._data, shape, copy=False)
    except ValueError:
        raise RuntimeError(f"ember.view: view size is not compatible with input tensor's size and stride "
                           f"(at least one dimension spans across two contiguous subspaces); "
                           f"shape {tuple(input._data.shape)}, stride {input.stride()}, requested "
                           f"{shape}. Use .reshape(...) instead.") from None
    return _reshape(input, shape)


def _view_dtype(x, dt):
    a = x._data
    if dt.itemsize != a.itemsize and (a.ndim == 0 or a.strides[-1] != a.itemsize or
                                      a.shape[-1] * a.itemsize % dt.itemsize):
        raise RuntimeError(f"ember.view: cannot view a tensor of shape {tuple(a.shape)} and dtype "
                           f"{x.dtype} as {dt}: the last dim must be contiguous and its size in bytes "
                           f"divisible by {dt.itemsize}")
    return R.apply(VIEW_DTYPE, x, dtype=dt.name)


@export(function=False, method=True)
def view_as(input, other):
    return view(input, other._data.shape)


@export(function=False, method=True)
def reshape_as(input, other):
    return _reshape(input, other._data.shape)


@export(method=True)
def ravel(input):
    return _reshape(input, (input._data.size,))


@export(method=True)
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (0-d becomes 1-d)."""
    shp = input._data.shape
    if not shp:
        _dim(start_dim, 0, "flatten"), _dim(end_dim, 0, "flatten")
        return _reshape(input, (1,))
    s, e = _dim(start_dim, len(shp), "flatten"), _dim(end_dim, len(shp), "flatten")
    if s > e:
        raise RuntimeError(f"ember.flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    if s == e:
        return input
    n = 1
    for k in shp[s:e + 1]:
        n *= k
    return _reshape(input, shp[:s] + (n,) + shp[e + 1:])


@export(method=True)
def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one -1 inferred)."""
    shp = input._data.shape
    d = _dim(dim, len(shp), "unflatten")
    sizes = _sizes((sizes,), "unflatten")
    if not sizes:
        raise RuntimeError("ember.unflatten: sizes must be non-empty")
    try:
        sizes = _infer(sizes, shp[d], "unflatten")
    except RuntimeError:
        raise RuntimeError(f"ember.unflatten: sizes {list(sizes)} don't multiply up to the size of "
                           f"dim {dim} ({shp[d]}) in the input shape {tuple(shp)}") from None
    return _reshape(input, shp[:d] + sizes + shp[d + 1:])


@export(method=True)
def squeeze(input, dim=None):
    """Remove size-1 dims (all, or those of ``dim``: an int or a tuple)."""
    shp = input._data.shape
    if dim is None:
        dims = range(len(shp))
    else:
        dims = _dims(dim if isinstance(dim, (tuple, list)) else (dim,), len(shp), "squeeze")
    drop = {d for d in dims if shp and shp[d] == 1}
    return _reshape(input, tuple(s for i, s in enumerate(shp) if i not in drop))


@export(method=True)
def unsqueeze(input, dim):
    shp = input._data.shape
    d = _dim(dim, len(shp), "unsqueeze", extra=1)
    return _reshape(input, shp[:d] + (1,) + shp[d:])


@export(method=True)
def permute(input, *args, dims=None):
    """A view with the dims reordered: ``permute(2, 0, 1)`` or ``permute((2, 0, 1))``."""
    dims = _sizes(args if dims is None else (dims,), "permute")
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f"ember.permute: number of dims don't match: input has {n} dims, "
                           f"got permutation {dims}")
    return R.apply(PERMUTE, input, dims=_dims(dims, n, "permute"))


@export(method=True)
def transpose(input, dim0, dim1):
    n = input._data.ndim
    a, b = _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
    perm = list(range(n))
    perm[a], perm[b] = perm[b], perm[a]
    return R.apply(PERMUTE, input, dims=tuple(perm))


@export(method=True)
def swapaxes(input, axis0, axis1):
    return transpose(input, axis0, axis1)


@export(method=True)
def swapdims(input, dim0, dim1):
    return transpose(input, dim0, dim1)


@export(method=True)
def t(input):
    """Transpose a tensor of <= 2 dims (0-d and 1-d come back as they are)."""
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f"ember.t: expects a tensor with <= 2 dimensions, but self is {n}D")
    return R.apply(PERMUTE, input, dims=tuple(range(n))[::-1])


@export(method=True)
def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or tuples)."""
    n = input._data.ndim
    src = _dims(source if isinstance(source, (tuple, list)) else (source,), n, "movedim")
    dst = _dims(destination if isinstance(destination, (tuple, list)) else (destination,), n, "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"ember.movedim: invalid source or destination dims: source ({len(src)} dims) "
                           f"should contain the same number of dims as destination ({len(dst)} dims)")
    rest = iter(d for d in range(n) if d not in src)
    where = dict(zip(dst, src))
    return R.apply(PERMUTE, input, dims=tuple(where[i] if i in where else next(rest) for i in range(n)))


moveaxis = export(movedim, name="moveaxis", method=True)


@export(method=True)
def broadcast_to(input, size):
    return expand(input, _sizes((size,), "broadcast_to"))


@export(function=False, method=True)
def expand_as(input, other):
    return expand(input, other._data.shape)


@export(method=True)
def clone(input, *, memory_format=None):
    return R.apply(CLONE, input, order="K")


@export(function=False, method=True)
def contiguous(input, memory_format=None):
    return input if input._data.flags.c_contiguous else R.apply(CLONE, input, order="C")


# --- narrow and the splits built on it ---------------------------------------------------
def _pad_dim(ndim, dim, before, after):
    """A torch-style flat pad tuple that pads only ``dim``."""
    p = [0] * (2 * (ndim - dim))
    p[-2:] = before, after
    return tuple(p)


def _narrow_backward(ctx, g):
    shp, d = ctx.shapes[0], ctx.dim
    widths = _pad_dim(len(shp), d, ctx.start, shp[d] - ctx.start - ctx.length)
    return R.apply(OPS["pad"], g, pad=widths, mode="constant", value=0)


NARROW = register("narrow", _narrow_backward, save="", view=True, fusion="movement")


def _narrow(x, dim, start, length):
    return R.apply(NARROW, x, dim=dim, start=start, length=length)


@export(method=True)
def narrow(input, dim, start, length):
    """A view of ``length`` entries of dim ``dim`` from ``start`` (negative counts from the end)."""
    shp = input._data.shape
    if not shp:
        raise RuntimeError("ember.narrow: cannot be applied to a 0-dim tensor")
    d = _dim(dim, len(shp), "narrow")
    start, length, n = int(start), int(length), shp[d]
    if not -n <= start <= n:
        raise IndexError(f"ember.narrow: start ({start}) out of range for dim {dim} of size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"ember.narrow: start ({start}) + length ({length}) exceeds dimension size ({n})")
    return _narrow(input, d, start, length)


# split / chunk / unbind: one multi-output op each (PyTorch's split_with_sizes / unbind), whose
# backward is one cat / stack of the piece grads, not a padded full-size grad per piece. The
# core marks only a single output as a view, so the pieces are marked here, each as the
# narrow (+ reshape) that selects it: in-place ops on a piece replay that on the base.
SPLIT = register("split_with_sizes", lambda ctx, *gs: R.call("cat", *gs, dim=ctx.dim), save="",
                 fusion="movement")
UNBIND = register("unbind", lambda ctx, *gs: R.call("stack", *gs, dim=ctx.dim), save="",
                  fusion="movement")


def _mark_views(x, pieces, view_ops):
    from .._tensor import _counter
    if x._base is not None:
        base, prefix = x._base, getattr(x, "_view_ops", ())
    else:
        base, prefix = x, ()
    vc = _counter(base)
    for p, ops in zip(pieces, view_ops):
        if p._data.size:  # as core's _mark_view: empty pieces share no memory
            p._base, p._vc, p._view_ops, p._vv = base, vc, prefix + ops, vc[0]
    return pieces


def _pieces(input, dim, sizes):
    sizes = tuple(sizes)
    if len(sizes) == 1 and sizes[0] == input._data.shape[dim]:
        return (_narrow(input, dim, 0, sizes[0]),)
    pieces = R.apply(SPLIT, input, dim=dim, sizes=sizes)
    view_ops, start = [], 0
    for s in sizes:
        view_ops.append(((NARROW, {"dim": dim, "start": start, "length": s}),))
        start += s
    return _mark_views(input, pieces, view_ops)


@export(method=True)
def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    shp = tensor._data.shape
    d = _dim(dim, len(shp), "split")
    n = shp[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"ember.split: split sizes {list(sizes)} don't sum to the size of dim "
                               f"{dim} ({n}) in shape {tuple(shp)}")
        return _pieces(tensor, d, sizes)
    size = int(split_size_or_sections)
    if size < 0 or size == 0 and n:
        raise RuntimeError(f"ember.split: split_size must be positive, got {size}")
    if n == 0:
        return (_narrow(tensor, d, 0, 0),)
    return _pieces(tensor, d, [size] * (n // size) + ([n % size] if n % size else []))


@export(method=True)
def chunk(input, chunks, dim=0):
    """At most ``chunks`` pieces of equal size (the last may be smaller), as torch.chunk."""
    if chunks <= 0:
        raise RuntimeError(f"ember.chunk: chunks must be greater than 0, got {chunks}")
    shp = input._data.shape
    d = _dim(dim, len(shp), "chunk")
    n = shp[d]
    if n == 0:  # torch gives `chunks` empty pieces
        return tuple(_narrow(input, d, 0, 0) for _ in range(chunks))
    return split(input, -(-n // chunks), d)


@export(method=True)
def tensor_split(input, indices_or_sections, dim=0):
    """Split at ``indices`` or into ``sections`` near-equal pieces (never fewer), as torch."""
    shp = input._data.shape
    d = _dim(dim, len(shp), "tensor_split")
    n = shp[d]
    ios = indices_or_sections
    if hasattr(ios, "_data"):
        if ios._data.dtype.kind not in "iu" or ios._data.ndim > 1:
            raise RuntimeError("ember.tensor_split: indices_or_sections must be a 0-d or 1-d int64 tensor")
        ios = ios._data.tolist()
    if isinstance(ios, (list, tuple)):
        bounds = [min(max(int(i) + (n if i < 0 else 0), 0), n) for i in ios]
        edges = [0] + bounds + [n]
        return tuple(_narrow(input, d, a, max(b - a, 0)) if b > a else _narrow(input, d, min(a, n), 0)
                     for a, b in zip(edges[:-1], edges[1:]))
    k = int(ios)
    if k <= 0:
        raise RuntimeError(f"ember.tensor_split: number of sections must be larger than 0, got {k}")
    q, r = divmod(n, k)
    return _pieces(input, d, [q + 1] * r + [q] * (k - r))


@export(method=True)
def unbind(input, dim=0):
    """Views of each index along ``dim`` (with the dim removed)."""
    shp = input._data.shape
    d = _dim(dim, len(shp), "unbind")
    if shp[d] == 0:
        return ()
    rest = {"shape": shp[:d] + shp[d + 1:]}
    pieces = R.apply(UNBIND, input, dim=d)
    return _mark_views(input, pieces, [((NARROW, {"dim": d, "start": i, "length": 1}), (RESHAPE, rest))
                                       for i in range(shp[d])])


# --- diagonals and windows ---------------------------------------------------------------
DIAGONAL = register("diagonal", lambda ctx, g: R.apply(
    DIAGONAL_BACKWARD, g, shape=ctx.shapes[0], offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2),
    save="", view=True, fusion="movement")
DIAGONAL_BACKWARD = register("diagonal_backward", lambda ctx, g: R.apply(
    DIAGONAL, g, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2), save="", fusion="movement")


@export(method=True)
def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of the diagonal over ``dim1``, ``dim2`` (moved last); ``offset`` > 0 is above."""
    n = input._data.ndim
    if n < 2:
        raise RuntimeError(f"ember.diagonal: expects a tensor with >= 2 dims, got {n}")
    a, b = _dim(dim1, n, "diagonal"), _dim(dim2, n, "diagonal")
    if a == b:
        raise RuntimeError(f"ember.diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return R.apply(DIAGONAL, input, offset=int(offset), dim1=a, dim2=b)


@export(method=True)
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices with the last dim of ``input`` on their (offset) diagonal over ``dim1``, ``dim2``."""
    shp = input._data.shape
    n = len(shp) + 1
    a, b = _dim(dim1, n, "diag_embed"), _dim(dim2, n, "diag_embed")
    if a == b:
        raise RuntimeError(f"ember.diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = (shp[-1] if shp else 1) + abs(offset)
    rest = list(shp[:-1])
    for d in sorted((a, b)):
        rest.insert(d, m)
    x = input if shp else _reshape(input, (1,))
    return R.apply(DIAGONAL_BACKWARD, x, shape=tuple(rest), offset=int(offset), dim1=a, dim2=b)


@export(method=True)
def diag(input, diagonal=0):
    """1-d: a matrix with ``input`` on diagonal ``diagonal``; 2-d: that diagonal (a copy)."""
    n = input._data.ndim
    if n == 1:
        m = input._data.shape[0] + abs(diagonal)
        return R.apply(DIAGONAL_BACKWARD, input, shape=(m, m), offset=int(diagonal), dim1=0, dim2=1)
    if n == 2:
        return R.apply(CLONE, R.apply(DIAGONAL, input, offset=int(diagonal), dim1=0, dim2=1), order="C")
    raise RuntimeError(f"ember.diag: expects a 1-d or 2-d tensor, got {n}-d")


UNFOLD = register("unfold", lambda ctx, g: R.apply(
    UNFOLD_BACKWARD, g, shape=ctx.shapes[0], dim=ctx.dim, size=ctx.size, step=ctx.step),
    save="", view=True, fusion="movement")
UNFOLD_BACKWARD = register("unfold_backward", lambda ctx, g: R.apply(
    UNFOLD, g, dim=ctx.dim, size=ctx.size, step=ctx.step), save="", fusion="movement")


def _unfold(input, dimension, size, step):
    """Windows of ``size`` every ``step`` along ``dimension``, as a new last dim (a view)."""
    shp = input._data.shape
    d = _dim(dimension, len(shp), "unfold")
    n = shp[d] if shp else 1
    if size > n:
        raise RuntimeError(f"ember.unfold: maximum size for tensor at dimension {d} is {n} "
                           f"but size is {size}")
    if step <= 0:
        raise RuntimeError(f"ember.unfold: step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"ember.unfold: size is {size} but must be >= 0")
    return R.apply(UNFOLD, input, dim=d, size=int(size), step=int(step))


METHODS["unfold"] = _unfold
