"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode.

The flag lives on one small object so the dispatch hot path reads it with a
single attribute lookup.
"""
import functools


class _GradState:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = True


STATE = _GradState()


def is_grad_enabled():
    return STATE.enabled


class _GradMode:
    """Base of the grad-mode context managers; also usable as decorators."""
    _mode = True

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self._mode

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Disable graph recording: results of ops do not require grad."""
    _mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a no_grad block."""
    _mode = True


class inference_mode(_GradMode):
    """Like no_grad (Ember keeps no separate inference tensors); ``mode=False`` is a no-op."""

    def __init__(self, mode=True):
        self._mode = not mode

    def __call__(self, fn):
        mode = not self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper


class set_grad_enabled(_GradMode):
    """Set grad mode; takes effect immediately, and restores it when used with ``with``."""

    def __init__(self, mode):
        self._prev = STATE.enabled
        self._mode = bool(mode)
        STATE.enabled = self._mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False
