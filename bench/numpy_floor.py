"""The MLP training step written directly in NumPy: the floor for a NumPy-backed framework.

Same shapes, float32, ReLU, mean cross-entropy, AdamW (lr 1e-3, betas (0.9, 0.999), eps 1e-8,
weight_decay 1e-2, torch's update order). Written as a careful NumPy programmer would: array-level
ops, in-place updates with out=, no framework. Whatever Ember adds on top of this is its overhead.
"""
import numpy as np

from .models import MLP, data


def mlp_step(seed=0, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    rs = np.random.default_rng(seed)
    sizes = MLP["sizes"]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(a)                    # nn.Linear's default init range
        params += [rs.uniform(-bound, bound, (b, a)).astype(np.float32),
                   rs.uniform(-bound, bound, b).astype(np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    tmp = [np.empty_like(p) for p in params]
    x, y = data("mlp", seed)
    n, rows = len(y), np.arange(len(y))
    t = [0]

    def step():
        # forward: h_i = relu(h_{i-1} @ W_i.T + b_i)
        acts, h = [x], x
        for i in range(0, len(params), 2):
            h = h @ params[i].T
            h += params[i + 1]
            if i + 2 < len(params):
                np.maximum(h, 0, out=h)
            acts.append(h)
        # cross-entropy gradient: (softmax - onehot) / n
        g = acts[-1] - acts[-1].max(1, keepdims=True)
        np.exp(g, out=g)
        g /= g.sum(1, keepdims=True)
        g[rows, y] -= 1
        g /= n
        grads = [None] * len(params)
        for i in range(len(params) - 2, -1, -2):
            grads[i], grads[i + 1] = g.T @ acts[i // 2], g.sum(0)
            if i:
                g = g @ params[i]
                g *= acts[i // 2] > 0
        # AdamW
        t[0] += 1
        b1, b2 = betas
        bc1, bc2 = 1 - b1 ** t[0], 1 - b2 ** t[0]
        for p, g, m_, v_, d in zip(params, grads, m, v, tmp):
            p *= 1 - lr * weight_decay
            m_ *= b1
            m_ += (1 - b1) * g
            v_ *= b2
            np.multiply(g, g, out=d)
            d *= 1 - b2
            v_ += d
            np.sqrt(v_, out=d)
            d /= np.sqrt(bc2)
            d += eps
            np.divide(m_, d, out=d)
            d *= lr / bc1
            p -= d
    step.params = params                          # for the parity test
    return step
