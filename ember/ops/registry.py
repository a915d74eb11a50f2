"""The op registry: the one place an op's meaning lives.

An entry (`Op`) holds the op's name, its kernel (looked up by name in the
backend's kernel module, ``ember/kernels/cpu``), its dtype rule, what it saves
for backward, and its backward rule written with registered ops, so a recorded
forward also records its backward. Later features hang their per-op hooks on the
entry (``shape`` for the compiler, ``fusion`` class, ``onnx`` mapping).

Backward rules have the signature ``backward(ctx, *grads) -> grad | tuple`` and
return one gradient per input position (``None`` where there is none). ``ctx`` is
the graph node: ``ctx.inputs`` (the op's arguments, when the op saves them),
``ctx.out`` (its output, when it saves it), ``ctx.shapes``/``ctx.dtypes`` of
tensor inputs, and the op's attributes as ``ctx.<name>``. The engine sums a
gradient back to its input's shape (broadcasting) and casts it to its dtype, so
rules need not.
"""
from __future__ import annotations

from .. import kernels as _kernels

OPS: dict[str, "Op"] = {}
FUNCTIONS: dict[str, object] = {}   # public functions: ember.<name>
METHODS: dict[str, object] = {}     # Tensor methods: Tensor.<name>


class Op:
    __slots__ = ("name", "kernel", "backward", "promote", "save", "skip", "view", "fusion",
                 "differentiable", "shape", "onnx", "doc", "test")

    def __init__(self, name, kernel, backward, promote, save, skip, view, fusion, doc):
        self.name = name
        self.kernel = kernel
        self.backward = backward
        self.promote = promote        # None | "common" | "float"
        self.save = save              # "" | "i" | "o" | "io": inputs / output kept for backward
        self.skip = skip              # input positions not kept even with "i" (rule reads their shape only)
        self.view = view              # output aliases input 0 (NumPy view)
        self.fusion = fusion          # "elementwise" | "reduce" | "movement" | None
        self.differentiable = backward is not None
        self.shape = None             # compiler hooks, attached later
        self.onnx = None
        self.doc = doc
        self.test = None

    def __repr__(self):
        return f"<op {self.name}>"


def register(name, backward=None, *, promote=None, save="i", skip=(), view=False, fusion=None,
             kernel=None, doc=""):
    """Register an op. Its CPU kernel is ``kernels.cpu.<kernel or name>``.

    ``save`` says what the backward rule reads: inputs ("i"), outputs ("o"), both or
    nothing; ``skip`` lists input positions left out of "i" (their shape and dtype are
    always kept), so the graph holds no memory it does not need and an in-place
    variant may overwrite them.
    """
    if name in OPS:
        raise ValueError(f"op {name!r} registered twice")
    fn = _kernels.cpu.KERNELS.get(kernel or name)
    if fn is None:
        raise LookupError(f"op {name!r}: no kernel kernels.cpu.{kernel or name}")
    op = OPS[name] = Op(name, fn, backward, promote, save, tuple(skip), view, fusion, doc)
    return op


def export(fn=None, *, name=None, method=None, function=True):
    """Make ``fn`` public as ``ember.<name>`` and, with ``method``, as a Tensor method.

    ``method=True`` uses the same name; a string gives the method another name.
    """
    def deco(f):
        n = name or f.__name__
        if function:
            FUNCTIONS[n] = f
        if method:
            METHODS[n if method is True else method] = f
        return f
    return deco(fn) if fn is not None else deco


# `apply(op, *args, **attrs)` runs an op on tensors and records it for autograd.
# It lives in ember.tensor (a layer above) and is bound here on import, so op
# modules can call it without importing the Tensor class.
def apply(op, *args, **attrs):  # replaced by ember.tensor.apply
    raise RuntimeError("ember.tensor not imported")


def call(name, *args, **attrs):
    """Apply a registered op by name (for rules that name ops they do not import)."""
    return apply(OPS[name], *args, **attrs)


# `commit_inplace(tensor, result, opname)` writes an op's result into a tensor in
# place (buffer, version counter, autograd history); bound by ember._inplace.
def commit_inplace(tensor, result, opname):  # replaced by ember._inplace.commit_inplace
    raise RuntimeError("ember._tensor not imported")
