"""The autograd graph: one Node per recorded op application.

A node is also the ``ctx`` its op's backward rule receives. It keeps only what
the op asked to save (inputs and/or output arrays), the inputs' shapes and
dtypes, and one edge per input: ``None`` (no grad), a leaf Tensor (gradient is
accumulated into its ``.grad``) or ``(node, output_index)``.

The saved output is kept as a bare array plus this node, never as the output
Tensor itself, so a graph holds no reference cycles and frees memory as soon as
its last tensor goes away.
"""
import itertools

_seq = itertools.count(1)


class Node:
    # a plain class with defaults on the class, not __slots__: recording sets only the fields
    # an op uses (one node per recorded op, on the hot path of every forward)
    inputs = None
    out_data = None
    saved_versions = None
    hooks = None           # {output_index: [fn]}: tensor hooks on non-leaf outputs
    saved = ()             # ctx.save_for_backward, for custom Functions
    freed = False
    n_out = 1
    out_meta = None        # ((shape, dtype), ...) of outputs, for multi-output ops

    def __init__(self, op, attrs, edges, shapes=None, dtypes=None):
        self.op = op
        self.attrs = attrs
        self.edges = edges
        self.shapes = shapes
        self.dtypes = dtypes
        self.seq = next(_seq)

    @property
    def name(self):
        return f"{self.op.name}_backward" if self.op is not None else "backward"

    def __repr__(self):
        return f"<{self.name} node>"

    def __getattr__(self, key):
        # backward rules read op attributes as ctx.<attr>
        try:
            return self.attrs[key]
        except (KeyError, TypeError):
            raise AttributeError(key) from None

    @property
    def next_functions(self):
        out = []
        for e in self.edges:
            if e is None:
                out.append((None, 0))
            elif isinstance(e, tuple):
                out.append(e)
            else:
                out.append(("AccumulateGrad", 0))
        return tuple(out)

    # --- what backward rules read ---------------------------------------
    def needs(self, i):
        """Whether input ``i`` wants a gradient (skip computing the ones nobody uses)."""
        return self.edges[i] is not None

    @property
    def needs_input_grad(self):
        return tuple(e is not None for e in self.edges)

    @property
    def out(self):
        """The op's (first) output, linked to this node for higher-order grads."""
        return self._output(0)

    @property
    def outs(self):
        return tuple(self._output(i) for i in range(len(self.out_data)))

    def _output(self, i):
        from .._tensor import Tensor
        t = Tensor._from_array(self.out_data[i])
        if self.out_data[i].dtype.kind == "f" or self.out_data[i].dtype.name == "bfloat16":
            t.requires_grad = True
            t._node, t._idx = self, i
        return t

    @property
    def saved_tensors(self):
        return self.saved

    def save_for_backward(self, *tensors):
        from .engine import saved_version_record
        self.saved = tensors
        self.saved_versions = saved_version_record(tensors)

    def mark_non_differentiable(self, *tensors):
        pass

    def register_hook(self, fn):
        self.hooks = self.hooks or {}
        self.hooks.setdefault(-1, []).append(fn)
