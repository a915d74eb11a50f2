"""Movement ops: reshape, views, concatenation, splitting, padding, triangles."""
from . import registry as R
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
