"""The op library. Importing this package registers every op family."""
from . import registry  # noqa: F401
from . import elementwise, logical, activation, reduce, scan, movement, rearrange, indexing, scatter, linalg, sorting  # noqa: F401
from . import nn, conv, pool, norm, loss, distance, recurrent  # noqa: F401,E402  (ops behind ember.nn)
