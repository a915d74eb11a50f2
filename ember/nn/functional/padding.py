"""ember.nn.functional: pad (the registered ``pad`` op: constant, reflect, replicate, circular)."""
from ...ops.registry import FUNCTIONS

pad = FUNCTIONS["pad"]

__all__ = ["pad"]
