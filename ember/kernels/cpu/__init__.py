"""CPU kernels: functions of NumPy arrays, one per registered op, named after it.

Rules every kernel follows (the lite runtime and the compiler call them too):
arrays in, an array (or a tuple of arrays) out; attributes are plain data
(ints, floats, bools, strings, tuples) -- dtypes travel as names like "float32".
"""
import warnings

# PyTorch computes inf/nan silently; NumPy warns. A filter scoped to the kernel
# modules costs nothing per call, unlike np.errstate on the hot path.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.kernels\.")

from .elementwise import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .movement import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403


def copy_slices(base, value, view_ops):
    """``base`` with the region selected by the chain of view ops set to ``value``."""
    out = base.copy()
    view = out
    for name, attrs in view_ops:
        view = globals()[name](view, **attrs)
    view[...] = value
    return out
