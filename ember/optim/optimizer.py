"""Optimizer base: param groups, per-parameter state, PyTorch-layout state_dict, step hooks.

Built-in optimizers update ``p._data`` in place with NumPy (no graph is recorded)
and bump each parameter's version counter, so autograd sees the write as PyTorch
would. Their state lives in NumPy-backed ember tensors, so ``state_dict`` holds
tensors exactly where PyTorch's does.
"""
from __future__ import annotations

import functools
import itertools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor, _wrap, _counter
from ..autograd.grad_mode import no_grad, enable_grad
from ..kernels.cpu import jit as _jit

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks an option every param group must give (``defaults={'lr': required}``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class RemovableHandle:
    _ids = itertools.count()

    def __init__(self, hooks):
        self.hooks, self.id = hooks, next(self._ids)

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks, hook, prepend=False):
    h = RemovableHandle(hooks)
    hooks[h.id] = hook
    if prepend:
        hooks.move_to_end(h.id, last=False)
    return h


_global_pre_hooks, _global_post_hooks = OrderedDict(), OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` before every optimizer's step."""
    return _add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` after every optimizer's step."""
    return _add_hook(_global_post_hooks, hook)


def _hooked(step):
    """Wrap a ``step`` with the global and per-instance hooks (once, however deep the super() chain)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_in_step"):
            return step(self, *args, **kwargs)
        for hook in itertools.chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            r = hook(self, args, kwargs)
            if r is not None:
                if not (isinstance(r, tuple) and len(r) == 2):
                    raise RuntimeError(f"ember.optim.{type(self).__name__}: a step pre-hook must return None "
                                       f"or a tuple (new_args, new_kwargs), got {r!r}")
                args, kwargs = r
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        self._opt_called = True  # lets an LR scheduler check the call order
        for hook in itertools.chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
            hook(self, args, kwargs)
        return out
    wrapper.hooked = True
    return wrapper


def _scalar_dtype():
    """``state['step']`` dtype, as PyTorch: float64 under a float64 default dtype, else float32."""
    return np.float64 if _dt.get_default_dtype() == _dt.float64 else np.float32


def _scalar(value):
    """A 0-d state tensor (``step``, ``mu_product``)."""
    return _wrap(np.array(value, _scalar_dtype()))


_BLOCK = 1 << 18  # bytes per array in Optimizer._blocks: ~7 arrays of it fit a 2 MiB L2


def _zeros(a):
    return _wrap(np.zeros_like(a))


class Optimizer:
    """Base class: ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts
    (param groups, each with its own options); ``defaults`` fills the options a group leaves out.

    Subclasses either implement ``_step_group(group)`` (the built-in ``step`` runs it for every
    group under no_grad, after evaluating ``closure`` with grad enabled) or override ``step``.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            self._fail(TypeError, "params argument given to the optimizer should be an iterable of "
                                  "Tensors or dicts, but got a Tensor")
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            self._fail(ValueError, "optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked(step)

    def _fail(self, exc, msg):
        raise exc(f"ember.optim.{type(self).__name__}: {msg}")

    def _check(self, ok, msg):
        """Raise ``ValueError('ember.optim.<Name>: msg')`` unless ``ok`` (option validation)."""
        if not ok:
            self._fail(ValueError, msg)

    def _check_unsupported(self, differentiable=False):
        if differentiable:
            self._fail(NotImplementedError, "differentiable=True is not supported (steps update the "
                                            "parameters' arrays in place, outside the graph)")

    # --- pickling / loading -------------------------------------------------------------
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:  # groups saved by an older version may lack newer options
            for k, v in self.defaults.items():
                if v is not required:
                    group.setdefault(k, v)
        for s in self.state.values():  # PyTorch < 1.12 saved steps as numbers
            for k in ("step", "mu_product"):
                if k in s and not isinstance(s[k], Tensor):
                    s[k] = _scalar(float(s[k]))

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for k in sorted(group):
                if k != "params":
                    s += f"    {k}: {group[k]}\n"
        return s + ")"

    # --- hooks --------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # --- state_dict ---------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` as in PyTorch.

        Like PyTorch, the state tensors are the live ones: deep-copy the result to keep a snapshot.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index, groups, start = {}, [], 0
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            for i, p in enumerate(g["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in g["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            r = hook(self, sd)
            if r is not None:
                sd = r
        return sd

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()`` (this optimizer's or PyTorch's layout, with ember tensors or
        NumPy arrays); state tensors are copied, cast to their parameter's dtype (not ``step``)."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            r = hook(self, state_dict)
            if r is not None:
                state_dict = r
        groups = self.param_groups
        saved = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved):
            self._fail(ValueError, f"loaded state dict has {len(saved)} parameter groups, the optimizer "
                                   f"has {len(groups)}")
        for i, (g, s) in enumerate(zip(groups, saved)):
            if len(g["params"]) != len(s["params"]):
                self._fail(ValueError, f"loaded state dict's parameter group {i} has {len(s['params'])} "
                                       f"parameters, the optimizer's has {len(g['params'])}")
        id_map = dict(zip(itertools.chain.from_iterable(s["params"] for s in saved),
                          itertools.chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, (Tensor, np.ndarray)):
                a = value._data if isinstance(value, Tensor) else value
                keep = key == "step" or not param.is_floating_point() or a.dtype.kind != "f"
                return _wrap(np.array(a, dtype=None if keep else param._data.dtype, copy=True))
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v
        new_groups = []
        for g, s in zip(groups, saved):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    # --- groups -------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (the defaults fill the rest)."""
        if not isinstance(param_group, dict):
            self._fail(TypeError, f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            self._fail(TypeError, "optimizer parameters need to be organized in ordered collections, "
                                  "but the ordering of tensors in sets will change between runs. "
                                  "Please use a list instead.")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                self._fail(ValueError, "all optimizer params should be with/without names. "
                                       "Some param names are missing")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                self._fail(TypeError, f"can only optimize Tensors, but one of the params is "
                                      f"{type(p).__module__}.{type(p).__name__}")
            if not self.defaults.get("differentiable") and not (p.is_leaf or p.retains_grad):
                self._fail(ValueError, "can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                self._fail(ValueError, f"parameter group didn't specify a value of required "
                                       f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("ember.optim: optimizer contains a parameter group with duplicate parameters",
                          UserWarning, stacklevel=3)
        seen = set()
        for g in self.param_groups:
            seen.update(id(p) for p in g["params"])
            if ("param_names" in param_group) != ("param_names" in g):
                self._fail(ValueError, "all optimizer param groups should be with/without names. cannot add "
                                       f"param group {'with' if names else 'without'} names to the optimizer")
        if any(id(p) in seen for p in params):
            self._fail(ValueError, "some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # --- stepping -----------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset gradients: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g._node is not None:
                    g.detach_()
                g._rg = False
                if g._data.flags.writeable:
                    g._data.fill(0)
                    _counter(g)[0] += 1
                else:
                    p.grad = _wrap(np.zeros_like(g._data))

    def step(self, closure=None):
        """One optimization step; ``closure`` (re-evaluates the model, returns the loss) runs with
        grad enabled and its loss is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):
        raise NotImplementedError(f"ember.optim.{type(self).__name__}: subclasses define step() "
                                  f"or _step_group(group)")

    def _blocks(self, arrays, n_tmp):
        """``arrays`` (a parameter's array, then same-shaped grad and state arrays) in cache-sized
        flat blocks, each followed by ``n_tmp`` scratch arrays of its shape: a step's ~15 passes
        then run in L2 instead of memory (1.4 -> 0.85 ms for a 400k-parameter AdamW step). The
        scratch lives in the optimizer (not in ``state``) and is reused by every parameter."""
        P = arrays[0]
        n, size = P.size, _BLOCK // P.itemsize
        bufs = self.__dict__.setdefault("_scratch", {}).get(P.dtype)
        if bufs is None or len(bufs) < n_tmp:
            bufs = self._scratch[P.dtype] = [np.empty(size, P.dtype) for _ in range(n_tmp)]
        if n <= size:
            yield (*arrays, *(b[:n].reshape(P.shape) for b in bufs[:n_tmp]))
        elif not all(a.flags.c_contiguous for a in arrays):  # flat views would be copies
            yield (*arrays, *(np.empty_like(P) for _ in range(n_tmp)))
        else:
            flat = [a.reshape(-1) for a in arrays]
            for i in range(0, n, size):
                j = min(i + size, n)
                yield (*(a[i:j] for a in flat), *(b[:j - i] for b in bufs[:n_tmp]))

    def _with_grad(self, group, stateful=True):
        """(param, its array, its grad's array, its state) for every param of ``group`` with a grad
        (state None unless ``stateful``: PyTorch's SGD without momentum keeps no state entries)."""
        state = self.state
        for p in group["params"]:
            g = p.grad
            if g is not None:
                yield p, p._data, g._data, state[p] if stateful else None


Optimizer.step = _hooked(Optimizer.step)


# --- array helpers shared by the optimizers (each mirrors PyTorch's op order) -----------
def effective_grad(P, G, weight_decay, maximize, out=None):
    """``(-G if maximize else G) + weight_decay * P``; returns G itself (never written to) when
    there is nothing to add, else ``out`` (a fresh array if None)."""
    if weight_decay:
        d = np.multiply(P, weight_decay, out=np.empty_like(P) if out is None else out)
        return np.subtract(d, G, out=d) if maximize else np.add(d, G, out=d)
    if maximize:
        return np.negative(G, out=np.empty_like(G) if out is None else out)
    return G


def fused_loops(arrays):
    """The compiled optimizer loops (``ember.kernels.cpu.jit.optim``) when they can update these
    arrays in place: numba available, float32/float64, one dtype, all contiguous; else None."""
    dt = arrays[0].dtype
    if dt.char not in "fd" or not all(a.dtype == dt and a.flags.c_contiguous for a in arrays):
        return None
    return _jit.kernels("optim")


def lerp_(a, b, w, tmp):
    """``a += w * (b - a)`` in place with PyTorch's two formulas (exact at w = 1)."""
    np.subtract(b, a, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        np.add(a, tmp, out=a)
    else:
        t = a.dtype.type
        tmp *= t(1) - t(w)
        np.subtract(b, tmp, out=a)


def addcmul_(a, x, y, value, tmp):
    """``a += value * x * y`` in place (``tmp`` a scratch array)."""
    np.multiply(x, value, out=tmp)
    tmp *= y
    a += tmp


def addcdiv_(a, x, y, value, tmp):
    """``a += value * x / y`` in place (``tmp`` a scratch array, not ``y``)."""
    np.multiply(x, value, out=tmp)
    np.divide(tmp, y, out=tmp)
    a += tmp


def bump(p):
    """Record an in-place write to ``p`` (autograd's saved-tensor check reads the counter)."""
    _counter(p)[0] += 1
