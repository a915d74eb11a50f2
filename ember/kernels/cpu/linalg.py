"""Linear-algebra kernels: matmul, einsum, trace, cross, det, inverse."""
import math

import numpy as np

from ._parallel import split_ufunc, worth_splitting
from ._util import norm_axes, np_dtype  # noqa: F401

__all__ = ["matmul", "einsum", "trace", "cross", "det", "inverse"]

_HALF = (np.dtype(np.float16), np_dtype("bfloat16"))
# OpenBLAS runs a GEMM with m*n*k below this on one thread (SMP_THRESHOLD_MIN *
# GEMM_MULTITHREAD_THRESHOLD), so a batch of such GEMMs can be split over our threads
_BLAS_SERIAL_MNK = 1 << 18
_MACS_PER_OP = 8  # multiply-adds in a GEMM cost about an eighth of an elementwise op


def _upcast(*arrays):
    """Half-precision operands computed in float32 (as PyTorch's CPU kernels accumulate)."""
    dt = arrays[0].dtype
    if dt in _HALF:
        return dt, [a.astype(np.float32) for a in arrays]
    return None, arrays


def matmul(a, b):
    half, (a, b) = _upcast(a, b)
    if a.ndim > 2 and b.ndim == 2:
        # (..., k) @ (k, n) as one GEMM: NumPy would run one small GEMM per leading index
        out = np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
    elif a.ndim > 2 and b.ndim >= 2 and a.dtype.kind == "f" and a.dtype == b.dtype:
        m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
        per_row = math.prod(a.shape[1:-2]) * m * n * k // _MACS_PER_OP
        if m * n * k < _BLAS_SERIAL_MNK and a.shape[0] > 1 and worth_splitting(a.shape[0] * per_row):
            shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (m, n)
            out = split_ufunc(np.matmul, a, b, cost=per_row, shape=shape)  # many small GEMMs: batch over threads
        else:
            out = np.matmul(a, b)
    else:
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

