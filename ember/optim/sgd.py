"""Stochastic gradient descent (with momentum, dampening, Nesterov, weight decay)."""
import numpy as np

from .optimizer import Optimizer, effective_grad, bump, _wrap, fused_loops


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
            arrays, first = (P, G), False
            if mom != 0:
                buf = state.get("momentum_buffer")
                if buf is None:  # b_1 = g_1, filled below
                    buf = state["momentum_buffer"] = _wrap(np.empty_like(P))
                    first = True
                arrays += (buf._data,)
            jit = fused_loops(arrays)
            if jit is not None:
                t = P.dtype.type
                flat = [a.reshape(-1) for a in arrays]
                jit.sgd(flat[0], flat[1], flat[2] if mom != 0 else flat[0][:0], t(lr), t(wd), t(mom), t(1 - damp),
                        nesterov, maximize, first)
                bump(p)
                continue
            for P_, G_, *B, t1, t2 in self._blocks(arrays, 2):
                d = effective_grad(P_, G_, wd, maximize, t1)
                if B:
                    B = B[0]
                    if first:
                        np.copyto(B, d)
                    else:
                        B *= mom
                        if damp == 0:
                            B += d
                        else:
                            B += np.multiply(d, 1 - damp, out=t2)
                    if nesterov:
                        d = np.add(d, np.multiply(B, mom, out=t2), out=t2)
                    else:
                        d = B
                if d is G_ or d is B:  # not ours to scale in place
                    d = np.multiply(d, lr, out=t2)
                else:
                    d *= lr
                P_ -= d
            bump(p)
