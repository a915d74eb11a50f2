"""Shorthands for defining ops: the common shapes of an entry plus its public API."""
from . import registry as R
from .registry import register, FUNCTIONS, METHODS


def inplace(fn, name):
    """The in-place method ``name`` (e.g. ``exp_``) of the out-of-place function ``fn``."""
    def method(self, *args, **kwargs):
        return R.commit_inplace(self, fn(self, *args, **kwargs), name)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place version of :func:`{fn.__name__}`."
    return method


def unary(name, backward=None, *, save="i", promote="float", fusion="elementwise",
          method=True, inplace_method=True, doc=""):
    """Register a one-input elementwise op; export ``ember.<name>``, ``Tensor.<name>``
    and ``Tensor.<name>_``. Returns the public function."""
    op = register(name, backward, promote=promote, save=save, fusion=fusion, doc=doc)

    def fn(input):
        return R.apply(op, input)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"Elementwise ``{name}``."
    FUNCTIONS[name] = fn
    if method:
        METHODS[name] = fn
    if inplace_method:
        METHODS[name + "_"] = inplace(fn, name + "_")
    return fn
