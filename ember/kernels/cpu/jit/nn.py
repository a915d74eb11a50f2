"""Fused loops behind the nn kernels (embedding)."""
from ._njit import njit


@njit
def embedding_backward(rows, idx, out):
    """``out[idx[i]] += rows[i]`` in index order (the order a stable sort + reduceat sums in);
    returns the position of the first index outside ``[0, len(out))``, or -1."""
    n = out.shape[0]
    for i in range(idx.size):
        j = idx[i]
        if j < 0 or j >= n:
            return i
        o = out[j]
        r = rows[i]
        for c in range(o.size):
            o[c] += r[c]
    return -1
