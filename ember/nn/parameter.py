"""``Parameter``: a Tensor that a Module registers as a learnable weight."""
from .._tensor import Tensor, _init, _as_array


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered by ``Module.__setattr__``."""
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            import numpy as np
            arr = np.empty(0, np.float32)
        else:
            arr = data._data if isinstance(data, Tensor) else _as_array(data, None, "Parameter")
        _init(self, arr)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        p = Parameter(self._data.copy(), requires_grad=self._rg)
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute."""
    __slots__ = ()

    def __init__(self, data, *, persistent=True):
        _init(self, data._data if isinstance(data, Tensor) else _as_array(data, None, "Buffer"))
