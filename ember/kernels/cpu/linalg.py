"""Linear-algebra kernels: matmul, einsum, trace, cross, det, inverse."""
import math

import numpy as np

from ._util import norm_axes, np_dtype  # noqa: F401

__all__ = ["matmul", "einsum", "trace", "cross", "det", "inverse"]

_HALF = (np.dtype(np.float16), np_dtype("bfloat16"))


def _upcast(*arrays):
    """Half-precision operands computed in float32 (as PyTorch's CPU kernels accumulate)."""
    dt = arrays[0].dtype
    if dt in _HALF:
        return dt, [a.astype(np.float32) for a in arrays]
    return None, arrays


def _transposed(x):
    """Whether the last two dims of ``x`` are laid out column-major (a transposed view)."""
    return x.strides[-2] == x.itemsize and x.strides[-1] != x.itemsize and x.shape[-2] > 1


def matmul(a, b):
    half, (a, b) = _upcast(a, b)
    if a.ndim > 2 and b.ndim == 2:
        # (..., k) @ (k, n) as one GEMM: NumPy would run one small GEMM per leading index
        out = np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
    else:
        if b.ndim > 2 and _transposed(b) and not _transposed(a):
            # NumPy's batched matmul runs A @ B^T (B^T a transposed view) at half speed (the
            # attention scores q @ k^T: 0.2 ms vs 0.1 ms); one copy of B^T is cheaper
            b = np.ascontiguousarray(b)
        out = np.matmul(a, b)
    return out.astype(half) if half is not None else np.asarray(out)


def _einsum_matmul(a, b, sa, sb, so):
    """Two-operand einsum as one (batched) np.matmul, as PyTorch does with bmm; None
    where np.einsum does as well (small work, no contraction) or the shape doesn't fit."""
    size = dict(zip(sb, b.shape)) | dict(zip(sa, a.shape))
    if len(set(sa)) != len(sa) or len(set(sb)) != len(sb) or math.prod(size.values()) < 1 << 15:
        return None
    for x, s, other in ((a, sa, sb), (b, sb, sa)):  # labels only one operand has: sum first
        lone = tuple(i for i, c in enumerate(s) if c not in other and c not in so)
        if lone:
            if x is a:
                a, sa = a.sum(axis=lone), "".join(c for c in sa if c in sb or c in so)
            else:
                b, sb = b.sum(axis=lone), "".join(c for c in sb if c in sa or c in so)
    contract = [c for c in sa if c in sb and c not in so]
    left = [c for c in sa if c not in sb]
    right = [c for c in sb if c not in sa]
    batch = [c for c in so if c in sa and c in sb]
    if not contract or not (left or right):
        return None
    if any(a.shape[sa.index(c)] != b.shape[sb.index(c)] for c in contract):
        return None  # a broadcast contracted dim: leave it to np.einsum
    A = a.transpose([sa.index(c) for c in batch + left + contract])
    A = A.reshape(A.shape[:len(batch)] + (math.prod(size[c] for c in left), math.prod(size[c] for c in contract)))
    B = b.transpose([sb.index(c) for c in batch + contract + right])
    B = B.reshape(B.shape[:len(batch)] + (A.shape[-1], math.prod(size[c] for c in right)))
    out = np.matmul(A, B)
    out = out.reshape(out.shape[:len(batch)] + tuple(size[c] for c in left + right))
    order = batch + left + right
    return out.transpose([order.index(c) for c in so])


def einsum(*operands, equation):
    """``np.einsum`` on an explicit equation (no ellipsis; see ops.linalg.einsum)."""
    half, operands = _upcast(*operands)
    ins, so = equation.split("->")
    subs = ins.split(",")
    out = None
    if len(operands) == 2:
        out = _einsum_matmul(operands[0], operands[1], subs[0], subs[1], so)
    if out is None:
        out = np.einsum(equation, *operands, optimize="greedy" if len(operands) > 2 else False)
    out = np.asarray(out)
    if half is not None:
        return out.astype(half)
    return out.copy() if any(np.may_share_memory(out, o) for o in operands) else out


def trace(x):
    return np.asarray(np.trace(x))


def cross(a, b, dim):
    return np.cross(a, b, axis=dim)


def det(x):
    half, (x,) = _upcast(x)
    out = np.asarray(np.linalg.det(x))
    return out.astype(half) if half is not None else out


def inverse(x):
    half, (x,) = _upcast(x)
    try:
        out = np.linalg.inv(x)
    except np.linalg.LinAlgError:
        raise ValueError("the input matrix is singular (not invertible)") from None
    return out.astype(half) if half is not None else out

