"""Tiny data and models shared by the ember.train tests."""
import numpy as np

import ember
from ember import nn


def blobs(n=96, d=4, c=3, seed=0):
    """Separable-ish classes: float32 x (n, d), int64 y (n,)."""
    rs = np.random.RandomState(seed)
    x = rs.randn(n, d).astype(np.float32)
    y = (x @ rs.randn(d, c)).argmax(1).astype(np.int64)
    return x, y


def mlp(d=4, c=3, hidden=8, dropout=0.0, seed=0):
    ember.manual_seed(seed)
    layers = [nn.Linear(d, hidden), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(hidden, c)]
    return nn.Sequential(*layers)


def weights(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    a = a if isinstance(a, dict) else weights(a)
    b = b if isinstance(b, dict) else weights(b)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), f"{k} differs"
