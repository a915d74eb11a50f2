"""ember.nn.functional: scaled_dot_product_attention, multi_head_attention_forward.

Attention is composed of registered ops (two batched matmuls around a softmax with a fused
backward), so its gradients, to any order, come from the op library.
"""
import math
import warnings

import numpy as np

from ..._tensor import Tensor, _wrap
from ...ops import registry as R
from ...ops.registry import FUNCTIONS, OPS
from .linear import linear
from .dropout import dropout as _dropout

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_SCALED_SOFTMAX = OPS["scaled_softmax"]
_PACKED_ATTENTION = OPS["packed_attention"]


def _float_mask(mask, dtype, name, op):
    """A boolean mask (True = masked) as an additive float mask (-inf where masked); float masks
    pass through (they may carry gradients)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"ember.{op}: {name} must be a Tensor, got {type(mask).__name__}")
    if mask.dtype.is_floating_point:
        return mask
    if mask.dtype.name != "bool":
        raise TypeError(f"ember.{op}: only bool and floating types of {name} are supported, got {mask.dtype}")
    return _wrap(np.where(mask._data, -np.inf, 0).astype(dtype.np))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    r""":math:`\mathrm{softmax}(Q K^T \cdot scale + bias) V` over the last two dims (batch dims broadcast).

    ``attn_mask``: boolean (True = may attend) or float (added to the scores), broadcastable to
    (..., L, S); ``is_causal`` masks key j > query i. A query row that may attend to nothing gives
    zeros (and zero gradients), as PyTorch's. ``scale`` defaults to :math:`1/\sqrt{E}`;
    ``enable_gqa`` repeats each key/value head for a group of query heads (dim -3).
    """
    op = "scaled_dot_product_attention"
    for t, n in ((query, "query"), (key, "key"), (value, "value")):
        if not isinstance(t, Tensor):
            raise TypeError(f"ember.{op}: {n} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"ember.{op}: {n} must have at least 2 dims, got shape {tuple(t.shape)}")
    qs, ks, vs = tuple(query.shape), tuple(key.shape), tuple(value.shape)
    if not (query.dtype == key.dtype == value.dtype) or not query.dtype.is_floating_point:
        raise RuntimeError(f"ember.{op}: expected query, key and value of one floating dtype, got "
                           f"{query.dtype}, {key.dtype} and {value.dtype}")
    if qs[-1] != ks[-1] or ks[-2] != vs[-2]:
        raise RuntimeError(f"ember.{op}: query {qs}, key {ks} and value {vs} do not match (expected "
                           f"query (..., L, E), key (..., S, E), value (..., S, Ev))")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"ember.{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"ember.{op}: explicit attn_mask should not be set when is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and qs[-3] != ks[-3]:
        if qs[-3] % ks[-3] or ks[-3] != vs[-3]:
            raise RuntimeError(f"ember.{op}: with enable_gqa, the query heads ({qs[-3]}) must be a multiple of "
                               f"the key/value heads ({ks[-3]}, {vs[-3]})")
        rep = FUNCTIONS["repeat_interleave"]
        key, value = rep(key, qs[-3] // ks[-3], dim=-3), rep(value, qs[-3] // vs[-3], dim=-3)
    L, S = qs[-2], ks[-2]
    scale = 1.0 / math.sqrt(qs[-1]) if scale is None else scale
    raw = FUNCTIONS["matmul"](query, key.transpose(-2, -1))

    # a constant additive bias from the causal / boolean masks; float masks are added as tensors
    dt = query._data.dtype
    bias, neg, float_mask = None, None, None
    if is_causal:
        bias = np.where(np.tri(L, S, dtype=bool), 0, -np.inf).astype(dt)
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"ember.{op}: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
        try:
            np.broadcast_shapes(tuple(attn_mask.shape), tuple(raw.shape))
        except ValueError:
            raise RuntimeError(f"ember.{op}: attn_mask of shape {tuple(attn_mask.shape)} is not broadcastable "
                               f"to the attention scores (..., L, S) = {tuple(raw.shape)}") from None
        if attn_mask.dtype.name == "bool":
            bias = np.where(attn_mask._data, 0, -np.inf).astype(dt)
        elif attn_mask.dtype.is_floating_point:
            float_mask = attn_mask
            neg = np.isneginf(attn_mask._data)
        else:
            raise TypeError(f"ember.{op}: attn_mask must be bool or floating, got {attn_mask.dtype}")
    if bias is not None:
        neg = np.isneginf(bias)
    empty = None  # query rows that may attend to nothing: softmax over all -inf would be nan
    if neg is not None and S > 0:
        empty = neg.all(-1, keepdims=True)
        empty = _wrap(np.broadcast_to(empty, neg.shape[:-1] + (1,))) if empty.any() else None
    if float_mask is None and empty is None:
        # scale, constant mask and softmax in one pass (its gradient is softmax's, scaled)
        attn = R.apply(_SCALED_SOFTMAX, raw, _wrap(bias if bias is not None else np.zeros((1, S), dt)), scale=scale)
    else:
        scores = raw * scale
        if float_mask is not None:
            scores = scores + float_mask
        if bias is not None:
            scores = scores + _wrap(bias)
        if empty is not None:
            scores = FUNCTIONS["where"](empty, 0.0, scores)
        attn = FUNCTIONS["softmax"](scores, -1)
        if empty is not None:
            attn = FUNCTIONS["where"](empty, 0.0, attn)
    if dropout_p > 0.0:
        attn = _dropout(attn, dropout_p, True)
    return FUNCTIONS["matmul"](attn, value)


def _check_mha(query, key, value, key_padding_mask, attn_mask, num_heads):
    op = "multi_head_attention_forward"
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise RuntimeError(f"ember.{op}: for batched (3-D) query, expected key and value to be 3-D but found "
                               f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise RuntimeError(f"ember.{op}: for batched (3-D) query, expected key_padding_mask to be None or 2-D "
                               f"but found {key_padding_mask.ndim}-D tensor instead")
    elif query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise RuntimeError(f"ember.{op}: for unbatched (2-D) query, expected key and value to be 2-D but "
                               f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise RuntimeError(f"ember.{op}: for unbatched (2-D) query, expected key_padding_mask to be None or "
                               f"1-D but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim == 3 and \
                tuple(attn_mask.shape) != (num_heads, query.shape[0], key.shape[0]):
            raise RuntimeError(f"ember.{op}: expected attn_mask shape to be "
                               f"{(num_heads, query.shape[0], key.shape[0])} but got {tuple(attn_mask.shape)}")
    else:
        raise RuntimeError(f"ember.{op}: query should be unbatched 2D or batched 3D tensor but received "
                           f"{query.ndim}-D query tensor")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise RuntimeError(f"ember.{op}: expected attn_mask to be None, 2-D or 3-D but found "
                           f"{attn_mask.ndim}-D tensor instead")
    return query.ndim == 3


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, q_w, k_w, v_w):
    """q, k, v projections: one GEMM for self-attention (q is k is v), two when k is v."""
    E = query.shape[-1]
    if q_w is not None:  # separate weights (kdim / vdim differ)
        bq, bk, bv = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        return linear(query, q_w, bq), linear(key, k_w, bk), linear(value, v_w, bv)
    if key is value:
        if query is key:
            return linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        wq, wkv = in_proj_weight.split([E, 2 * E])
        bq, bkv = (None, None) if in_proj_bias is None else in_proj_bias.split([E, 2 * E])
        return (linear(query, wq, bq), *linear(key, wkv, bkv).chunk(2, -1))
    ws = in_proj_weight.chunk(3)
    bs = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), ws, bs))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    r"""Multi-head attention on sequence-first inputs: query (L, N, E), key (S, N, kdim), value
    (S, N, vdim) (or unbatched (L, E), ...), as PyTorch's.

    Boolean masks mark positions NOT allowed to attend (True = masked, unlike
    :func:`scaled_dot_product_attention`); float masks are added to the scores. Returns
    ``(output (L, N, E), weights (N, L, S) averaged over heads or (N, H, L, S), or None)``.
    With ``need_weights`` a query row with nothing to attend to gives nan (explicit softmax, as
    PyTorch); without, zeros (the fused attention path).
    """
    op = "multi_head_attention_forward"
    batched = _check_mha(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, B, E = query.shape
    dt = query.dtype
    if key_padding_mask is not None and attn_mask is not None and key_padding_mask.dtype != attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for "
                      "both instead.", stacklevel=2)
    key_padding_mask = _float_mask(key_padding_mask, dt, "key_padding_mask", op)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"ember.{op}: need attn_mask if specifying the is_causal hint (you may use "
                           "Transformer.generate_square_subsequent_mask to create it)")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands in for the mask
    else:
        attn_mask = _float_mask(attn_mask, dt, "attn_mask", op)
        if key_padding_mask is not None:
            is_causal = False
    if E != embed_dim_to_check:
        raise RuntimeError(f"ember.{op}: was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    hd = E // num_heads
    if hd * num_heads != E:
        raise RuntimeError(f"ember.{op}: embed_dim {E} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise RuntimeError(f"ember.{op}: key's sequence and batch dims {tuple(key.shape[:2])} do not match "
                               f"value's {tuple(value.shape[:2])}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise RuntimeError(f"ember.{op}: use_separate_proj_weight is True but q/k/v_proj_weight is None")
        q, k, v = _in_projection(query, key, value, None, in_proj_bias, q_proj_weight, k_proj_weight,
                                 v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise RuntimeError(f"ember.{op}: key shape {tuple(key.shape)} does not match value shape "
                               f"{tuple(value.shape)}")
        if in_proj_weight is None:
            raise RuntimeError(f"ember.{op}: use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, None, None, None)

    if attn_mask is not None:
        S0 = key.shape[0]
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (L, S0):
                raise RuntimeError(f"ember.{op}: the shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but "
                                   f"should be {(L, S0)}")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (B * num_heads, L, S0):
            raise RuntimeError(f"ember.{op}: the shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but "
                               f"should be {(B * num_heads, L, S0)}")
    cat, pad = FUNCTIONS["cat"], FUNCTIONS["pad"]
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise RuntimeError(f"ember.{op}: bias cannot be added to static key or value")
        k = cat([k, bias_k.expand(1, B, E)])
        v = cat([v, bias_v.expand(1, B, E)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise RuntimeError(f"ember.{op}: bias_k and bias_v must be given together")

    # heads: (L, B, E) -> (B * H, L, hd)
    q = q.reshape(L, B * num_heads, hd).transpose(0, 1)
    k = _heads(k, static_k, B, num_heads, hd, "static_k", op)
    v = _heads(v, static_v, B, num_heads, hd, "static_v", op)
    if add_zero_attn:
        zeros = _wrap(np.zeros((B * num_heads, 1, hd), dt.np))
        k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    S = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (B, S):
            raise RuntimeError(f"ember.{op}: expected key_padding_mask of shape {(B, S)}, got "
                               f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(B, 1, 1, S).expand(B, num_heads, 1, S).reshape(B * num_heads, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = FUNCTIONS["matmul"](q * math.sqrt(1.0 / hd), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        w = FUNCTIONS["softmax"](scores, -1)
        if dropout_p > 0.0:
            w = _dropout(w, dropout_p, True)
        out = FUNCTIONS["matmul"](w, v)                                   # (B*H, L, hd)
        out = out.transpose(0, 1).reshape(L * B, E)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(L, B, E)
        w = w.reshape(B, num_heads, L, S)
        if average_attn_weights:
            w = w.mean(1)
        if not batched:
            out, w = out.squeeze(1), w.squeeze(0)
        return out, w

    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else attn_mask.reshape(B, num_heads, -1, S)
    q, k, v = (t.reshape(B, num_heads, t.shape[1], hd) for t in (q, k, v))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)   # (B, H, L, hd)
    out = out.permute(2, 0, 1, 3).reshape(L * B, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(L, B, E)
    return (out if batched else out.squeeze(1)), None


def _self_attention_batch_first(x, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                                attn_mask, is_causal, dropout_p):
    """MultiheadAttention(x, x, x) on batch-first x (B, L, E) without weights, in the batch-first
    layout throughout: one in-projection GEMM, q/k/v as strided views of its (B, L, 3, H, hd)
    result (no copies, and one gradient buffer instead of a cat), heads merged once before the
    out-projection. Same math as the sequence-first path (PyTorch's), fewer transposes. With a
    constant mask and no dropout the core between the two projections is one op.
    ``attn_mask``: None or (L, L), bool (True = masked) or float (added); given when
    ``is_causal`` (the caller leaves the missing-mask error to the general path)."""
    B, L, E = x.shape
    hd = E // num_heads  # MultiheadAttention checked that num_heads divides E
    mask = None if is_causal else _float_mask(attn_mask, x.dtype, "attn_mask", "multi_head_attention_forward")
    dt = x._data.dtype
    bias = _constant_bias(mask, is_causal, L, dt) if dropout_p == 0.0 and dt.char in "fd" else None
    if bias is not None:  # the core (heads split, attention, heads merged) in one op: kernels/cpu/attention.py
        qkv = linear(x, in_proj_weight, in_proj_bias)
        out, _ = R.apply(_PACKED_ATTENTION, qkv, _wrap(bias), num_heads=num_heads, scale=1.0 / math.sqrt(hd))
        return linear(out, out_proj_weight, out_proj_bias)
    # unbind along the "3" dim of (B, L, 3, H, hd): its backward stacks the three gradients
    # straight into the projection's layout (one copy), where unbinding a permuted
    # (3, B, H, L, hd) view would stack and then copy again to undo the permute
    qkv = linear(x, in_proj_weight, in_proj_bias).reshape(B, L, 3, num_heads, hd)
    q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))                   # (B, H, L, hd) views
    out = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)     # (B, H, L, hd)
    return linear(out.transpose(1, 2).reshape(B, L, E), out_proj_weight, out_proj_bias)


def _constant_bias(mask, is_causal, L, dtype):
    """The additive (L, L) or (1, L) mask of a self-attention as an array, or None where the
    packed op does not apply: a mask that wants a gradient, or a query row masked everywhere
    (softmax would give nan; the general path gives zeros, as PyTorch)."""
    if is_causal:
        return np.where(np.tri(L, dtype=bool), 0, -np.inf).astype(dtype)
    if mask is None:
        return np.zeros((1, L), dtype)
    if mask.requires_grad:
        return None
    bias = mask._data.astype(dtype, copy=False)
    return None if np.isneginf(bias).all(-1).any() else bias


def _heads(t, static, B, H, hd, name, op):
    if static is None:
        return t.reshape(t.shape[0], B * H, hd).transpose(0, 1)
    if tuple(static.shape[::2]) != (B * H, hd):
        raise RuntimeError(f"ember.{op}: expecting {name} of shape ({B * H}, S, {hd}), got {tuple(static.shape)}")
    return static
