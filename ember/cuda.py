"""``ember.cuda``: the CUDA backend's namespace. This build computes on the CPU, so
``is_available()`` is False and code written as ``'cuda' if ember.cuda.is_available()
else 'cpu'`` runs unchanged."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Seeding CUDA generators is a no-op without CUDA (as in PyTorch)."""


manual_seed_all = manual_seed


def synchronize(device=None):
    pass
