"""Indexing ops: ``Tensor.__getitem__`` / ``__setitem__``, index_put, index_* ops along a
dim, masks, take, one_hot, nonzero (gather/scatter live in ops/scatter.py).

A key splits in two, as in PyTorch: ints, slices, None and Ellipsis make a *view*
("getitem", replayable by name for in-place ops on views); index tensors, lists,
arrays and masks then index that view ("index", a copy; NumPy's rule places the
indexed dims). Gradients of copies scatter-add back ("index_backward").
"""
import operator

import numpy as np

from . import registry as R
from .define import inplace
from .registry import register, export, METHODS, FUNCTIONS
from ..autograd.grad_mode import STATE as _GRAD
from ..kernels.cpu import indexing as _K  # the no-autograd setitem writes NumPy buffers directly

_FULL = ("s", None, None, 1)


# --- ops ---------------------------------------------------------------------------------
def _index_put_backward(ctx, g):
    idx, pos = ctx.inputs[2:], ctx.pos
    gx = gv = None
    if ctx.needs(0):
        gx = g if ctx.accumulate else R.apply(INDEX_PUT, g, 0, *idx, pos=pos, accumulate=False)
    if ctx.needs(1):
        gv = R.apply(INDEX, g, *idx, pos=pos)
    return (gx, gv) + (None,) * len(idx)


GETITEM = register("getitem", lambda ctx, g: R.apply(GETITEM_BACKWARD, g, shape=ctx.shapes[0], key=ctx.key),
                   save="", view=True, fusion="movement")
GETITEM_BACKWARD = register("getitem_backward", lambda ctx, g: R.apply(GETITEM, g, key=ctx.key), save="")
INDEX = register("index", lambda ctx, g: (R.apply(INDEX_BACKWARD, g, *ctx.inputs[1:], shape=ctx.shapes[0],
                                                  pos=ctx.pos),) + (None,) * (len(ctx.inputs) - 1), skip=(0,))
INDEX_BACKWARD = register("index_backward", lambda ctx, g: (R.apply(INDEX, g, *ctx.inputs[1:], pos=ctx.pos),)
                          + (None,) * (len(ctx.inputs) - 1), skip=(0,))
INDEX_PUT = register("index_put", _index_put_backward, skip=(0, 1))

TAKE = register("take", lambda ctx, g: (R.apply(TAKE_BACKWARD, g, ctx.inputs[1], shape=ctx.shapes[0]), None), skip=(0,))
TAKE_BACKWARD = register("take_backward", lambda ctx, g: (R.apply(TAKE, g, ctx.inputs[1]), None), skip=(0,))


def _masked_fill_backward(ctx, g):
    gx = R.apply(MASKED_FILL, g, ctx.inputs[1], 0)
    return gx, None, (g - gx if ctx.needs(2) else None)


MASKED_FILL = register("masked_fill", _masked_fill_backward, fusion="elementwise", skip=(0, 2))
MASKED_SCATTER = register("masked_scatter", lambda ctx, g: (
    R.apply(MASKED_FILL, g, ctx.inputs[1], 0) if ctx.needs(0) else None, None,
    R.apply(MASKED_SCATTER_BACKWARD, g, ctx.inputs[1], shape=ctx.shapes[2]) if ctx.needs(2) else None), skip=(0, 2))
MASKED_SCATTER_BACKWARD = register("masked_scatter_backward", lambda ctx, g: (
    R.apply(MASKED_SCATTER, FUNCTIONS["zeros"](ctx.shapes[0], dtype=g.dtype), ctx.inputs[1], g), None), skip=(0,))
ONE_HOT = register("one_hot")
NONZERO = register("nonzero")


# --- key parsing -----------------------------------------------------------------------------
def _err(cls, op, msg):
    return cls(f"ember.{op}: {msg}")


def _as_int(k):
    """``k`` as an int index, or None if it is not one (0-d integer tensors count)."""
    if isinstance(k, (bool, np.bool_)):
        return None
    if isinstance(k, (int, np.integer)):
        return int(k)
    d = getattr(k, "_data", k)
    if isinstance(d, np.ndarray):
        return int(d) if d.ndim == 0 and d.dtype.kind in "iu" else None
    if isinstance(k, (list, tuple, slice)) or k is None or k is Ellipsis:
        return None
    try:
        return operator.index(k)
    except TypeError:
        return None


def _seq_as_tuple(seq):
    # PyTorch (like old NumPy) reads a short list holding sequences, slices, None or
    # Ellipsis as a tuple of indices: x[[[0, 1], [1, 2]]] == x[[0, 1], [1, 2]]
    return len(seq) < 32 and any(isinstance(s, (list, tuple, slice)) or s is None or s is Ellipsis
                                 or hasattr(s, "_data") or isinstance(s, np.ndarray) for s in seq)


def _index_tensor(k, op):
    """An index tensor (integer or bool) from a tensor, array, list or bool."""
    if not hasattr(k, "_data"):
        arr = np.asarray(k)
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        k = FUNCTIONS["tensor"](arr)
    kind = k._data.dtype.kind
    if kind == "u" and k._data.dtype == np.uint8:  # byte masks, as PyTorch still accepts
        return k != 0
    if kind not in "iub":
        raise _err(IndexError, op, f"tensors used as indices must be long, int, byte or bool tensors, "
                                   f"got {k.dtype}")
    return k


def _check_bounds(arr, size, dim, op, cls=IndexError, negative=True):
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        bad = hi if hi >= size else lo if lo < (-size if negative else 0) else None
        if bad is not None:
            raise _err(cls, op, f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _parse(x, key, op, tensors_advanced=False):
    """Split ``key`` into (basic view key, index tensors, their slots in the advanced key).

    The basic key is None when it would select everything; ints are applied by the view
    (as PyTorch does), so index tensors only meet slices, whose dims NumPy's rule places.
    """
    if not isinstance(key, tuple):
        key = tuple(key) if isinstance(key, list) and _seq_as_tuple(key) else (key,)
    shape = x._data.shape
    items, used, n_ell = [], 0, 0
    for k in key:
        if k is None:
            items.append(("n",))
        elif k is Ellipsis:
            n_ell += 1
            if n_ell > 1:
                raise _err(IndexError, op, "an index can only have a single ellipsis ('...')")
            items.append(("e",))
        elif isinstance(k, slice):
            step = 1 if k.step is None else operator.index(k.step)
            if step <= 0:
                raise _err(ValueError, op, "step must be greater than zero")
            items.append(("s", None if k.start is None else operator.index(k.start),
                          None if k.stop is None else operator.index(k.stop), step))
            used += 1
        elif not (tensors_advanced and hasattr(k, "_data")) and (i := _as_int(k)) is not None:
            items.append(("i", i))
            used += 1
        elif isinstance(k, (bool, np.bool_)) or hasattr(k, "_data") or isinstance(k, (list, tuple, np.ndarray)):
            t = _index_tensor(k, op)
            items.append(("a", t))
            used += t._data.ndim if t._data.dtype == np.bool_ else 1
        else:
            raise _err(TypeError, op, f"invalid index of type {type(k).__name__}; only integers, slices, "
                                      f"None, Ellipsis, and integer or bool tensors are valid indices")
    if used > len(shape):
        raise _err(IndexError, op, f"too many indices for tensor of dimension {len(shape)}")
    basic, arrays, pos = [], [], []
    dim = slot = 0
    for it in items:
        kind = it[0]
        if kind == "n":
            basic.append(it)
            slot += 1
        elif kind == "e":
            n = len(shape) - used
            basic.append(it)
            dim, slot = dim + n, slot + n
        elif kind == "i":
            size = shape[dim]
            if not -size <= it[1] < size:
                raise _err(IndexError, op, f"index {it[1]} is out of bounds for dimension {dim} with size {size}")
            basic.append(it)
            dim += 1
        elif kind == "s":
            basic.append(it)
            dim, slot = dim + 1, slot + 1
        else:
            t = it[1]
            arr = t._data
            if arr.dtype == np.bool_:
                for j, n in enumerate(arr.shape):
                    if n != shape[dim + j]:
                        raise _err(IndexError, op, f"the shape of the mask {tuple(arr.shape)} at index {j} does "
                                                   f"not match the shape of the indexed tensor {tuple(shape)} "
                                                   f"at index {dim + j}")
                basic += [_FULL] * arr.ndim
                dim += arr.ndim
            else:
                _check_bounds(arr, shape[dim], dim, op)
                basic.append(_FULL)
                dim += 1
            arrays.append(t)
            pos.append(slot)
            slot += 1
    if arrays and all(b == _FULL or b[0] == "e" for b in basic):
        basic = None
    return (tuple(basic) if basic is not None else None), arrays, tuple(pos)


# --- getitem / setitem ----------------------------------------------------------------------
def _getitem(self, key):
    """``self[key]`` with PyTorch's semantics (a view for basic keys, a copy otherwise)."""
    if key.__class__ is int and self._data.ndim:  # hot path: x[i]
        size = self._data.shape[0]
        if not -size <= key < size:
            raise IndexError(f"ember.getitem: index {key} is out of bounds for dimension 0 with size {size}")
        return R.apply(GETITEM, self, key=(("i", key),))
    basic, arrays, pos = _parse(self, key, "getitem")
    out = self if basic is None else R.apply(GETITEM, self, key=basic)
    return R.apply(INDEX, out, *arrays, pos=pos) if arrays else out


def _strip_leading_ones(value, ndim):
    """``value`` without leading size-1 dims beyond ``ndim`` (PyTorch drops them; they
    never change how a value broadcasts)."""
    shape, k = value._data.shape, 0
    while k < len(shape) - ndim and shape[k] == 1:
        k += 1
    return R.apply(GETITEM, value, key=(("i", 0),) * k) if k else value


def _setitem(self, key, value):
    """``self[key] = value``: value (tensor or number) broadcast and cast to ``self.dtype``."""
    basic, arrays, pos = _parse(self, key, "setitem")
    is_t = hasattr(value, "_data")
    base = self._base if getattr(self, "_view_ops", ()) else None  # a detached alias is no view
    if not (_GRAD.enabled and (self._rg or (is_t and value._rg) or (base is not None and base._rg))):
        # no autograd involved: write into the buffer, bump the version
        view = self._data if basic is None else _K.getitem(self._data, basic)
        try:
            view[_K._adv_key([a._data for a in arrays], pos) if arrays else ...] = \
                value._data if is_t else value
        except ValueError as e:
            raise _setitem_error(e, value) from None
        from .._tensor import _counter
        _counter(self)[0] += 1
        return
    if not is_t:
        value = FUNCTIONS["tensor"](value, dtype=self.dtype)
    elif value.dtype != self.dtype:
        value = value.to(self.dtype)
    view = self if basic is None else R.apply(GETITEM, self, key=basic)
    if arrays:
        value = _strip_leading_ones(value, 0)
        try:
            result = R.apply(INDEX_PUT, view, value, *arrays, pos=pos, accumulate=False)
        except ValueError as e:
            raise _setitem_error(e, value) from None
        R.commit_inplace(view, result, "setitem")
    else:
        value = _strip_leading_ones(value, view._data.ndim)
        vs, ts = value._data.shape, view._data.shape
        try:
            ok = np.broadcast_shapes(vs, ts) == ts
        except ValueError:
            ok = False
        if not ok:
            raise _setitem_error(f"target shape {ts}", value)
        view.copy_(value)
    if view is not self and base is not None:
        # self is a view whose base was just rebased: re-derive self's history from it
        v = base
        for op, attrs in self._view_ops:
            v = R.apply(op, v, **attrs)
        self._node, self._idx, self._rg = v._node, getattr(v, "_idx", 0), v._rg


def _setitem_error(e, value):
    if "read-only" in str(e):
        return RuntimeError("ember.setitem: the tensor is a read-only (expanded) view whose elements "
                            "share memory; clone it before writing")
    vshape = tuple(np.shape(value._data if hasattr(value, "_data") else value))
    return RuntimeError(f"ember.setitem: shape mismatch: value of shape {vshape} cannot be broadcast "
                        f"to the indexing result ({e})")


METHODS["__getitem__"] = _getitem
METHODS["__setitem__"] = _setitem


@export(method=True)
def index_put(input, indices, values, accumulate=False):
    """``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``)."""
    key = tuple(slice(None) if i is None else i for i in indices)  # None: a whole dim
    basic, arrays, pos = _parse(input, key, "index_put", tensors_advanced=True)
    if not arrays or basic is not None:
        raise _err(IndexError, "index_put", "indices must be a tuple of index tensors (or None), with "
                                            "at least one tensor")
    if not hasattr(values, "_data"):
        values = FUNCTIONS["tensor"](values, dtype=input.dtype)
    elif values.dtype != input.dtype:
        raise _err(RuntimeError, "index_put", f"values ({values.dtype}) and input ({input.dtype}) must "
                                              f"have the same dtype")
    return R.apply(INDEX_PUT, input, values, *arrays, pos=pos, accumulate=bool(accumulate))


# --- along-a-dim ops -------------------------------------------------------------------------
def _dim(dim, ndim, op):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise _err(IndexError, op, f"dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                                   f"but got {dim})")
    return dim % n


def _int_index(index, op, max_ndim=None):
    if not hasattr(index, "_data"):
        raise _err(TypeError, op, f"index must be a tensor, got {type(index).__name__}")
    if index._data.dtype.kind not in "iu":
        raise _err(RuntimeError, op, f"expected an integer index tensor, got {index.dtype}")
    if max_ndim is not None and index._data.ndim > max_ndim:
        raise _err(IndexError, op, f"index must be 0-d or 1-d, got shape {tuple(index.shape)}")
    return index


def _dim_index(op, input, dim, index):
    _int_index(index, op, max_ndim=1)
    dim = _dim(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        raise _err(IndexError, op, "expected a tensor with at least one dimension")
    _check_bounds(index._data, input._data.shape[dim], dim, op, negative=False)
    return dim, (index if index._data.ndim else R.apply(GETITEM, index, key=(("n",),)))


@export(method=True)
def index_select(input, dim, index):
    """The entries of ``input`` at positions ``index`` (0-d or 1-d) along ``dim``."""
    dim, index = _dim_index("index_select", input, dim, index)
    return R.apply(INDEX, input, index, pos=(dim,))


def _check_source(op, input, dim, index, source):
    expect = list(input._data.shape)
    expect[dim] = index._data.size
    if not hasattr(source, "_data"):
        raise _err(TypeError, op, f"source must be a tensor, got {type(source).__name__}")
    if list(source._data.shape) != expect and not (source._data.ndim == 0 and expect == [1]):
        raise _err(RuntimeError, op, f"source of shape {tuple(source.shape)} does not match input "
                                     f"{tuple(input.shape)} with {index._data.size} indices along dim {dim} "
                                     f"(expected {tuple(expect)})")
    if source.dtype != input.dtype:
        raise _err(RuntimeError, op, f"input ({input.dtype}) and source ({source.dtype}) must have the "
                                     f"same dtype")


@export(method=True)
def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim``."""
    dim, index = _dim_index("index_add", input, dim, index)
    _check_source("index_add", input, dim, index, source)
    if alpha != 1:
        source = source * alpha
    return R.apply(INDEX_PUT, input, source, index, pos=(dim,), accumulate=True)


@export(method=True)
def index_copy(input, dim, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``."""
    dim, index = _dim_index("index_copy", input, dim, index)
    _check_source("index_copy", input, dim, index, source)
    return R.apply(INDEX_PUT, input, source, index, pos=(dim,), accumulate=False)


@export(method=True)
def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (number or 0-d tensor)."""
    dim, index = _dim_index("index_fill", input, dim, index)
    if hasattr(value, "_data"):
        if value._data.ndim:
            raise _err(RuntimeError, "index_fill", f"only supports a 0-dimensional value tensor, got "
                                                   f"shape {tuple(value.shape)}")
        if value._rg:  # a repeated index must not count twice in the value's gradient
            index = FUNCTIONS["tensor"](np.unique(index._data))
    return R.apply(INDEX_PUT, input, value, index, pos=(dim,), accumulate=False)


# --- masks -------------------------------------------------------------------------------------
def _check_mask(op, input, mask):
    if not hasattr(mask, "_data") or mask._data.dtype != np.bool_:
        raise _err(RuntimeError, op, f"expected a bool mask tensor, got "
                                     f"{getattr(mask, 'dtype', type(mask).__name__)}")
    try:
        return np.broadcast_shapes(input._data.shape, mask._data.shape)
    except ValueError:
        raise _err(RuntimeError, op, f"mask of shape {tuple(mask.shape)} cannot be broadcast with "
                                     f"input of shape {tuple(input.shape)}") from None


@export(method=True)
def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or 0-d tensor) where ``mask`` is True (broadcast)."""
    _check_mask("masked_fill", input, mask)
    if hasattr(value, "_data") and value._data.ndim:
        raise _err(RuntimeError, "masked_fill", f"only supports a 0-dimensional value tensor, but got "
                                                f"tensor with {value._data.ndim} dimension(s)")
    return R.apply(MASKED_FILL, input, mask, value)


@export(method=True)
def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (broadcast) is True, as a 1-d tensor."""
    shape = _check_mask("masked_select", input, mask)
    if input._data.shape != shape:
        input = input.expand(shape)
    if mask._data.shape != shape:
        mask = mask.expand(shape)
    return R.apply(INDEX, input, mask, pos=(0,))


@export(method=True)
def masked_scatter(input, mask, source):
    """``input`` with the elements where ``mask`` is True taken, in order, from ``source``."""
    shape = _check_mask("masked_scatter", input, mask)
    if not hasattr(source, "_data") or source.dtype != input.dtype:
        raise _err(RuntimeError, "masked_scatter", f"expected source to be a tensor of dtype {input.dtype}")
    n = int(np.count_nonzero(np.broadcast_to(mask._data, shape)))
    if source._data.size < n:
        raise _err(RuntimeError, "masked_scatter", f"mask selects {n} elements but source has only "
                                                   f"{source._data.size}")
    return R.apply(MASKED_SCATTER, input, mask, source)


# --- flat indexing ---------------------------------------------------------------------------------
@export(method=True)
def take(input, index):
    """``input`` read as 1-d at ``index`` (any shape; negative indices count from the end)."""
    _int_index(index, "take")
    n, ix = input._data.size, index._data
    if ix.size:
        lo, hi = int(ix.min()), int(ix.max())
        if hi >= n or lo < -n:
            raise _err(IndexError, "take", f"out of range: tried to access index {hi if hi >= n else lo} "
                                           f"on a tensor of {n} elements")
    return R.apply(TAKE, input, index)


# --- integer results ---------------------------------------------------------------------------------
@export(method=False)
def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding of an integer tensor along a new last dim."""
    if tensor._data.dtype.kind not in "iu":
        raise _err(RuntimeError, "one_hot", f"is only applicable to index tensors of integer type, got "
                                            f"{tensor.dtype}")
    d = tensor._data
    if num_classes == -1:
        if d.size == 0:
            raise _err(RuntimeError, "one_hot", "can not infer the number of classes from an empty tensor")
        num_classes = int(d.max()) + 1
    if d.size and int(d.min()) < 0:
        raise _err(RuntimeError, "one_hot", "class values must be non-negative")
    if d.size and int(d.max()) >= num_classes:
        raise _err(RuntimeError, "one_hot", f"class values must be smaller than num_classes ({num_classes})")
    return R.apply(ONE_HOT, tensor, num_classes=int(num_classes))


@export(method=True)
def nonzero(input, *, as_tuple=False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-d tensor per dim."""
    if not as_tuple:
        return R.apply(NONZERO, input)
    nz = R.apply(NONZERO, input if input._data.ndim else R.apply(GETITEM, input, key=(("n",),)))
    return tuple(R.apply(GETITEM, nz, key=(_FULL, ("i", d))) for d in range(nz._data.shape[1]))


@export(method=True)
def argwhere(input):
    return R.apply(NONZERO, input)


for _fn in (index_add, index_copy, index_fill, masked_fill, masked_scatter, index_put):
    METHODS[_fn.__name__ + "_"] = inplace(_fn, _fn.__name__ + "_")

