"""Attention kernels: the core of a self-attention block as one op, from the packed projection
``qkv = x W_in^T + b_in`` (B, L, 3E) to the heads merged again (B, L, E).

Composed of registered ops, that core is about a dozen of them (split heads, two batched
matmuls around the masked softmax, merge heads) and its backward as many again plus a
``stack`` of the three gradients; here it is five batched GEMMs that read q, k, v as strided
views of ``qkv`` and write straight into the merged-heads output and the packed (B, L, 3E)
gradient, with the masked softmax and its backward as one pass each (jit/softmax.py).
"""
import numpy as np

from .reduce import scaled_softmax, scaled_softmax_backward

__all__ = ["packed_attention", "packed_attention_backward"]


def _split_heads(x, num_heads, parts):
    """(B, L, parts * E) -> ``parts`` views (B, H, L, hd): head h of part i is
    ``x[:, :, i * E + h * hd:(i * E + (h + 1) * hd)]``, as PyTorch's in-projection lays them out."""
    B, L, n = x.shape
    hd = n // parts // num_heads
    x = x.reshape(B, L, parts, num_heads, hd)
    return [x[:, :, i].transpose(0, 2, 1, 3) for i in range(parts)]


def packed_attention(qkv, bias, *, num_heads, scale):
    """``softmax(q k^T * scale + bias) v`` per head, q, k, v the thirds of ``qkv`` (B, L, 3E);
    ``bias``: a constant (L, L) or (1, L) additive mask. Returns the output (B, L, E), heads
    merged, and the attention probabilities (B, H, L, L) that the backward reads."""
    B, L, n = qkv.shape
    q, k, v = _split_heads(qkv, num_heads, 3)
    probs = scaled_softmax(np.matmul(q, k.swapaxes(-1, -2)), bias, scale=scale)
    out = np.empty((B, L, n // 3), np.result_type(probs, v))
    np.matmul(probs, v, out=_split_heads(out, num_heads, 1)[0])  # BLAS writes the merged layout directly
    return out, probs


def packed_attention_backward(g, qkv, probs, *, num_heads, scale):
    """The gradient w.r.t. ``qkv`` of ``packed_attention``'s output, given its gradient ``g``
    (B, L, E) and the saved probabilities: dv = P^T g, dS = softmax_backward(g v^T, P) * scale,
    dq = dS k, dk = dS^T q, written into one (B, L, 3E) array in ``qkv``'s layout."""
    q, k, v = _split_heads(qkv, num_heads, 3)
    (go,) = _split_heads(g, num_heads, 1)
    grad = np.empty(qkv.shape, np.result_type(g, qkv))
    dq, dk, dv = _split_heads(grad, num_heads, 3)
    np.matmul(probs.swapaxes(-1, -2), go, out=dv)
    ds = scaled_softmax_backward(np.matmul(go, v.swapaxes(-1, -2)), probs, scale=scale)
    np.matmul(ds, k, out=dq)
    np.matmul(ds.swapaxes(-1, -2), q, out=dk)
    return grad
