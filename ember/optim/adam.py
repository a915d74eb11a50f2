"""The Adam family: Adam, AdamW, Adamax, NAdam, RAdam (PyTorch's for-loop arithmetic, in NumPy)."""
import numpy as np

from .optimizer import Optimizer, effective_grad, lerp_, addcmul_, addcdiv_, bump, _scalar, _zeros, fused_loops


_EMPTY = {"f": np.empty(0, np.float32), "d": np.empty(0, np.float64)}  # the fused loop's unused vmax


class _AdamBase(Optimizer):
    """Shared validation and moment updates of the Adam family."""

    def _validate(self, lr, betas, eps, weight_decay, differentiable):
        self._check(lr >= 0.0, f"invalid learning rate: {lr}")
        self._check(eps >= 0.0, f"invalid epsilon value: {eps}")
        self._check(0.0 <= betas[0] < 1.0, f"invalid beta parameter at index 0: {betas[0]}")
        self._check(0.0 <= betas[1] < 1.0, f"invalid beta parameter at index 1: {betas[1]}")
        self._check(weight_decay >= 0.0, f"invalid weight_decay value: {weight_decay}")
        self._check_unsupported(differentiable)

    @staticmethod
    def _decay(P, G, lr, wd, decoupled, maximize, out=None):
        """Weight decay (decoupled: shrink the parameter; else: add to the gradient) and maximize."""
        if wd != 0 and decoupled:
            P *= 1 - lr * wd
            wd = 0.0
        return effective_grad(P, G, wd, maximize, out)

    @staticmethod
    def _moments(m, v, d, beta1, beta2, tmp):
        """``m.lerp_(d, 1 - beta1)``; ``v = beta2 v + (1 - beta2) d^2``."""
        lerp_(m, d, 1 - beta1, tmp)
        v *= beta2
        addcmul_(v, d, d, 1 - beta2, tmp)

    @staticmethod
    def _step_count(state):
        s = state["step"]._data
        s += 1
        return float(s)


class Adam(_AdamBase):
    r""":math:`m_t = \beta_1 m + (1-\beta_1) g`, :math:`v_t = \beta_2 v + (1-\beta_2) g^2`,
    :math:`\theta_t = \theta - \gamma\,\hat m_t / (\sqrt{\hat v_t} + \epsilon)` with bias-corrected
    :math:`\hat m, \hat v`; ``amsgrad`` uses the running max of :math:`v`; ``decoupled_weight_decay``
    shrinks :math:`\theta` by :math:`1-\gamma\lambda` instead of adding :math:`\lambda\theta` to g (AdamW)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        self._validate(lr, betas, eps, weight_decay, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _step_group(self, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
        last = scalars = None
        for p, P, G, state in self._with_grad(group):
            if not state:
                state["step"] = _scalar(0.0)
                state["exp_avg"], state["exp_avg_sq"] = _zeros(P), _zeros(P)
                if amsgrad:
                    state["max_exp_avg_sq"] = _zeros(P)
            step = self._step_count(state)
            step_size = lr / (1 - beta1 ** step)
            bc2_sqrt = (1 - beta2 ** step) ** 0.5
            arrays = (P, G, state["exp_avg"]._data, state["exp_avg_sq"]._data)
            if amsgrad:
                arrays += (state["max_exp_avg_sq"]._data,)
            jit = fused_loops(arrays)
            if jit is not None:
                key = (step, P.dtype)
                if key != last:  # the scalars, in the parameter's dtype (usually one set per step)
                    last, t = key, P.dtype.type
                    w1 = 1 - beta1
                    big = abs(w1) >= 0.5
                    scalars = (t(1 - lr * wd) if decoupled else t(1), t(0 if decoupled else wd), maximize,
                               t(1) - t(w1) if big else t(w1), big, t(1 - beta2), t(beta2), t(bc2_sqrt),
                               t(eps), t(-step_size), amsgrad)
                m, v = arrays[2], arrays[3]
                jit.adam(P.reshape(-1), G.reshape(-1), m.reshape(-1), v.reshape(-1),
                         arrays[4].reshape(-1) if amsgrad else _EMPTY[P.dtype.char], *scalars)
                bump(p)
                continue
            for P_, G_, m, v, *vmax, tmp, den, dbuf in self._blocks(arrays, 3):
                d = self._decay(P_, G_, lr, wd, decoupled, maximize, dbuf)
                self._moments(m, v, d, beta1, beta2, tmp)
                if amsgrad:
                    v = np.maximum(vmax[0], v, out=vmax[0])
                np.sqrt(v, out=den)
                den /= bc2_sqrt
                den += eps
                addcdiv_(P_, m, den, -step_size, tmp)
            bump(p)


class AdamW(Adam):
    r"""Adam with decoupled weight decay: :math:`\theta \leftarrow \theta(1-\gamma\lambda)` before the
    Adam update (weight_decay defaults to 1e-2)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


class Adamax(_AdamBase):
    r"""Adam with the infinity norm: :math:`u_t = \max(\beta_2 u, |g| + \epsilon)`,
    :math:`\theta_t = \theta - \frac{\gamma}{1-\beta_1^t} m_t / u_t`."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        self._validate(lr, betas, eps, weight_decay, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _step_group(self, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        maximize = group["maximize"]
        for p, P, G, state in self._with_grad(group):
            if not state:
                state["step"] = _scalar(0.0)
                state["exp_avg"], state["exp_inf"] = _zeros(P), _zeros(P)
            step = self._step_count(state)
            for P_, G_, m, u, tmp, dbuf in self._blocks((P, G, state["exp_avg"]._data, state["exp_inf"]._data), 2):
                d = effective_grad(P_, G_, wd, maximize, dbuf)
                lerp_(m, d, 1 - beta1, tmp)
                u *= beta2
                np.abs(d, out=tmp)
                tmp += eps
                np.maximum(u, tmp, out=u)
                addcdiv_(P_, m, u, -(lr / (1 - beta1 ** step)), tmp)
            bump(p)


class NAdam(_AdamBase):
    r"""Adam with Nesterov momentum and a momentum schedule
    :math:`\mu_t = \beta_1(1 - \tfrac12 0.96^{t\psi})` (``momentum_decay`` :math:`\psi`)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        self._validate(lr, betas, eps, weight_decay, differentiable)
        self._check(momentum_decay >= 0.0, f"invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _step_group(self, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        psi, maximize, decoupled = float(group["momentum_decay"]), group["maximize"], group["decoupled_weight_decay"]
        for p, P, G, state in self._with_grad(group):
            if not state:
                state["step"], state["mu_product"] = _scalar(0.0), _scalar(1.0)
                state["exp_avg"], state["exp_avg_sq"] = _zeros(P), _zeros(P)
            step = self._step_count(state)
            bc2 = 1 - beta2 ** step
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            mp = state["mu_product"]._data
            mp *= mu  # in the state's (float32) precision, as PyTorch
            mu_product = float(mp)
            c_grad, c_avg = -lr * (1.0 - mu) / (1.0 - mu_product), (-lr * mu_next) / (1.0 - mu_product * mu_next)
            for P_, G_, m, v, tmp, den, dbuf in self._blocks((P, G, state["exp_avg"]._data,
                                                              state["exp_avg_sq"]._data), 3):
                d = self._decay(P_, G_, lr, wd, decoupled, maximize, dbuf)
                self._moments(m, v, d, beta1, beta2, tmp)
                np.divide(v, bc2, out=den)
                np.sqrt(den, out=den)
                den += eps
                addcdiv_(P_, d, den, c_grad, tmp)
                addcdiv_(P_, m, den, c_avg, tmp)
            bump(p)


class RAdam(_AdamBase):
    r"""Rectified Adam: the adaptive step is used (scaled by the variance rectification term) once
    the SMA length :math:`\rho_t > 5`; before that, an SGD-with-momentum step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        self._validate(lr, betas, eps, weight_decay, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _step_group(self, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1
        for p, P, G, state in self._with_grad(group):
            if not state:
                state["step"] = _scalar(0.0)
                state["exp_avg"], state["exp_avg_sq"] = _zeros(P), _zeros(P)
            step = self._step_count(state)
            bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 \
                if rho_t > 5.0 else None
            for P_, G_, m, v, tmp, ada, dbuf in self._blocks((P, G, state["exp_avg"]._data,
                                                              state["exp_avg_sq"]._data), 3):
                d = self._decay(P_, G_, lr, wd, decoupled, maximize, dbuf)
                self._moments(m, v, d, beta1, beta2, tmp)
                upd = np.divide(m, bc1, out=tmp)
                upd *= lr
                if rect is not None:
                    np.sqrt(v, out=ada)
                    ada += eps
                    np.reciprocal(ada, out=ada)  # PyTorch's scalar / tensor is reciprocal() * scalar
                    ada *= bc2 ** 0.5
                    upd *= ada
                    upd *= rect
                P_ -= upd
            bump(p)
