"""CPU kernels: functions of NumPy arrays, one per registered op, named after it.

Rules every kernel follows (the lite runtime and the compiler call them too):
arrays in, an array (or a tuple of arrays) out; attributes are plain data
(ints, floats, bools, strings, tuples) -- dtypes travel as names like "float32".
"""
import warnings

import numpy as np

# PyTorch computes inf/nan silently; NumPy warns. A filter scoped to the kernel
# modules costs nothing per call, unlike np.errstate on the hot path.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.kernels\.")

from ._memory import tune_malloc  # noqa: E402

tune_malloc()

from . import (elementwise, activation, reduce, movement, indexing, linalg, sorting,  # noqa: E402
               nn, attention, conv, pool, norm, loss, recurrent)

# Kernels by op name. A dict, not the package's attributes: a submodule's name
# (norm, conv, ...) would shadow a kernel of the same name.
KERNELS = {}
for _mod in (elementwise, activation, reduce, movement, indexing, linalg, sorting, nn, attention, conv,
             pool, norm, loss, recurrent):
    for _name in _mod.__all__:
        if _name in KERNELS:
            raise ValueError(f"kernel {_name!r} defined twice ({_mod.__name__})")
        KERNELS[_name] = getattr(_mod, _name)


def copy_slices(base, value, view_ops):
    """``base`` with the region selected by the chain of view ops set to ``value``."""
    out = base.copy(order="K")  # keep the layout so the view chain replays as views
    view = out
    for name, attrs in view_ops:
        view = KERNELS[name](view, **attrs)
    if view.size and not np.may_share_memory(view, out):
        # a reshape in the chain copied (out's layout differs from the original base's):
        # replay the chain on flat indices instead, which is layout-independent
        idx = np.arange(out.size).reshape(out.shape)
        for name, attrs in view_ops:
            idx = KERNELS[name](idx, **attrs)
        out.reshape(-1)[idx] = value
        return out
    view[...] = value
    return out


KERNELS["copy_slices"] = copy_slices
