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


@njit
def bias_relu(out, b, lo, hi):
    """Rows ``lo:hi`` of ``out`` (rows, n) become ``max(out + b, 0)`` in place (relu(-0.0) = -0.0
    and nan passes, as the relu loop); ``b`` (n,) or empty (no bias)."""
    out = out[lo:hi]
    for r in range(out.shape[0]):
        o = out[r]
        for j in range(o.size):
            v = o[j] + b[j] if b.size else o[j]
            o[j] = v if v >= 0 or v != v else 0
