"""Distances between tensors (torch.cosine_similarity, torch.pairwise_distance, torch.pdist),
as compositions of ops; ember.nn.functional re-exports them (with normalize)."""
import numpy as np

from .registry import export, FUNCTIONS


def _check(name, **ts):
    for k, t in ts.items():
        if not hasattr(t, "_data"):
            raise TypeError(f"ember.nn.functional.{name}: expected {k} to be a Tensor, got {type(t).__name__}")


@export
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    r""":math:`\sum (x_1 / \max(\|x_1\|, \epsilon)) (x_2 / \max(\|x_2\|, \epsilon))` along ``dim``
    (inputs broadcast). As PyTorch, the clamp does not change the gradient of the norms."""
    _check("cosine_similarity", x1=x1, x2=x2)
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise RuntimeError(f"ember.nn.functional.cosine_similarity: shapes {tuple(x1.shape)} and "
                           f"{tuple(x2.shape)} cannot be broadcast together") from None
    if not x1.is_floating_point():
        x1 = x1.float()
    if not x2.is_floating_point():
        x2 = x2.float()
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = x1.norm(2, dim, keepdim=True)
    n2 = x2.norm(2, dim, keepdim=True)
    n1 = n1 + (n1.clamp_min(eps) - n1).detach()
    n2 = n2 + (n2.clamp_min(eps) - n2).detach()
    return ((x1 / n1) * (x2 / n2)).sum(dim)


@export
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    r""":math:`\|x_1 - x_2 + \epsilon\|_p` over the last dim (inputs broadcast)."""
    _check("pairwise_distance", x1=x1, x2=x2)
    return (x1 - x2 + eps).norm(p, max(x1.ndim, x2.ndim) - 1, keepdim=keepdim)


@export
def pdist(input, p=2):
    r""":math:`\|x_i - x_j\|_p` for every pair of rows :math:`i < j` of an (N, M) input, in
    row-major order of the upper triangle."""
    _check("pdist", input=input)
    if input.ndim != 2:
        raise RuntimeError(f"ember.nn.functional.pdist: expected a 2-D input, got shape {tuple(input.shape)}")
    i, j = np.triu_indices(input.shape[0], 1)
    sel = FUNCTIONS["index_select"]
    from .. import creation  # a layer above ops: import at call time
    return (sel(input, 0, creation.tensor(i)) - sel(input, 0, creation.tensor(j))).norm(p, 1)
