"""``ember.utils.data.DataLoader`` and friends, for code written as ``torch.utils.data``; the
implementation lives in ``ember.data``."""
from ..data import *  # noqa: F401,F403
from ..data import __all__, default_collate_fn_map, distributed  # noqa: F401
