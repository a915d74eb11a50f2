"""ember.nn.functional: distances (normalize; cosine_similarity, pairwise_distance and pdist live in
ember.ops.distance, top-level functions as in torch)."""
from ...ops.distance import cosine_similarity, pairwise_distance, pdist, _check  # noqa: F401

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "pdist"]


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    r""":math:`x / \max(\|x\|_p, \epsilon)` along ``dim``."""
    _check("normalize", input=input)
    if out is not None:
        raise TypeError("ember.nn.functional.normalize: out= is not supported")
    return input / input.norm(p, dim, keepdim=True).clamp_min(eps)
