"""Ready-made datasets: scikit-learn's bundled toy sets (``load_digits`` ...), MNIST /
Fashion-MNIST IDX files and CIFAR-10 binary batches from a local folder, and ``download``."""
from .fetch import download, download_url, instructions  # noqa: F401
from .tabular import (ArrayDataset, load_breast_cancer, load_diabetes, load_digits, load_iris,  # noqa: F401
                      load_wine)
from .vision import CIFAR10, MNIST, FashionMNIST, read_cifar10_batch, read_idx  # noqa: F401
