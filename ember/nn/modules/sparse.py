"""Embedding and EmbeddingBag: lookup tables of learnable rows."""
from .module import Module
from ..parameter import Parameter
from ... import creation as _c
from .. import functional as F
from .. import init

__all__ = ["Embedding", "EmbeddingBag"]


def _norm_padding_idx(name, padding_idx, num):
    if padding_idx is None:
        return None
    if not -num <= padding_idx < num:
        raise ValueError(f"ember.nn.{name}: padding_idx {padding_idx} must be within num_embeddings ({num})")
    return padding_idx % num


class _Table(Module):
    def _init_weight(self, name, num_embeddings, embedding_dim, _weight, freeze, dtype):
        if _weight is None:
            self.weight = Parameter(_c.empty(num_embeddings, embedding_dim, dtype=dtype), requires_grad=not freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise ValueError(f"ember.nn.{name}: shape of weight {tuple(_weight.shape)} does not match "
                                 f"num_embeddings and embedding_dim ({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def _extra(self, keys):
        d = self.__dict__
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        for k in keys:
            if k == "padding_idx" and self.padding_idx is not None or k == "max_norm" and self.max_norm is not None:
                s += f", {k}={d[k]!r}"
            elif k == "norm_type" and self.norm_type != 2:
                s += f", norm_type={self.norm_type!r}"
            elif k == "scale_grad_by_freq" and self.scale_grad_by_freq is not False:
                s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
            elif k == "sparse" and self.sparse is not False:
                s += ", sparse=True"
            elif k == "mode":
                s += f", mode={self.mode!r}"
        return s


class Embedding(_Table):
    """``weight[input]``: a table of ``num_embeddings`` rows of size ``embedding_dim``, initialised
    from N(0, 1) (the ``padding_idx`` row zero, and it gets no gradient). ``max_norm`` renormalises
    looked-up rows in place."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _norm_padding_idx("Embedding", padding_idx, num_embeddings)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self._init_weight("Embedding", num_embeddings, embedding_dim, _weight, _freeze, dtype)
        self.sparse = sparse

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        return self._extra(("padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse"))

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (2-D, shared, not copied); frozen unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(f"ember.nn.Embedding.from_pretrained: embeddings must be 2-dimensional, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(_Table):
    """Sums, means or maxima over bags of embedding rows (``mode``), without building the
    per-entry rows' reduction in a loop; see ``F.embedding_bag`` for the input layouts."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.padding_idx = _norm_padding_idx("EmbeddingBag", padding_idx, num_embeddings)
        self._init_weight("EmbeddingBag", num_embeddings, embedding_dim, _weight, False, dtype)
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self):
        return self._extra(("max_norm", "norm_type", "scale_grad_by_freq", "mode", "padding_idx"))

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding ``embeddings`` (2-D, shared); frozen unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(f"ember.nn.EmbeddingBag.from_pretrained: embeddings must be 2-dimensional, got "
                             f"shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, _weight=embeddings, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
