"""Optimizers and learning-rate schedulers with PyTorch's API and numerics (``torch.optim``)."""
from .optimizer import Optimizer, required, register_optimizer_step_pre_hook, register_optimizer_step_post_hook  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam, AdamW, Adamax, NAdam, RAdam  # noqa: F401
from .adaptive import RMSprop, Adagrad, Adadelta  # noqa: F401
from . import lr_scheduler  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta",
           "lr_scheduler", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]
