"""Ember vs PyTorch, side by side in one run: `python -m bench --help`. See bench/README.md."""
from . import dispatch, inference, memory, startup, training

FAMILIES = (dispatch, training, inference, startup, memory)


def workloads(libs):
    """Every workload, for the libraries given as {"ember": module, "torch": module or absent}.

    Subprocess workloads (import, memory) use only the names."""
    return [w for fam in FAMILIES for w in fam.workloads(libs)]
