"""Datasets, samplers and the DataLoader, with PyTorch's API (``torch.utils.data``).

``ember.data.datasets`` holds loaders for small bundled and local datasets (scikit-learn's
toy sets, MNIST / Fashion-MNIST IDX files, CIFAR-10 binary batches).
"""
from ._utils import WorkerInfo, get_worker_info  # noqa: F401
from .collate import collate, default_collate, default_collate_fn_map, default_convert  # noqa: F401
from .dataloader import DataLoader  # noqa: F401
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,  # noqa: F401
                      Subset, TensorDataset, random_split)
from .distributed import DistributedSampler  # noqa: F401
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,  # noqa: F401
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "WorkerInfo", "collate",
           "default_collate", "default_convert", "get_worker_info", "random_split"]


def __getattr__(name):
    if name == "datasets":  # loaded on first use
        import importlib
        return importlib.import_module(".datasets", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
