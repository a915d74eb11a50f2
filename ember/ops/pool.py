"""pool ops."""
from . import registry as R  # noqa: F401
from .registry import register, export, METHODS, FUNCTIONS, call  # noqa: F401
