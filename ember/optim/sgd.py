"""Stochastic gradient descent (with momentum, dampening, Nesterov, weight decay)."""
import numpy as np

from .optimizer import Optimizer, effective_grad, bump, _wrap


class SGD(Optimizer):
    r"""SGD: with momentum :math:`\mu`, :math:`b_t = \mu b_{t-1} + (1-\tau) g_t` (:math:`b_1 = g_1`),
    then :math:`\theta_t = \theta_{t-1} - \gamma\,(g_t + \mu b_t \text{ if nesterov else } b_t)`,
    where :math:`g_t = \nabla + \lambda\theta_{t-1}` (weight decay :math:`\lambda`)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        self._check(lr >= 0.0, f"invalid learning rate: {lr}")
        self._check(momentum >= 0.0, f"invalid momentum value: {momentum}")
        self._check(weight_decay >= 0.0, f"invalid weight_decay value: {weight_decay}")
        self._check(not nesterov or (momentum > 0 and dampening == 0),
                    "Nesterov momentum requires a momentum and zero dampening")
        self._check_unsupported(differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _step_group(self, group):
        lr, mom, damp = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        wd, nesterov, maximize = float(group["weight_decay"]), group["nesterov"], group["maximize"]
        for p, P, G, state in self._with_grad(group, stateful=mom != 0):
            d = effective_grad(P, G, wd, maximize)
            tmp = B = None  # a scratch array, once one exists; the momentum buffer
            if mom != 0:
                buf = state.get("momentum_buffer")
                if buf is None:
                    B = np.array(d, copy=True)
                    state["momentum_buffer"] = _wrap(B)
                else:
                    B = buf._data
                    B *= mom
                    if damp == 0:
                        B += d
                    else:
                        tmp = np.multiply(d, 1 - damp, out=np.empty_like(P))
                        B += tmp
                if nesterov:
                    tmp = np.multiply(B, mom, out=np.empty_like(P) if tmp is None else tmp)
                    d = np.add(d, tmp, out=tmp)
                else:
                    d = B
            if d is G or d is B:  # not ours to scale in place
                d = np.multiply(d, lr, out=np.empty_like(P) if tmp is None else tmp)
            else:
                d *= lr
            P -= d
            bump(p)
