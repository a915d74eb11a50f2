"""nn ops: linear, dropout, embedding (the math of ember.nn.functional's layers)."""
from . import registry as R  # noqa: F401
from .registry import register, export, METHODS, FUNCTIONS, call  # noqa: F401
from .activation import RELU_BACKWARD
from .scan import SCALED_SOFTMAX, SCALED_SOFTMAX_BACKWARD
from ..autograd.grad_mode import STATE


# --- linear -----------------------------------------------------------------------------
def _linear_backward(ctx, g):
    x, w = ctx.inputs[0], ctx.inputs[1]
    gx = g @ w if ctx.needs(0) else None
    gw = gb = None
    g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])  # every leading dim folded into one
    if ctx.needs(1):  # g^T x
        gw = g2.mT @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))
    if len(ctx.shapes) > 2 and ctx.needs(2):
        gb = g2.sum(0)
    return gx, gw, gb


LINEAR = register("linear", _linear_backward, save="i", skip=(2,),
                  doc="y = x W^T + b over the last dim of x; W is (out_features, in_features).")
LINEAR_RELU = register("linear_relu", lambda ctx, g: _linear_backward(ctx, R.apply(RELU_BACKWARD, g, ctx.out)),
                       save="io", skip=(2,),
                       doc="relu(x W^T + b): a feed-forward block's first layer, bias and relu in one pass.")


# --- attention --------------------------------------------------------------------------
def _packed_attention_vjp(qkv, bias, g, num_heads, scale):
    """The backward of packed_attention written with differentiable ops (for create_graph):
    the probabilities are recomputed from qkv so that the graph reaches it through them."""
    B, L, n = qkv.shape
    q, k, v = (t.transpose(1, 2) for t in qkv.reshape(B, L, 3, num_heads, -1).unbind(2))
    p = R.apply(SCALED_SOFTMAX, q @ k.transpose(-2, -1), bias, scale=scale)
    go = g.reshape(B, L, num_heads, -1).transpose(1, 2)
    ds = R.apply(SCALED_SOFTMAX_BACKWARD, go @ v.transpose(-2, -1), p, scale=scale)
    grads = (ds @ k, ds.transpose(-2, -1) @ q, p.transpose(-2, -1) @ go)
    return FUNCTIONS["stack"]([t.transpose(1, 2) for t in grads], 2).reshape(B, L, n)


def _packed_attention_backward(ctx, g, _):
    # the second output (the probabilities) only carries state to this rule: its gradient is ignored
    qkv, bias = ctx.inputs
    if STATE.enabled:
        return _packed_attention_vjp(qkv, bias, g, ctx.num_heads, ctx.scale), None
    return R.apply(PACKED_ATTENTION_BACKWARD, g, qkv, ctx.outs[1], num_heads=ctx.num_heads, scale=ctx.scale), None


PACKED_ATTENTION = register(
    "packed_attention", _packed_attention_backward, save="io",
    doc="softmax(q k^T * scale + bias) v per head for q, k, v the thirds of a packed projection (B, L, 3E) and "
        "a constant additive mask bias; outputs (B, L, E) with the heads merged, and the probabilities (B, H, L, L) "
        "for the backward (not differentiable).")
PACKED_ATTENTION_BACKWARD = register("packed_attention_backward", None)


# --- dropout ----------------------------------------------------------------------------
# The keep-mask is an input (drawn by the functional from ember's generator), so the op
# itself is deterministic and its backward is the same op applied to the gradient.
DROPOUT = register("dropout", lambda ctx, g: (R.apply(DROPOUT, g, ctx.inputs[1], p=ctx.p), None),
                   save="i", skip=(0,), fusion="elementwise",
                   doc="x * mask / (1 - p) with a boolean keep-mask broadcast against x.")


# --- embedding --------------------------------------------------------------------------
def _embedding_backward(ctx, g):
    weight_shape, indices = ctx.shapes[0], ctx.inputs[1]
    return R.apply(EMBEDDING_BACKWARD, g, indices, num_weights=weight_shape[0], padding_idx=ctx.padding_idx,
                   scale_grad_by_freq=ctx.scale_grad_by_freq), None


def _embedding_backward_backward(ctx, gg):
    """embedding_backward is linear in g: its adjoint gathers rows of gg back (zero at the
    padding index, divided by the index frequency when the forward scaled by it)."""
    indices = ctx.inputs[1]
    out = R.apply(EMBEDDING, gg, indices, padding_idx=-1, scale_grad_by_freq=False)
    if ctx.padding_idx >= 0:
        out = out * (indices != ctx.padding_idx).unsqueeze(-1).to(out.dtype)
    if ctx.scale_grad_by_freq:
        ones = out.new_ones(tuple(indices.shape) + (1,))
        counts = R.apply(EMBEDDING_BACKWARD, ones, indices, num_weights=ctx.num_weights, padding_idx=-1,
                         scale_grad_by_freq=False)
        out = out / R.apply(EMBEDDING, counts, indices, padding_idx=-1, scale_grad_by_freq=False)
    return out, None


EMBEDDING = register("embedding", _embedding_backward, save="i", skip=(0,),
                     doc="Rows of weight at integer indices: weight[indices].")
EMBEDDING_BACKWARD = register("embedding_backward", _embedding_backward_backward, save="i", skip=(0,),
                              doc="Rows of g summed into num_weights rows by indices (the padding row "
                                  "gets none).")
EMBEDDING_BAG_LAYOUT = register("embedding_bag_layout",
                                doc="(bag of each entry, entry counts, entries per bag) of a flat index "
                                    "list cut at offsets.")
EMBEDDING_BAG_MAX_INDEX = register("embedding_bag_max_index",
                                   doc="Per bag and feature, the row position of the largest valid entry, "
                                       "and whether the bag has one.")
