"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty(_like),
arange, linspace, eye, and the random constructors."""
from __future__ import annotations

import math

import numpy as np

from . import dtypes as _dt
from ._tensor import Tensor, _wrap, _as_array
from .random import rng


def _finish(arr, requires_grad, device):
    if device is not None:
        from .device import device as _device
        _device(device).check_available()
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size, opname):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(size)
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            if isinstance(s, Tensor) and s.numel() == 1:
                continue
            raise TypeError(f"ember.{opname}: size must be a sequence of ints, got {size!r}")
        if s < 0:
            raise RuntimeError(f"ember.{opname}: negative dimension {s} in size {size}")
    return tuple(int(s) for s in size)


def _float_dtype(dtype):
    return (_dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()).np


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays, tensors)."""
    arr = _as_array(data, dtype, "tensor")
    arr = np.array(arr, copy=True)
    return _finish(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a NumPy array or tensor when possible."""
    if isinstance(data, Tensor) and (dtype is None or _dt.to_dtype(dtype).np == data._data.dtype):
        return data
    if isinstance(data, np.ndarray) and data.dtype in _dt._BY_NP and dtype is None:
        return _finish(data, False, device)
    return _finish(_as_array(data, dtype, "as_tensor"), False, device)


asarray = as_tensor


def from_numpy(array):
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"ember.from_numpy: expected np.ndarray, got {type(array).__name__}")
    _dt.from_numpy_dtype(array.dtype)
    return _wrap(array)


def _filled(size, value, dtype, requires_grad, device, opname):
    shape = _size(size, opname)
    npd = _dt.to_dtype(dtype).np if dtype is not None else _dt.get_default_dtype().np
    return _finish(np.full(shape, value, dtype=npd), requires_grad, device)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(size, 0, dtype, requires_grad, device, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(size, 1, dtype, requires_grad, device, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None, out=None):
    shape = _size(size, "empty")
    return _finish(np.empty(shape, dtype=_float_dtype(dtype)), requires_grad, device)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        if isinstance(fill_value, Tensor):
            dtype = fill_value.dtype
            fill_value = fill_value.item()
        else:
            dtype = _dt.scalar_dtype(fill_value)
    shape = _size((size,) if isinstance(size, (tuple, list)) else (size,), "full")
    return _finish(np.full(shape, fill_value, dtype=_dt.to_dtype(dtype).np), requires_grad, device)


def _like(input, dtype):
    return input._data.shape, (_dt.to_dtype(dtype).np if dtype is not None else input._data.dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    shape, npd = _like(input, dtype)
    return _finish(np.zeros(shape, npd), requires_grad, device)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    shape, npd = _like(input, dtype)
    return _finish(np.ones(shape, npd), requires_grad, device)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    shape, npd = _like(input, dtype)
    return _finish(np.empty(shape, npd), requires_grad, device)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    shape, npd = _like(input, dtype)
    return _finish(np.full(shape, fill_value, npd), requires_grad, device)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values in ``[start, end)`` spaced by ``step``; int64 unless any bound is a float."""
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if step == 0:
        raise RuntimeError("ember.arange: step must be nonzero")
    n = math.ceil((end - start) / step)
    if n < 0:
        raise RuntimeError(f"ember.arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        is_float = any(isinstance(x, float) for x in (start, end, step))
        dtype = _dt.get_default_dtype() if is_float else _dt.int64
    npd = _dt.to_dtype(dtype).np
    if npd.kind in "iu":
        arr = (start + step * np.arange(n, dtype=np.int64)).astype(npd)
    else:
        arr = (start + step * np.arange(n, dtype=np.float64)).astype(npd)
    return _finish(arr, requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    start, end = (x.item() if isinstance(x, Tensor) else x for x in (start, end))
    if steps < 0:
        raise RuntimeError(f"ember.linspace: number of steps must be non-negative, got {steps}")
    npd = _float_dtype(dtype)
    if npd.kind in "iu":
        arr = np.linspace(start, end, steps, dtype=np.float64).astype(npd)
    else:
        arr = _linspace_torch(start, end, steps).astype(npd)
    return _finish(arr, requires_grad, device)


def _linspace_torch(start, end, steps):
    # PyTorch fills the first half from start and the second half from end, so
    # both endpoints are exact; NumPy's formula differs in the last bits.
    if steps == 1:
        return np.array([start], dtype=np.float64)
    step = (end - start) / (steps - 1)
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    return np.where(i < half, start + step * i, end - step * (steps - 1 - i))


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    arr = base ** _linspace_torch(start, end, steps) if steps > 0 else np.zeros(0)
    return _finish(arr.astype(_float_dtype(dtype)), requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m if m is not None else n, dtype=_float_dtype(dtype)), requires_grad, device)


# --- random ---------------------------------------------------------------------
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    shape = _size(size, "rand")
    npd = _float_dtype(dtype)
    draw_dt = np.float64 if npd == np.float64 else np.float32
    arr = rng(generator).random(shape, dtype=draw_dt).astype(npd, copy=False)
    return _finish(arr, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    shape = _size(size, "randn")
    npd = _float_dtype(dtype)
    draw_dt = np.float64 if npd == np.float64 else np.float32
    arr = rng(generator).standard_normal(shape, dtype=draw_dt).astype(npd, copy=False)
    return _finish(arr, requires_grad, device)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform in [low, high); ``randint(high, size)`` as in PyTorch."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("ember.randint: expected randint(low=0, high, size)")
        low, high, size = 0, low, high
    elif high is None:
        raise TypeError("ember.randint: missing high")
    if high <= low:
        raise RuntimeError(f"ember.randint: expected low < high, got low={low}, high={high}")
    npd = _dt.to_dtype(dtype).np if dtype is not None else np.int64
    arr = rng(generator).integers(low, high, _size((size,), "randint"), dtype=np.int64).astype(npd)
    return _finish(arr, requires_grad, device)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    npd = _dt.to_dtype(dtype).np if dtype is not None else np.int64
    return _finish(rng(generator).permutation(n).astype(npd), requires_grad, device)


def rand_like(input, *, dtype=None, generator=None):
    return rand(input.shape, dtype=dtype or input.dtype, generator=generator)


def randn_like(input, *, dtype=None, generator=None):
    return randn(input.shape, dtype=dtype or input.dtype, generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, generator=generator)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None):
    """Normal samples; ``mean``/``std`` may be tensors (broadcast) or numbers with ``size``."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    z = rng(generator).standard_normal(_size((size,), "normal"))
    npd = _dt.to_dtype(dtype).np if dtype is not None else (
        m.dtype if isinstance(m, np.ndarray) else s.dtype if isinstance(s, np.ndarray)
        else _dt.get_default_dtype().np)
    return _wrap((m + s * z).astype(npd))


def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p``) per element, else 0; same dtype as ``input``."""
    prob = input._data if p is None else np.full(input._data.shape, p)
    draw = rng(generator).random(input._data.shape)
    return _wrap((draw < prob).astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices from rows of (unnormalized) probabilities."""
    p = input._data.astype(np.float64)
    rows = p.reshape(-1, p.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("ember.multinomial: probabilities must be finite and non-negative")
    g = rng(generator)
    out = []
    for r in rows:
        total = r.sum()
        if total <= 0:
            raise RuntimeError("ember.multinomial: a row of probabilities sums to zero")
        if not replacement and num_samples > (r > 0).sum():
            raise RuntimeError("ember.multinomial: cannot sample more categories than have nonzero "
                               "probability without replacement")
        out.append(g.choice(r.size, size=num_samples, replace=replacement, p=r / total))
    arr = np.array(out, dtype=np.int64).reshape(p.shape[:-1] + (num_samples,))
    return _wrap(arr)


# --- in-place random fills (nn.init builds on these) ----------------------------------
def _fill_(t, arr):
    from ._inplace import commit_inplace
    from .autograd.grad_mode import no_grad
    with no_grad():
        return commit_inplace(t, _wrap(arr.astype(t._data.dtype)), "fill")


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    return _fill_(self, rng(generator).uniform(a, b, self._data.shape))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill_(self, mean + std * rng(generator).standard_normal(self._data.shape))


def bernoulli_(self, p=0.5, *, generator=None):
    return _fill_(self, rng(generator).random(self._data.shape) < p)


def exponential_(self, lambd=1.0, *, generator=None):
    return _fill_(self, rng(generator).exponential(1.0 / lambd, self._data.shape))


def random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        from_, to = 0, from_ if from_ else 2 ** 24
    return _fill_(self, rng(generator).integers(from_, to, self._data.shape))


RANDOM_METHODS = {"uniform_": uniform_, "normal_": normal_, "bernoulli_": bernoulli_,
                  "exponential_": exponential_, "random_": random_,
                  "bernoulli": bernoulli, "multinomial": multinomial}
