"""The op library. Importing this package registers every op family."""
from . import registry  # noqa: F401
from . import elementwise, activation, reduce, scan, movement, rearrange, indexing, scatter, linalg, sorting  # noqa: F401
