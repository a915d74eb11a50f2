"""ember.nn.functional: normalization (layer/rms/batch/group/instance norm, local response norm).

The ops-backed functions live in ember.ops.norm (ember.layer_norm ... at top level, as torch)."""
from ...ops.norm import (layer_norm, rms_norm, group_norm, functional_batch_norm as batch_norm,  # noqa: F401
                         functional_instance_norm as instance_norm, _check_input)
from ...ops.registry import FUNCTIONS

__all__ = ["layer_norm", "rms_norm", "batch_norm", "group_norm", "instance_norm", "local_response_norm"]


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    r""":math:`b_c = a_c / (k + \frac{\alpha}{n} \sum_{c'} a_{c'}^2)^{\beta}` over a window of ``size``
    neighbouring channels (zero padded)."""
    _check_input(input, "local_response_norm")
    if input.ndim < 3:
        raise ValueError(f"ember.nn.functional.local_response_norm: expected 3D or higher input, got "
                         f"{input.ndim}D input")
    if input.numel() == 0:
        return input
    from ... import creation
    c = input.shape[1]
    sq = input * input
    front, back = size // 2, (size - 1) // 2
    pads = [creation.zeros(input.shape[0], p, *input.shape[2:], dtype=input.dtype) for p in (front, back)]
    padded = FUNCTIONS["cat"]([pads[0], sq, pads[1]], 1)
    s = padded[:, 0:c]
    for i in range(1, size):  # a window of `size` channels: one slice per offset, not per element
        s = s + padded[:, i:i + c]
    return input / (s * (alpha / size) + k) ** beta
