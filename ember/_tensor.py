"""Tensor: a NumPy array (``_data``) with PyTorch's attributes, conversions and autograd
state. Everything it computes comes from the op registry through ``_dispatch.apply``;
its methods are bound from ``registry.METHODS`` at import time, and in-place updates
live in ``_inplace``.

Named ``_tensor`` (as in PyTorch) so that ``ember.tensor`` stays the function.
"""
from __future__ import annotations

import numpy as np

from . import dtypes as _dt
from .device import CPU
from .ops import registry as _registry

_FLOAT_KINDS = {d.np for d in _dt.FLOATS}
_new = object.__new__
_ndarray = np.ndarray


class Tensor:
    __slots__ = ("_data", "_rg", "grad", "_node", "_idx", "_base", "_vc", "_view_ops",
                 "_hooks", "_retains", "_vv", "__weakref__")

    # A Tensor is built by ember.tensor(...) and friends; the constructor accepts
    # data like ember.tensor for PyTorch habits (torch.Tensor([1, 2])).
    def __init__(self, data=None, *, dtype=None, requires_grad=False):
        arr = _as_array(data if data is not None else [], dtype, "Tensor")
        if dtype is None and arr.dtype.kind in "iu" and data is not None and not isinstance(data, np.ndarray):
            arr = arr.astype(_dt.get_default_dtype().np)  # torch.Tensor(list) is float
        _init(self, arr)
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _from_array(arr):
        return _wrap(arr)

    # --- attributes -------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_norm_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return _dt._BY_NP[self._data.dtype]

    @property
    def device(self):
        return CPU

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_norm_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def is_floating_point(self):
        return self._data.dtype in _FLOAT_KINDS

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    @property
    def is_cuda(self):
        return False

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        if self._base is not None:
            _refresh_view(self)
        return self._node

    @property
    def requires_grad(self):
        if self._base is not None:
            _refresh_view(self)
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self._node is not None and not requires_grad:
            raise RuntimeError("ember: you can only change requires_grad flags of leaf tensors; "
                               "use .detach() to get a tensor that does not require grad")
        if requires_grad and self._data.dtype not in _FLOAT_KINDS:
            raise RuntimeError(f"ember: only tensors of floating point dtype can require gradients, "
                               f"got {self.dtype}")
        self._rg = bool(requires_grad)
        return self

    @property
    def data(self):
        return _wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def T(self):
        if self._data.ndim > 2:
            raise RuntimeError(f"ember: Tensor.T expects a tensor with <= 2 dims, got {self._data.ndim}; "
                               f"use .mT or .permute")
        return self.permute(*range(self._data.ndim)[::-1])

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise RuntimeError(f"ember: Tensor.mT expects a tensor with >= 2 dims, got {self._data.ndim}")
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T

    @property
    def mH(self):
        return self.mT

    # --- conversion -------------------------------------------------------
    def numpy(self, *, force=False):
        if self._rg and not force:
            raise RuntimeError("ember: can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"ember: a tensor with {self._data.size} elements cannot be "
                               f"converted to a Python scalar")
        return self._data.reshape(()).item() if self._data.dtype.kind != "V" else float(self._data.reshape(()))

    def tolist(self):
        if self._data.dtype.kind == "V":  # bfloat16
            return self._data.astype(np.float32).tolist()
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"ember: the truth value of a tensor with {self._data.size} elements "
                               f"is ambiguous; use .any() or .all()")
        return bool(self._data.reshape(())[()])

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("ember: only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("ember: len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("ember: iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        from .printing import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    def __deepcopy__(self, memo):
        t = _wrap(self._data.copy())
        t._rg = self._rg
        if self.grad is not None:
            t.grad = _wrap(self.grad._data.copy())
        memo[id(self)] = t
        return t

    def __reduce_ex__(self, proto):
        raise TypeError("ember: tensors are not picklable; save them with ember.save (safetensors)")

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps") or a.__class__.__name__ == "device":
                device = a
            else:
                dtype = a
        if device is not None:
            from .device import device as _device
            _device(device).check_available()
        if dtype is None or _dt.to_dtype(dtype).np == self._data.dtype:
            return self.clone() if copy else self
        return _registry.FUNCTIONS["cast"](self, _dt.to_dtype(dtype))

    def type_as(self, other):
        return self.to(other.dtype)

    def type(self, dtype=None):
        if dtype is None:
            return f"ember.{_TYPE_NAMES[self.dtype.name]}Tensor"
        return self.to(dtype)

    def cpu(self):
        return self

    def cuda(self, device=None):
        from .device import device as _device
        _device("cuda").check_available()

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    def bfloat16(self):
        return self.to(_dt.bfloat16)

    def long(self):
        return self.to(_dt.int64)

    def int(self):
        return self.to(_dt.int32)

    def short(self):
        return self.to(_dt.int16)

    def char(self):
        return self.to(_dt.int8)

    def byte(self):
        return self.to(_dt.uint8)

    def bool(self):
        return self.to(_dt.bool_)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        from .creation import tensor
        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return _full_like_new(self, size, 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return _full_like_new(self, size, 1, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        return _full_like_new(self, size, 0, dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        return _full_like_new(self, (size,), fill_value, dtype, requires_grad)

    # --- autograd ---------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self):
        t = _wrap(self._data)
        t._vc = _counter(self)  # shares storage and version counter, but is no view in the graph
        return t

    def detach_(self):
        if self._base is not None and getattr(self, "_view_ops", ()):
            raise RuntimeError("ember: can't detach_ a view in place; use detach()")
        self._node = None
        self._rg = False
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None
        return value replaces the gradient. Returns a handle with ``remove()``."""
        if not self._rg:
            raise RuntimeError("ember: cannot register a hook on a tensor that doesn't require gradient")
        if self._node is None:
            hooks = getattr(self, "_hooks", None)
            if hooks is None:
                hooks = self._hooks = []
        else:
            node = self._node
            node.hooks = node.hooks or {}
            hooks = node.hooks.setdefault(self._idx, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        if self._node is None or getattr(self, "_retains", False):
            return
        self._retains = True
        import weakref
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                t.grad = g if t.grad is None else t.grad + g
        self.register_hook(keep)

    @property
    def retains_grad(self):
        return getattr(self, "_retains", False)

    @property
    def _version(self):
        c = self._vc
        return c[0] if c is not None else 0


# PyTorch's legacy type names (tensor.type() -> "torch.FloatTensor")
_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool"}


class Size(tuple):
    """``Tensor.shape``: a tuple, as torch.Size."""
    __slots__ = ()

    def __repr__(self):
        return f"ember.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _init(t, arr):
    t._data = arr
    t._rg = False
    t.grad = None
    t._node = None
    t._base = None
    t._vc = None


def _wrap(arr):
    # _init inlined: this runs once per op output (the dispatch hot path)
    t = _new(Tensor)
    t._data = arr
    t._rg = False
    t.grad = None
    t._node = None
    t._base = None
    t._vc = None
    return t


def _counter(t):
    """The version counter shared by a tensor and its views (created on demand)."""
    c = t._vc
    if c is None:
        c = t._vc = _counter(t._base) if t._base is not None else [0]
    return c


def _norm_dim(dim, ndim, opname):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"ember.{opname}: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n


def _as_array(data, dtype, opname):
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
            data = _nested_to_arrays(data)
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"ember.{opname}: cannot build a tensor from {type(data).__name__}: {e}") from None
        if dtype is not None:
            pass  # cast once, below, from the exact values
        elif arr.dtype.kind == "f" and arr.dtype != np.float16:
            arr = arr.astype(_dt.get_default_dtype().np)
        elif arr.dtype.kind == "i" and arr.dtype != np.int64 and not isinstance(data, np.generic):
            arr = arr.astype(np.int64)
        elif arr.dtype.kind in "USO":
            raise TypeError(f"ember.{opname}: cannot build a tensor from elements of type "
                            f"{type(_first(data)).__name__}")
    if dtype is not None:
        npd = _dt.to_dtype(dtype).np
        if arr.dtype != npd:
            arr = arr.astype(npd)
    elif arr.dtype not in _dt._BY_NP:
        if arr.dtype.kind == "u":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "c":
            raise TypeError(f"ember.{opname}: complex dtypes are not supported, got {arr.dtype}")
        else:
            arr = arr.astype(_dt.from_numpy_dtype(arr.dtype).np)
    return arr


def _flat(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flat(y)
    else:
        yield x


def _first(x):
    while isinstance(x, (list, tuple)) and x:
        x = x[0]
    return x


def _nested_to_arrays(x):
    if isinstance(x, (list, tuple)):
        return [_nested_to_arrays(y) for y in x]
    return x._data if isinstance(x, Tensor) else x


def _full_like_new(t, size, value, dtype, requires_grad):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    arr = np.full(size, value, dtype=_dt.to_dtype(dtype).np if dtype is not None else t._data.dtype)
    out = _wrap(arr)
    if requires_grad:
        out.requires_grad_()
    return out




def bind_methods():
    """Attach every registered Tensor method (called once all op families are imported)."""
    for name, fn in _registry.METHODS.items():
        setattr(Tensor, name, fn)


# dispatch (apply) and in-place updates build on the class above
from ._dispatch import apply, _refresh_view, _edge, _history_only  # noqa: E402,F401
from .autograd import engine as _engine  # noqa: E402
from . import _inplace  # noqa: E402,F401  (commit_inplace, fill_, copy_, zero_)
