"""MultiheadAttention."""
from .module import Module
from .linear import Linear
from ..parameter import Parameter
from .. import functional as F
from ..functional.attention import _self_attention_batch_first
from ..._tensor import Tensor
from .. import init
from ... import creation as _c

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear (PyTorch's name for MultiheadAttention's ``out_proj``, kept for repr parity)."""


class MultiheadAttention(Module):
    r"""Multi-head attention: :math:`\mathrm{Concat}(head_1..head_h) W^O` with
    :math:`head_i = \mathrm{softmax}(Q W_i^Q (K W_i^K)^T / \sqrt{d_{head}}) V W_i^V`.

    Parameters as PyTorch's: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,) (or
    ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when ``kdim``/``vdim`` differ from E),
    ``out_proj`` (a Linear), optional ``bias_k``/``bias_v`` (1, 1, E); xavier-uniform projections,
    zero biases, xavier-normal ``bias_k``/``bias_v``.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights or None)``; inputs are
    (L, N, E) (``batch_first``: (N, L, E)) or unbatched (L, E). Boolean masks: True = masked.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"ember.nn.MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError(f"ember.nn.MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(_c.empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(_c.empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(_c.empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(_c.empty(3 * embed_dim, embed_dim, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_c.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(_c.empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(_c.empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched = query.ndim == 3
        if (batched and query is key is value and not need_weights
                and key_padding_mask is None and self._qkv_same_embed_dim and self.bias_k is None
                and not self.add_zero_attn and isinstance(query, Tensor) and query.shape[-1] == self.embed_dim
                and (attn_mask is None and not is_causal
                     or attn_mask is not None and attn_mask.ndim == 2
                     and tuple(attn_mask.shape) == (query.shape[1 if self.batch_first else 0],) * 2)):
            # self-attention without weights: the batch-first path (sequence-first input as a view)
            x = query if self.batch_first else query.transpose(0, 1)
            out = _self_attention_batch_first(
                x, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.out_proj.weight,
                self.out_proj.bias, attn_mask, is_causal, self.dropout if self.training else 0.0)
            return (out if self.batch_first else out.transpose(0, 1)), None
        if self.batch_first and batched:  # keep q is k is v identity: it selects the one-GEMM projection
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights
