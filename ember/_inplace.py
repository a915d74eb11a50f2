"""In-place updates: ``commit_inplace`` writes an op's result into a tensor -- its buffer
(so views see it), its version counter, and when recording its autograd history -- and the
fills every tensor has (``zero_``, ``fill_``, ``copy_``)."""
import numpy as np

from . import dtypes as _dt
from .autograd.grad_mode import STATE as _GRAD
from .ops import registry as _registry
from ._tensor import Tensor, apply, _wrap, _counter, _history_only


# --- in-place updates ----------------------------------------------------------
def commit_inplace(self, result, opname, check_cast=True):
    """Make ``self`` hold ``result`` in place: its buffer (so views see it), its
    version, and -- when recording -- its autograd history (rebased like
    PyTorch's CopySlices when ``self`` is a view of a tensor in the graph)."""
    if not isinstance(result, Tensor):
        result = _wrap(np.asarray(result))
    rd = _dt._BY_NP[result._data.dtype]
    sd = _dt._BY_NP[self._data.dtype]
    if check_cast and rd.category > sd.category:
        raise RuntimeError(f"ember.{opname}: result type {rd} can't be cast to the desired output "
                           f"type {sd} of an in-place op")
    recording = _GRAD.enabled and (result._rg or self._rg or
                                    (self._base is not None and self._base._rg))
    if recording:
        _check_inplace_allowed(self, opname)
        _snapshot_saved_self(self, result)
    try:
        self._data[...] = result._data
    except ValueError:
        raise RuntimeError(f"ember.{opname}: output with shape {tuple(self._data.shape)} doesn't match "
                           f"the broadcast shape {tuple(result._data.shape)}") from None
    _counter(self)[0] += 1
    if not recording:
        return self
    if result._data.dtype != self._data.dtype:
        result = result.to(sd)
    base = self._base
    view_ops = getattr(self, "_view_ops", ()) if base is not None else ()
    if view_ops:
        # rebase the base's history: base_new = base_old with the view's region replaced
        new_base = apply(_registry.OPS["copy_slices"], _history_only(base), result,
                         view_ops=tuple((op.name, attrs) for op, attrs in view_ops))
        base._node, base._idx, base._rg = new_base._node, new_base._idx, True
        view = base
        for op, attrs in view_ops:
            view = apply(op, view, **attrs)
        self._node, self._idx, self._rg = view._node, view._idx, True
        self._vv = self._vc[0]
    else:
        self._node, self._idx, self._rg = result._node, getattr(result, "_idx", 0), result._rg
    return self


def _snapshot_saved_self(self, result):
    # The op producing `result` may have saved `self` for its backward (x.mul_(y)
    # needs the old x for y's gradient); `self` is about to be overwritten, so the
    # node keeps a copy instead -- as PyTorch saves `original_self` for in-place ops.
    node = result._node
    if node is None or node.inputs is None or not any(a is self for a in node.inputs):
        return
    snap = _history_only(self)
    snap._data = self._data.copy()
    node.inputs = tuple(snap if a is self else a for a in node.inputs)
    node.saved_versions = [v for v in node.saved_versions if v[2] is not self]


def _check_inplace_allowed(t, opname):
    if t._node is None and t._rg:
        raise RuntimeError(f"ember.{opname}: a leaf tensor that requires grad is being used in an "
                           f"in-place operation")
    b = t._base
    if b is not None and b._node is None and b._rg and getattr(t, "_view_ops", ()):
        raise RuntimeError(f"ember.{opname}: a view of a leaf tensor that requires grad is being "
                           f"used in an in-place operation")


# --- in-place fills, defined on every tensor -----------------------------------------
def _zero_(self):
    return fill_(self, 0)


def fill_(self, value):
    """Fill with ``value`` (a number or a 0-d tensor, whose gradient then flows)."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"ember.fill_: expects a 0-d value tensor, got shape "
                               f"{tuple(value._data.shape)}")
        return copy_(self, value)
    return commit_inplace(self, _wrap(np.full(self._data.shape, value, self._data.dtype)), "fill_")


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast to this tensor's dtype) into this tensor."""
    if not isinstance(src, Tensor):
        src = _wrap(np.asarray(src))
    if src._data.shape != self._data.shape:
        try:
            np.broadcast_shapes(src._data.shape, self._data.shape)
        except ValueError:
            raise RuntimeError(f"ember.copy_: src of shape {tuple(src._data.shape)} cannot be broadcast "
                               f"to {tuple(self._data.shape)}") from None
        src = src.expand(self._data.shape)
    if src._data.dtype != self._data.dtype:
        src = src.to(_dt._BY_NP[self._data.dtype])
    # copy_ casts freely (unlike other in-place ops): skip the category check
    return commit_inplace(self, src, "copy_", check_cast=False)


_registry.commit_inplace = commit_inplace
_registry.METHODS.update(zero_=_zero_, fill_=fill_, copy_=copy_)
