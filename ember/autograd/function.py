"""Custom autograd functions, as ``torch.autograd.Function``.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    Exp.apply(x)

``forward`` runs with grad recording off; ``backward`` returns one gradient per
argument of ``forward`` (None for non-tensors).
"""
from __future__ import annotations

from .graph import Node
from .grad_mode import STATE
from .. import _tensor as T


class FunctionCtx(Node):
    """The ctx of a custom Function: a graph node that also takes any attribute."""

    def __getattr__(self, key):  # plain attributes, not op attrs
        raise AttributeError(key)

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self.materialize_grads = value

    def mark_dirty(self, *tensors):
        pass


class _FunctionOp:
    """Stands in for a registry entry so the engine runs a Function like any op."""
    __slots__ = ("cls", "name")

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.__name__

    def backward(self, ctx, *grads):
        return self.cls.backward(ctx, *grads)


class Function:
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("ember.autograd.Function: subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("ember.autograd.Function: subclasses must implement backward")

    @classmethod
    def apply(cls, *args, **kwargs):
        recording = STATE.enabled and any(isinstance(a, T.Tensor) and a._rg for a in args)
        ctx = FunctionCtx(_FunctionOp(cls), None, tuple(T._edge(a) for a in args) if recording else ())
        ctx.non_differentiable = set()
        ctx.materialize_grads = True
        ctx.shapes = tuple(a._data.shape if isinstance(a, T.Tensor) else None for a in args)
        ctx.dtypes = tuple(a._data.dtype if isinstance(a, T.Tensor) else None for a in args)
        prev = STATE.enabled
        STATE.enabled = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.enabled = prev
        if not recording:
            return out
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        wrapped = []
        for i, o in enumerate(outs):
            if isinstance(o, T.Tensor):
                w = T._wrap(o._data)
                if id(o) not in ctx.non_differentiable and o.is_floating_point():
                    w._rg, w._node, w._idx = True, ctx, i
                o = w
            wrapped.append(o)
        ctx.n_out = len(outs)
        ctx.out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, T.Tensor) else ((), "f4")
                             for o in wrapped)
        return tuple(wrapped) if multi else wrapped[0]


def once_differentiable(fn):
    return fn
