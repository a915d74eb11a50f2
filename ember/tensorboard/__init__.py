"""TensorBoard logging: ``from ember.tensorboard import SummaryWriter`` (torch.utils.tensorboard's API).

Needs the optional ``tensorboard`` package (``pip install ember[tensorboard]``) for its protos; it is
imported when SummaryWriter is first looked up, so ``import ember`` never loads it.
"""
__all__ = ["SummaryWriter", "FileWriter"]


def __getattr__(name):
    if name in __all__:
        from . import writer
        return getattr(writer, name)
    raise AttributeError(f"module 'ember.tensorboard' has no attribute '{name}'")
