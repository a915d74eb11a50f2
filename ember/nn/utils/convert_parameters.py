"""Flatten parameters into one vector and back (torch.nn.utils.convert_parameters)."""
from ..._tensor import Tensor
from ...ops.registry import FUNCTIONS

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """One 1-D tensor of every parameter's entries, in order (differentiable)."""
    return FUNCTIONS["cat"]([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (each keeps its identity)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"ember.nn.utils.vector_to_parameters: expected ember.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"ember.nn.utils.vector_to_parameters: vec of shape {tuple(vec.shape)} does not hold "
                           f"the {total} entries of the parameters")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec[pointer:pointer + n].reshape(p.shape).detach()
        pointer += n
