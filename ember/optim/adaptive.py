"""Per-coordinate adaptive steps: RMSprop, Adagrad, Adadelta (PyTorch's for-loop arithmetic, in NumPy)."""
import numpy as np

from .optimizer import Optimizer, effective_grad, lerp_, addcmul_, addcdiv_, bump, _scalar, _zeros, _wrap


def _count(state):
    s = state["step"]._data
    s += 1
    return float(s)


class RMSprop(Optimizer):
    r""":math:`v_t = \alpha v + (1-\alpha) g^2`; ``centered`` subtracts the squared running mean of g;
    :math:`\theta_t = \theta - \gamma\, g / (\sqrt{v_t} + \epsilon)` (through a momentum buffer
    :math:`b_t = \mu b + g/(\sqrt{v_t}+\epsilon)` when ``momentum`` > 0)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        self._check(lr >= 0.0, f"invalid learning rate: {lr}")
        self._check(eps >= 0.0, f"invalid epsilon value: {eps}")
        self._check(momentum >= 0.0, f"invalid momentum value: {momentum}")
        self._check(weight_decay >= 0.0, f"invalid weight_decay value: {weight_decay}")
        self._check(alpha >= 0.0, f"invalid alpha value: {alpha}")
        self._check_unsupported(differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _step_group(self, group):
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, mom, centered = float(group["weight_decay"]), float(group["momentum"]), group["centered"]
        for p, P, G, state in self._with_grad(group):
            if not state:
                state["step"] = _scalar(0.0)
                state["square_avg"] = _zeros(P)
                if mom > 0:
                    state["momentum_buffer"] = _zeros(P)
                if centered:
                    state["grad_avg"] = _zeros(P)
            _count(state)
            extra = (state["grad_avg"]._data,) if centered else ()
            if mom > 0:
                extra += (state["momentum_buffer"]._data,)
            for P_, G_, v, *rest in self._blocks((P, G, state["square_avg"]._data) + extra, 3):
                *st, tmp, avg, dbuf = rest
                d = effective_grad(P_, G_, wd, group["maximize"], dbuf)
                v *= alpha
                addcmul_(v, d, d, 1 - alpha, tmp)
                if centered:
                    ga = st[0]
                    lerp_(ga, d, 1 - alpha, tmp)
                    np.multiply(ga, ga, out=avg)
                    np.subtract(v, avg, out=avg)
                    np.sqrt(avg, out=avg)
                else:
                    np.sqrt(v, out=avg)
                avg += eps
                if mom > 0:
                    buf = st[-1]
                    buf *= mom
                    np.divide(d, avg, out=tmp)  # addcdiv with value 1
                    buf += tmp
                    np.multiply(buf, lr, out=tmp)
                    P_ -= tmp
                else:
                    addcdiv_(P_, d, avg, -lr, tmp)
            bump(p)


class Adagrad(Optimizer):
    r""":math:`s_t = s + g^2`, :math:`\theta_t = \theta - \frac{\gamma}{1 + (t-1)\eta}\, g / (\sqrt{s_t} + \epsilon)`
    (``lr_decay`` :math:`\eta`); :math:`s_0` = ``initial_accumulator_value``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        self._check(lr >= 0.0, f"invalid learning rate: {lr}")
        self._check(lr_decay >= 0.0, f"invalid lr_decay value: {lr_decay}")
        self._check(weight_decay >= 0.0, f"invalid weight_decay value: {weight_decay}")
        self._check(initial_accumulator_value >= 0.0,
                    f"invalid initial_accumulator_value value: {initial_accumulator_value}")
        self._check(eps >= 0.0, f"invalid epsilon value: {eps}")
        self._check_unsupported(differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        # PyTorch creates Adagrad's state up front, from the constructor's value (not a group's)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p._data, initial_accumulator_value)

    @staticmethod
    def _init_state(state, P, value):
        state["step"] = _scalar(0.0)
        state["sum"] = _wrap(np.full_like(P, value))

    def _step_group(self, group):
        lr, lr_decay, eps, wd = (float(group[k]) for k in ("lr", "lr_decay", "eps", "weight_decay"))
        for p, P, G, state in self._with_grad(group):
            if not state:  # a group added after construction
                self._init_state(state, P, group["initial_accumulator_value"])
            step = _count(state)
            clr = -(lr / (1 + (step - 1) * lr_decay))
            for P_, G_, s, tmp, tmp2, dbuf in self._blocks((P, G, state["sum"]._data), 3):
                d = effective_grad(P_, G_, wd, group["maximize"], dbuf)
                np.multiply(d, d, out=tmp)
                s += tmp
                std = np.sqrt(s, out=tmp)
                std += eps
                addcdiv_(P_, d, std, clr, tmp2)
            bump(p)


class Adadelta(Optimizer):
    r""":math:`v_t = \rho v + (1-\rho) g^2`, :math:`\Delta_t = \sqrt{u + \epsilon} / \sqrt{v_t + \epsilon}\; g`,
    :math:`u_t = \rho u + (1-\rho)\Delta_t^2`, :math:`\theta_t = \theta - \gamma \Delta_t`."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        self._check(lr >= 0.0, f"invalid learning rate: {lr}")
        self._check(0.0 <= rho <= 1.0, f"invalid rho value: {rho}")
        self._check(eps >= 0.0, f"invalid epsilon value: {eps}")
        self._check(weight_decay >= 0.0, f"invalid weight_decay value: {weight_decay}")
        self._check_unsupported(differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _step_group(self, group):
        lr, rho, eps, wd = (float(group[k]) for k in ("lr", "rho", "eps", "weight_decay"))
        for p, P, G, state in self._with_grad(group):
            if not state:
                state["step"] = _scalar(0.0)
                state["square_avg"], state["acc_delta"] = _zeros(P), _zeros(P)
            _count(state)
            for P_, G_, v, u, tmp, delta, dbuf in self._blocks((P, G, state["square_avg"]._data,
                                                                state["acc_delta"]._data), 3):
                d = effective_grad(P_, G_, wd, group["maximize"], dbuf)
                v *= rho
                addcmul_(v, d, d, 1 - rho, tmp)
                std = np.add(v, eps, out=tmp)
                np.sqrt(std, out=std)
                np.add(u, eps, out=delta)
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= d
                u *= rho
                addcmul_(u, delta, delta, 1 - rho, tmp)
                delta *= lr
                P_ -= delta
            bump(p)
