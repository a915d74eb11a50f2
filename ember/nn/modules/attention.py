"""attention modules."""
from .module import Module  # noqa: F401

__all__ = []
