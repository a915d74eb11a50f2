"""Padding layers: constant (zero), reflection, replication and circular, 1-3 spatial dims.

``padding`` is an int (all sides) or a tuple (left, right[, top, bottom[, front, back]]),
last dim first, as :func:`ember.nn.functional.pad`.
"""
from .module import Module
from .. import functional as F

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _widths(padding, nd):
    return tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * nd)


class _PadNd(Module):
    mode = "constant"
    nd = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(padding, self.nd)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    r""":math:`y` = ``input`` surrounded by ``value``."""

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros."""
    nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dims with zeros."""
    nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dims with zeros."""
    nd = 3


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with a constant ``value``."""
    nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with a constant ``value``."""
    nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with a constant ``value``."""
    nd = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dim with the reflection of the input (edge not repeated)."""
    nd = 1
    mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Pads the last 2 dims with the reflection of the input (edge not repeated)."""
    nd = 2
    mode = "reflect"


class ReflectionPad3d(_PadNd):
    """Pads the last 3 dims with the reflection of the input (edge not repeated)."""
    nd = 3
    mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating the edge values."""
    nd = 1
    mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Pads the last 2 dims by repeating the edge values."""
    nd = 2
    mode = "replicate"


class ReplicationPad3d(_PadNd):
    """Pads the last 3 dims by repeating the edge values."""
    nd = 3
    mode = "replicate"


class CircularPad1d(_PadNd):
    """Pads the last dim circularly: values wrap around."""
    nd = 1
    mode = "circular"


class CircularPad2d(_PadNd):
    """Pads the last 2 dims circularly: values wrap around."""
    nd = 2
    mode = "circular"


class CircularPad3d(_PadNd):
    """Pads the last 3 dims circularly: values wrap around."""
    nd = 3
    mode = "circular"
