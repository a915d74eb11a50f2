"""Dispatch: ``apply(op, *args, **attrs)`` runs a registered op -- dtype promotion, the
kernel, wrapping its outputs (views included) -- and records one autograd node when grad
mode is on and an input requires grad. This is the hot path from ``a + b`` to NumPy."""
import numpy as np

from . import dtypes as _dt
from .autograd.grad_mode import STATE as _GRAD
from .autograd.graph import Node
from .ops import registry as _registry
from ._tensor import Tensor, _wrap, _counter, _FLOAT_KINDS, _ndarray


def _kernel_args(op, args):
    """The kernel's arguments (arrays for tensors, with the op's dtype promotion), and the
    dtype to cast float outputs back to when the kernel computes in a wider one."""
    rule = op.promote
    if rule is None:
        return [a._data if isinstance(a, Tensor) else a for a in args], None
    # fast paths: one dtype among the tensors, and Python numbers that keep it (NEP 50
    # gives PyTorch's result there); anything else goes through result_type
    a = args[0]
    if a.__class__ is Tensor:
        ad = a._data
        dt = ad.dtype
        floating = dt.kind == "f" and dt.itemsize >= 4
        if len(args) == 1:
            if floating or rule == "common":
                return [ad], None
        elif len(args) == 2:
            b = args[1]
            c = b.__class__
            if c is Tensor:
                bd = b._data
                if bd.dtype is dt and (floating or rule == "common"):
                    return [ad, bd], None
            elif floating and (c is float or c is int):
                return [ad, b], None
    npd = None
    fast = True
    for a in args:
        if isinstance(a, Tensor):
            d = a._data.dtype
            if npd is None:
                npd = d
            elif d != npd:
                fast = False
                break
    if fast and npd is not None:
        kind = npd.kind
        for a in args:
            if not isinstance(a, Tensor):
                c = a.__class__
                if (c is float or c is int) and kind == "f" and npd.itemsize >= 4 \
                        or c is int and npd == np.int64 or c is bool and kind == "b":
                    continue
                if a is None:
                    continue
                fast = False
                break
        if fast and (rule == "common" or kind == "f" or npd.name == "bfloat16"):
            return [a._data if isinstance(a, Tensor) else a for a in args], None
    dt = _dt.result_type(*args)
    if dt is None:
        raise TypeError(f"ember.{op.name}: expected at least one tensor or number")
    if rule == "float" and dt.category != 2:
        dt = _dt.get_default_dtype()
    npd = dt.np
    cast_back = None
    if dt.itemsize == 2 and dt.is_floating_point and any(a.__class__ is float for a in args):
        # PyTorch computes half-precision ops in float32 with the scalar unrounded
        cast_back, npd = npd, np.dtype(np.float32)
    out = []
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            out.append(d if d.dtype == npd else d.astype(npd))
        elif a is None:
            out.append(None)
        elif cast_back is not None and a.__class__ is float:
            out.append(a)
        else:
            out.append(np.array(a).astype(npd))
    return out, cast_back


def _op_error(op, args, err):
    desc = ", ".join(f"{tuple(a._data.shape)} {_dt._BY_NP.get(a._data.dtype, a._data.dtype)}"
                     if isinstance(a, Tensor) else repr(a) for a in args)
    return type(err)(f"ember.{op.name}: {err} (inputs: {desc})")


def apply(op, *args, **attrs):
    """Run registered ``op`` on ``args`` (tensors and numbers), recording it for autograd."""
    arrays, cast_back = _kernel_args(op, args)
    try:
        out = op.kernel(*arrays, **attrs)
    except (ValueError, TypeError, IndexError, np.exceptions.AxisError) as e:
        if str(e).startswith("ember."):
            raise
        raise _op_error(op, args, e) from None
    multi = out.__class__ is tuple
    if multi:
        results = tuple(_wrap(_out_array(o, cast_back)) for o in out)
    else:
        if out.__class__ is not _ndarray or cast_back is not None:
            out = _out_array(out, cast_back)
        results = (_wrap(out),)
    if op.view:
        _mark_view(op, args[0], results[0], attrs)
    if _GRAD.enabled and op.backward is not None:
        for a in args:
            if isinstance(a, Tensor) and a._rg:
                _record(op, args, attrs, results)
                break
    return results if multi else results[0]


def _out_array(o, cast_back):
    if o.__class__ is not _ndarray:
        o = np.asarray(o)
    if cast_back is not None and o.dtype == np.float32:
        o = o.astype(cast_back)
    return o


def _mark_view(op, src, r, attrs):
    """An output aliasing its input shares the input's base, version counter and view chain."""
    if np.may_share_memory(r._data, src._data):
        base = src._base if src._base is not None else src
        r._base = base
        r._vc = _counter(base)
        r._view_ops = (getattr(src, "_view_ops", ()) if src._base is not None else ()) + ((op, attrs),)
        r._vv = r._vc[0]


def _refresh_view(t):
    """A view whose storage was written in place since its history was recorded gets its
    history replayed from the base (PyTorch regenerates a view's grad_fn the same way)."""
    vv = getattr(t, "_vv", None)
    if vv is None or vv == t._vc[0] or not _GRAD.enabled:
        return
    base = t._base
    t._vv = t._vc[0]
    if not base._rg:
        return
    view = _history_only(base)
    for op, attrs in t._view_ops:
        view = apply(op, view, **attrs)
    t._node, t._idx, t._rg = view._node, view._idx, True


def _edge(a):
    if isinstance(a, Tensor) and a._base is not None:
        _refresh_view(a)
    if isinstance(a, Tensor) and a._rg:
        return a if a._node is None else (a._node, a._idx)
    return None


def _record(op, args, attrs, results):
    edges, shapes, dtypes = [], [], []
    for a in args:
        if isinstance(a, Tensor):
            if a._base is not None:
                _refresh_view(a)
            edges.append((a if a._node is None else (a._node, a._idx)) if a._rg else None)
            d = a._data
            shapes.append(d.shape)
            dtypes.append(d.dtype)
        else:
            edges.append(None)
            shapes.append(None)
            dtypes.append(None)
    node = Node(op, attrs, edges, shapes, dtypes)
    save = op.save
    if save:
        versions = []
        if "i" in save:
            skip = op.skip
            if skip:
                args = tuple(None if i in skip else a for i, a in enumerate(args))
            node.inputs = args
            for a in args:
                if isinstance(a, Tensor):
                    c = a._vc or _counter(a)
                    versions.append((c, c[0], a, op))
        if "o" in save:
            node.out_data = [r._data for r in results]
            for r in results:
                c = _counter(r)
                versions.append((c, c[0], None, op))
        node.saved_versions = versions
    if len(results) == 1:
        r = results[0]
        if r._data.dtype in _FLOAT_KINDS:
            r._rg = True
            r._node = node
            r._idx = 0
        return
    node.n_out = len(results)
    node.out_meta = tuple((r._data.shape, r._data.dtype) for r in results)
    for i, r in enumerate(results):
        if r._data.dtype in _FLOAT_KINDS:
            r._rg = True
            r._node = node
            r._idx = i


def _history_only(t):
    """A stand-in for ``t`` with its autograd history but not its (just overwritten) data."""
    s = _wrap(t._data)
    s._rg, s._node = t._rg, t._node
    s._idx = getattr(t, "_idx", 0)
    return s


_registry.apply = apply
