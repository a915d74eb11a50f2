"""``ember.nn``: modules, layers, losses and init with PyTorch's names and state_dict keys."""
from .parameter import Parameter, Buffer  # noqa: F401
from . import functional  # noqa: F401
from . import init  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict  # noqa: F401
from . import utils  # noqa: F401
from ..kernels.cpu import jit as _jit

_jit.preload()  # models are built here: load the compiled loops with them, not in the first step
