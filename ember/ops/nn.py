"""nn ops: linear, dropout, embedding (the math of ember.nn.functional's layers)."""
from . import registry as R  # noqa: F401
from .registry import register, export, METHODS, FUNCTIONS, call  # noqa: F401


# --- linear -----------------------------------------------------------------------------
def _linear_backward(ctx, g):
    x, w = ctx.inputs[0], ctx.inputs[1]
    gx = g @ w if ctx.needs(0) else None
    gw = gb = None
    if ctx.needs(1):  # g^T x with every leading dim folded into the contraction
        gw = g.reshape(-1, g.shape[-1]).mT @ x.reshape(-1, x.shape[-1])
    if len(ctx.shapes) > 2 and ctx.needs(2):
        gb = g.reshape(-1, g.shape[-1]).sum(0)
    return gx, gw, gb


LINEAR = register("linear", _linear_backward, save="i", skip=(2,),
                  doc="y = x W^T + b over the last dim of x; W is (out_features, in_features).")
