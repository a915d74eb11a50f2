"""Ember: PyTorch's eager API and TensorFlow's production path, in one package.

``import ember`` loads NumPy and Ember's core only; every optional feature
imports its dependencies when first used.
"""
__version__ = "0.1.0"

from . import dtypes as _dtypes
from .dtypes import (dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16,  # noqa: F401
                     bfloat16, float32, float64, half, float, double, short, int, long,
                     get_default_dtype, set_default_dtype, promote_types)
from .device import device  # noqa: F401
from ._tensor import Tensor, Size, bind_methods as _bind_methods  # noqa: F401
from . import ops as _ops  # registers every op family
from .ops.registry import FUNCTIONS as _FUNCTIONS, METHODS as _METHODS
from . import autograd  # noqa: F401
from .autograd import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled  # noqa: F401
from .random import Generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state  # noqa: F401
from .random import default_generator  # noqa: F401
from .creation import (tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full,  # noqa: F401
                       zeros_like, ones_like, empty_like, full_like, arange, linspace, logspace, eye,
                       rand, randn, randint, randperm, rand_like, randn_like, randint_like, normal,
                       bernoulli, multinomial, RANDOM_METHODS as _RANDOM_METHODS)
from .printing import set_printoptions  # noqa: F401
from .threads import get_num_threads, set_num_threads  # noqa: F401
from . import cuda  # noqa: F401

import math as _math  # noqa: E402
pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan


def _legacy_constructor(dt):
    def ctor(*args):
        """PyTorch's legacy typed constructor: from data, or uninitialised (zeros) of a size."""
        if len(args) == 1 and not isinstance(args[0], _builtins_int):
            return tensor(args[0], dtype=dt)
        return zeros(*args, dtype=dt)
    return ctor


_builtins_int = type(0)
FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor = (_legacy_constructor(d) for d in (float32, float64, float16, bfloat16))
LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = (
    _legacy_constructor(d) for d in (int64, int32, int16, int8, uint8, bool))

_FUNCTIONS.update(zeros=zeros, tensor=tensor)
_METHODS.update(_RANDOM_METHODS)
_bind_methods()
globals().update({k: v for k, v in _FUNCTIONS.items() if k not in ("zeros", "tensor", "cast")})


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def numel(input):
    return input.numel()


def result_type(tensor1, tensor2):
    return _dtypes.result_type(tensor1, tensor2)


def can_cast(from_, to):
    """PyTorch's rule: no cast to a lower category (float -> int, int -> bool)."""
    return _dtypes.to_dtype(from_).category <= _dtypes.to_dtype(to).category


class finfo:
    """Machine limits of a floating dtype (``ember.finfo(ember.float32).eps``)."""

    def __init__(self, type=None):
        import numpy as np
        import ml_dtypes
        d = _dtypes.to_dtype(type) if type is not None else get_default_dtype()
        info = ml_dtypes.finfo(d.np) if d.name == "bfloat16" else np.finfo(d.np)
        self.dtype, self.bits = d.name, info.bits
        self.eps, self.max, self.min = builtins_float(info.eps), builtins_float(info.max), builtins_float(info.min)
        self.tiny = self.smallest_normal = builtins_float(info.tiny)
        self.resolution = builtins_float(info.resolution)


class iinfo:
    def __init__(self, type):
        import numpy as np
        d = _dtypes.to_dtype(type)
        info = np.iinfo(d.np)
        self.dtype, self.bits, self.max, self.min = d.name, info.bits, builtins_int(info.max), builtins_int(info.min)


import builtins as _builtins  # noqa: E402
builtins_float, builtins_int = _builtins.float, _builtins.int
del _builtins


def save(obj, f):
    """Save tensors, state dicts and nested containers as safetensors (never pickle); see ember.io.save."""
    from .io import save as _save
    _save(obj, f)


def load(f, map_location=None, mmap=True, weights_only=True, **kwargs):
    """Load ember.save / safetensors files and torch.save checkpoints without running code; see ember.io.load."""
    from .io import load as _load
    return _load(f, map_location=map_location, mmap=mmap, weights_only=weights_only, **kwargs)


def __getattr__(name):
    # the layers above the core (nn, optim, data, ...) load on first use: import ember stays fast
    if name in ("nn", "optim", "data", "utils", "io", "tensorboard", "train"):
        import importlib
        return importlib.import_module(f"ember.{name}")
    raise AttributeError(f"module 'ember' has no attribute {name!r}")
