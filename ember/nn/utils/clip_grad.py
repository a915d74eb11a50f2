"""Gradient clipping: by total norm and by value (torch.nn.utils.clip_grad)."""
import types
import warnings

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.registry import FUNCTIONS

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _scale_(g, coef):
    """``g *= coef`` in place; a read-only gradient buffer (one the engine shares) is copied first."""
    if not g._data.flags.writeable:
        g._data = g._data.copy()
    g.mul_(coef)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated): the norm of their norms."""
    tensors = _tensors(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return FUNCTIONS["tensor"](0.0)
    with no_grad():
        norms = [FUNCTIONS["norm"](t, p=norm_type) if t.numel() else FUNCTIONS["zeros"]((), dtype=t.dtype)
                 for t in tensors]
        total = FUNCTIONS["norm"](FUNCTIONS["stack"](norms), p=norm_type)
    if error_if_nonfinite and not bool(FUNCTIONS["isfinite"](total)):
        raise RuntimeError(f"ember.nn.utils.clip_grad_norm_: the total norm of order {norm_type} for gradients "
                           f"from `parameters` is non-finite, so it cannot be clipped. To disable this error and "
                           f"scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by ``min(1, max_norm / (total_norm + 1e-6))`` in place."""
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return
    with no_grad():
        coef = FUNCTIONS["clamp"](float(max_norm) / (total_norm + 1e-6), max=1.0)
        for g in grads:
            _scale_(g, coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of ``parameters`` in place so that their total ``norm_type``-norm
    is at most ``max_norm``; returns the total norm before clipping (a 0-d tensor)."""
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _tensors(parameters)
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    warnings.warn("`ember.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`ember.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _tensors(parameters):
            g = p.grad
            if g is not None:
                if not g._data.flags.writeable:
                    g._data = g._data.copy()
                g.clamp_(min=-clip_value, max=clip_value)
