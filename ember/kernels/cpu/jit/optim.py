"""Fused optimizer updates: one pass over a parameter instead of ~15 NumPy passes.

Each loop performs, per element, exactly the operations (and roundings) of the NumPy
code in ``ember/optim`` it replaces, which mirrors PyTorch's single-tensor updates.
Scalars arrive already cast to the parameter's dtype.
"""
import numpy as np

from ._njit import njit


@njit
def adam(p, g, m, v, vmax, shrink, wd, maximize, w1, big, c2, beta2, bc2_sqrt, eps, neg_step, amsgrad):
    """Adam/AdamW on flat arrays: ``shrink`` = 1 - lr*wd (decoupled) or 1; ``wd`` coupled decay;
    ``m.lerp_(d, 1 - beta1)`` with PyTorch's two formulas (``big``: the weight is >= 0.5 and
    ``w1`` holds 1 - weight). ``vmax`` is empty unless ``amsgrad``."""
    for i in range(p.size):
        pi = p[i]
        if shrink != 1:
            pi = pi * shrink
        gi = -g[i] if maximize else g[i]
        if wd != 0:
            gi = pi * wd + gi
        mi = m[i]
        if big:
            mi = gi - (gi - mi) * w1
        else:
            mi = mi + (gi - mi) * w1
        vi = v[i] * beta2 + gi * c2 * gi
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vm = vmax[i]
            if vm != vm or vm > vi:  # np.maximum: nan wins
                vi = vm
            vmax[i] = vi
        p[i] = pi + mi * neg_step / (np.sqrt(vi) / bc2_sqrt + eps)


@njit
def sgd(p, g, buf, lr, wd, momentum, damp1, nesterov, maximize, first):
    """SGD on flat arrays (``buf`` empty when momentum is 0; ``damp1`` = 1 - dampening);
    ``first``: the momentum buffer starts as the gradient, as in PyTorch."""
    for i in range(p.size):
        d = -g[i] if maximize else g[i]
        if wd != 0:
            d = p[i] * wd + d
        if momentum != 0:
            if first:
                b = d
            else:
                b = buf[i] * momentum + d * damp1
            buf[i] = b
            d = d + b * momentum if nesterov else b
        p[i] = p[i] - d * lr
