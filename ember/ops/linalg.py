"""Linear algebra: matmul and its special cases (mm, bmm, mv, dot, inner, outer), the
add* fused forms, einsum / tensordot / kron, trace, cross, det, inverse.

Everything that contracts goes through two ops, ``matmul`` and ``einsum`` (whose kernel
maps two-operand contractions onto one batched matmul, as PyTorch does), so the
compiler and exporters see few distinct ops. Dtypes promote like elementwise ops
(PyTorch itself raises on mixed dtypes here); half precision accumulates in float32.
"""
import functools
import string

from . import registry as R
from .registry import register, export, METHODS, FUNCTIONS


def _shape(x, op, what="input"):
    if not hasattr(x, "_data"):
        raise TypeError(f"ember.{op}: expected a Tensor as {what}, got {type(x).__name__}")
    if x.dtype.name == "bool":
        raise TypeError(f"ember.{op}: not implemented for bool tensors")
    return tuple(x.shape)


def _constant(kind, *size, dtype):
    from .. import creation  # a layer above ops: import at call time
    return getattr(creation, kind)(*size, dtype=dtype)


# --- matmul -------------------------------------------------------------------------
def _matmul_backward(ctx, g):
    a, b = ctx.inputs
    na, nb = len(ctx.shapes[0]), len(ctx.shapes[1])
    mm = lambda x, y: R.apply(MATMUL, x, y)  # noqa: E731
    ga = gb = None
    if na == 1 and nb == 1:
        return (g * b if ctx.needs(0) else None), (g * a if ctx.needs(1) else None)
    if na == 1:    # (k) @ (..., k, n) -> (..., n)
        if ctx.needs(0):
            ga = mm(g.unsqueeze(-2), b.mT).squeeze(-2)
        if ctx.needs(1):
            gb = mm(a.unsqueeze(-1), g.unsqueeze(-2))
    elif nb == 1:  # (..., m, k) @ (k) -> (..., m)
        if ctx.needs(0):
            ga = mm(g.unsqueeze(-1), b.unsqueeze(-2))
        if ctx.needs(1):
            gb = mm(a.mT, g.unsqueeze(-1)).squeeze(-1)
    else:          # broadcast batch dims are summed away by the engine
        ga = mm(g, b.mT) if ctx.needs(0) else None
        gb = mm(a.mT, g) if ctx.needs(1) else None
    return ga, gb


MATMUL = register("matmul", _matmul_backward, promote="common", save="i")


def _check_mul(op, sa, sb):
    ka, kb = sa[-1], (sb[-2] if len(sb) > 1 else sb[0])
    if ka != kb:
        raise RuntimeError(f"ember.{op}: shapes {sa} and {sb} cannot be multiplied ({ka} != {kb})")


def _batch_shape(op, sa, sb):
    try:
        return _broadcast(sa[:-2], sb[:-2])
    except ValueError:
        raise RuntimeError(f"ember.{op}: batch dimensions of shapes {sa} and {sb} cannot be "
                           f"broadcast together") from None


def _broadcast(*shapes):
    n = max(map(len, shapes))
    out = []
    for dims in zip(*((1,) * (n - len(s)) + tuple(s) for s in shapes)):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


@export(method=True)
def matmul(input, other):
    """Matrix product with PyTorch's rules: 1-D operands are vectors (a dim is added and
    removed again), batch dims broadcast."""
    sa, sb = _shape(input, "matmul"), _shape(other, "matmul", "other")
    if not sa or not sb:
        raise RuntimeError(f"ember.matmul: both arguments need to be at least 1-D, got shapes "
                           f"{sa} and {sb}")
    _check_mul("matmul", sa, sb)
    if len(sa) > 2 and len(sb) > 2:
        _batch_shape("matmul", sa, sb)
    return R.apply(MATMUL, input, other)


def _rmatmul(self, other):
    return matmul(other, self)


METHODS["__matmul__"] = matmul
METHODS["__rmatmul__"] = _rmatmul


def _need_ndim(op, shapes, ndims, what):
    if tuple(len(s) for s in shapes) != ndims:
        raise RuntimeError(f"ember.{op}: expected {what}, got shapes " + " and ".join(map(str, shapes)))


@export(method=True)
def mm(input, mat2):
    sa, sb = _shape(input, "mm"), _shape(mat2, "mm", "mat2")
    _need_ndim("mm", (sa, sb), (2, 2), "2-D tensors")
    _check_mul("mm", sa, sb)
    return R.apply(MATMUL, input, mat2)


@export(method=True)
def bmm(input, mat2):
    sa, sb = _shape(input, "bmm"), _shape(mat2, "bmm", "mat2")
    _need_ndim("bmm", (sa, sb), (3, 3), "3-D tensors")
    if sa[0] != sb[0]:
        raise RuntimeError(f"ember.bmm: batch sizes of shapes {sa} and {sb} differ ({sa[0]} != {sb[0]})")
    _check_mul("bmm", sa, sb)
    return R.apply(MATMUL, input, mat2)


@export(method=True)
def mv(input, vec):
    sa, sb = _shape(input, "mv"), _shape(vec, "mv", "vec")
    _need_ndim("mv", (sa, sb), (2, 1), "a 2-D matrix and a 1-D vector")
    _check_mul("mv", sa, sb)
    return R.apply(MATMUL, input, vec)


def _dot(input, other, name, arg):
    sa, sb = _shape(input, name), _shape(other, name, arg)
    if len(sa) != 1 or len(sb) != 1 or sa != sb:
        raise RuntimeError(f"ember.{name}: expected 1-D tensors of the same size, got shapes {sa} and {sb}")
    return R.apply(MATMUL, input, other)


@export(method=True)
def dot(input, tensor):
    return _dot(input, tensor, "dot", "tensor")


@export(method=True)
def vdot(input, other):
    """``dot`` (no conjugation is needed for real tensors)."""
    return _dot(input, other, "vdot", "other")


@export(method=True)
def inner(input, other):
    """Sum over the last dims: shape ``input.shape[:-1] + other.shape[:-1]``."""
    sa, sb = _shape(input, "inner"), _shape(other, "inner", "other")
    if not sa or not sb:
        return input * other
    if sa[-1] != sb[-1]:
        raise RuntimeError(f"ember.inner: the last dims of shapes {sa} and {sb} must match "
                           f"({sa[-1]} != {sb[-1]})")
    la, lb = _LETTERS[:len(sa) - 1], _LETTERS[len(sa) - 1:len(sa) + len(sb) - 2]
    k = _LETTERS[len(sa) + len(sb)]
    return R.apply(EINSUM, input, other, equation=f"{la}{k},{lb}{k}->{la}{lb}")


@export(method=True)
def outer(input, vec2):
    sa, sb = _shape(input, "outer"), _shape(vec2, "outer", "vec2")
    _need_ndim("outer", (sa, sb), (1, 1), "1-D tensors")
    return R.apply(EINSUM, input, vec2, equation="i,j->ij")


ger = outer
FUNCTIONS["ger"] = METHODS["ger"] = outer


# --- beta * input + alpha * product ---------------------------------------------------
def _scaled_add(op, input, prod, beta, alpha):
    """``beta * input + alpha * prod``; with beta == 0 ``input`` is ignored (nan included)."""
    si, so = _shape(input, op), tuple(prod.shape)
    try:
        ok = _broadcast(si, so) == so
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"ember.{op}: input of shape {si} cannot be broadcast to the product's "
                           f"shape {so}")
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod
    return prod + (input if beta == 1 else input * beta)


@export(method=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    sa, sb = _shape(mat1, "addmm", "mat1"), _shape(mat2, "addmm", "mat2")
    _need_ndim("addmm", (sa, sb), (2, 2), "2-D mat1 and mat2")
    _check_mul("addmm", sa, sb)
    return _scaled_add("addmm", input, R.apply(MATMUL, mat1, mat2), beta, alpha)


@export(method=True)
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``."""
    sa, sb = _shape(mat, "addmv", "mat"), _shape(vec, "addmv", "vec")
    _need_ndim("addmv", (sa, sb), (2, 1), "a 2-D mat and a 1-D vec")
    _check_mul("addmv", sa, sb)
    return _scaled_add("addmv", input, R.apply(MATMUL, mat, vec), beta, alpha)


@export(method=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _scaled_add("addr", input, outer(vec1, vec2), beta, alpha)


def _check_batches(op, sa, sb):
    _need_ndim(op, (sa, sb), (3, 3), "3-D batch1 and batch2")
    if sa[0] != sb[0]:
        raise RuntimeError(f"ember.{op}: batch sizes of shapes {sa} and {sb} differ ({sa[0]} != {sb[0]})")
    _check_mul(op, sa, sb)


@export(method=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    _check_batches("baddbmm", _shape(batch1, "baddbmm", "batch1"), _shape(batch2, "baddbmm", "batch2"))
    return _scaled_add("baddbmm", input, R.apply(MATMUL, batch1, batch2), beta, alpha)


@export(method=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    _check_batches("addbmm", _shape(batch1, "addbmm", "batch1"), _shape(batch2, "addbmm", "batch2"))
    prod = R.apply(EINSUM, batch1, batch2, equation="bij,bjk->ik")
    return _scaled_add("addbmm", input, prod, beta, alpha)


def _inplace(fn):
    name = fn.__name__ + "_"

    def method(self, *args, beta=1, alpha=1):
        # beta * self saves self for backward: scale a copy, since self is about to change
        src = self if beta in (0, 1) else self.clone()
        return R.commit_inplace(self, fn(src, *args, beta=beta, alpha=alpha), name)
    method.__name__ = method.__qualname__ = name
    return method


for _f in (addmm, addmv, addr, baddbmm, addbmm):
    METHODS[_f.__name__ + "_"] = _inplace(_f)


# --- einsum ---------------------------------------------------------------------------
_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's label order


def _einsum_backward(ctx, g):
    """Operand i's gradient is the einsum of g with the other operands. A label repeated
    in operand i (a diagonal) gets a fresh name tied to the first by an identity matrix;
    a label only operand i has (summed away) is broadcast back by a vector of ones."""
    ins, out = ctx.equation.split("->")
    subs = ins.split(",")
    free = [c for c in _LETTERS if c not in ctx.equation]
    grads = []
    for i, s in enumerate(subs):
        if not ctx.needs(i):
            grads.append(None)
            continue
        shape, dtype = ctx.shapes[i], g.dtype
        terms = [out] + [t for j, t in enumerate(subs) if j != i]
        ops = [g] + [x for j, x in enumerate(ctx.inputs) if j != i]
        size = {}
        for t, x in zip(terms, ops):
            for c, n in zip(t, x.shape):
                size[c] = max(size.get(c, 1), n)
        target, extra = "", iter(free)
        for c, n in zip(s, shape):
            if c in target:
                y = next(extra)
                terms.append(c + y)
                ops.append(_constant("eye", n, dtype=dtype))
                target += y
                size[c] = size[y] = n
            else:
                target += c
        for c, n in zip(target, shape):
            if c not in size or size[c] < n:  # absent elsewhere, or only broadcast (size 1) there
                terms.append(c)
                ops.append(_constant("ones", n, dtype=dtype))
        grads.append(R.apply(EINSUM, *ops, equation=",".join(terms) + "->" + target))
    return tuple(grads)


EINSUM = register("einsum", _einsum_backward, promote="common", save="i")


@functools.lru_cache(maxsize=1024)
def _einsum_equation(equation, shapes):
    """The equation made explicit: ellipses become labels, the output is spelled out."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1 or any(c not in _LETTERS and c not in ".,->" for c in eq):
        raise ValueError(f"ember.einsum: invalid equation {equation!r}")
    ins, out = eq.split("->") if "->" in eq else (eq, None)
    subs = ins.split(",")
    if len(subs) != len(shapes):
        raise RuntimeError(f"ember.einsum: the equation names {len(subs)} operands but "
                           f"{len(shapes)} were given")
    free = [c for c in _LETTERS if c not in eq]
    n_ell = 0
    for i, (s, shape) in enumerate(zip(subs, shapes)):
        labels = s.replace("...", "")
        if "." in labels or (len(labels) > len(shape) if "..." in s else len(labels) != len(shape)):
            raise RuntimeError(f"ember.einsum: subscripts {s!r} do not fit operand {i} of shape {shape}")
        if "..." in s:
            n_ell = max(n_ell, len(shape) - len(labels))
    ell = "".join(free[:n_ell])
    subs = [s.replace("...", ell[n_ell - (len(shape) - len(s) + 3):] if n_ell else "")
            for s, shape in zip(subs, shapes)]
    if out is None:
        labels = "".join(subs)
        out = ell + "".join(sorted(c for c in set(labels) if labels.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
        if "." in out:
            raise ValueError(f"ember.einsum: invalid equation {equation!r}")
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"ember.einsum: output subscript {c} appears more than once")
            if c not in ins and c not in ell:
                raise RuntimeError(f"ember.einsum: output subscript {c} does not appear in any input")
    size = {}
    for i, (s, shape) in enumerate(zip(subs, shapes)):
        seen = {}
        for c, n in zip(s, shape):
            if c in seen and seen[c] != n:
                raise RuntimeError(f"ember.einsum: subscript {c} is repeated for operand {i} with "
                                   f"different sizes ({seen[c]} != {n})")
            seen[c] = n
            m = size.setdefault(c, n)
            if m != n and 1 not in (m, n):
                raise RuntimeError(f"ember.einsum: subscript {c} has size {n} for operand {i}, which "
                                   f"does not broadcast with the size {m} seen before")
            size[c] = max(m, n) if 1 in (m, n) else n
    return ",".join(subs) + "->" + out


@export
def einsum(equation, *operands):
    """Einstein summation (``'bij,bjk->bik'``, ``'ii'``, ``'...ij,...jk'``)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError("ember.einsum: the sublist format is not supported; pass an equation string")
    if not operands:
        raise RuntimeError("ember.einsum: expected at least one operand")
    shapes = tuple(_shape(x, "einsum", f"operand {i}") for i, x in enumerate(operands))
    return R.apply(EINSUM, *operands, equation=_einsum_equation(equation, shapes))


@export
def tensordot(a, b, dims=2):
    """Contract ``dims`` trailing dims of ``a`` with leading dims of ``b`` (or the dims
    listed as ``([dims of a], [dims of b])``)."""
    sa, sb = _shape(a, "tensordot", "a"), _shape(b, "tensordot", "b")
    if hasattr(dims, "tolist"):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0 or dims > min(len(sa), len(sb)):
            raise RuntimeError(f"ember.tensordot: dims must be in [0, {min(len(sa), len(sb))}] for "
                               f"shapes {sa} and {sb}, got {dims}")
        da, db = list(range(len(sa) - dims, len(sa))), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"ember.tensordot: both dim lists must have the same length, got {da} and {db}")
    if len(sa) + len(sb) > len(_LETTERS):
        raise RuntimeError("ember.tensordot: too many dims")
    la, lb = list(_LETTERS[:len(sa)]), list(_LETTERS[len(sa):len(sa) + len(sb)])
    for x, y in zip(da, db):
        x, y = _dim(x, len(sa), "tensordot"), _dim(y, len(sb), "tensordot")
        if sa[x] != sb[y]:
            raise RuntimeError(f"ember.tensordot: contracted dims differ in size: {sa[x]} (dim {x} of "
                               f"{sa}) != {sb[y]} (dim {y} of {sb})")
        lb[y] = la[x]
    out = "".join(c for c in la if c not in lb) + "".join(c for c in lb if c not in la)
    return R.apply(EINSUM, a, b, equation="".join(la) + "," + "".join(lb) + "->" + out)


def _dim(d, ndim, op):
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise IndexError(f"ember.{op}: dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
    return d % max(ndim, 1)


@export(method=True)
def kron(input, other):
    """Kronecker product: block (i, j) is ``input[i, j] * other``."""
    sa, sb = _shape(input, "kron"), _shape(other, "kron", "other")
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    la, lb = _LETTERS[:n], _LETTERS[n:2 * n]
    prod = R.apply(EINSUM, input.reshape(sa), other.reshape(sb),
                   equation=f"{la},{lb}->" + "".join(x + y for x, y in zip(la, lb)))
    return prod.reshape(tuple(x * y for x, y in zip(sa, sb)))


# --- trace, cross, det, inverse --------------------------------------------------------------
TRACE = register("trace", lambda ctx, g: g * _constant("eye", *ctx.shapes[0], dtype=g.dtype),
                 save="")


@export(method=True)
def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    s = _shape(input, "trace")
    if len(s) != 2:
        raise RuntimeError(f"ember.trace: expected a 2-D tensor, got shape {s}")
    return R.apply(TRACE, input)


def _cross_backward(ctx, g):
    a, b = ctx.inputs
    return (R.apply(CROSS, b, g, dim=ctx.dim) if ctx.needs(0) else None,
            R.apply(CROSS, g, a, dim=ctx.dim) if ctx.needs(1) else None)


CROSS = register("cross", _cross_backward, promote="common", save="i")


@export(method=True)
def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3)."""
    sa, sb = _shape(input, "cross"), _shape(other, "cross", "other")
    try:
        shape = _broadcast(sa, sb)
    except ValueError:
        raise RuntimeError(f"ember.cross: shapes {sa} and {sb} cannot be broadcast together") from None
    if dim is None:
        if 3 not in shape:
            raise RuntimeError(f"ember.cross: no dimension of size 3 in shapes {sa} and {sb}")
        dim = shape.index(3)
    dim = _dim(dim, len(shape), "cross") - len(shape)  # negative: counts for both operands
    if len(sa) < -dim or len(sb) < -dim or sa[dim] != 3 or sb[dim] != 3:
        raise RuntimeError(f"ember.cross: dim {dim} of shapes {sa} and {sb} must have size 3")
    return R.apply(CROSS, input, other, dim=dim)


def _square(op, input):
    s = _shape(input, op)
    if len(s) < 2 or s[-1] != s[-2]:
        raise RuntimeError(f"ember.{op}: expected square matrices (..., n, n), got shape {s}")
    if not input.is_floating_point():
        raise TypeError(f"ember.{op}: expected a floating point tensor, got {input.dtype}")


def _det_backward(ctx, g):
    # d det(A) = det(A) * inv(A)^T : not defined for singular A
    (a,), d = ctx.inputs, ctx.out
    return (g * d).unsqueeze(-1).unsqueeze(-1) * R.apply(INVERSE, a).mT


DET = register("det", _det_backward, save="io")


def _inverse_backward(ctx, g):
    inv_t = ctx.out.mT
    return -R.apply(MATMUL, R.apply(MATMUL, inv_t, g), inv_t)


INVERSE = register("inverse", _inverse_backward, save="o")


@export(method=True)
def det(input):
    """Determinant of each square matrix in ``input`` (..., n, n)."""
    _square("det", input)
    return R.apply(DET, input)


@export(method=True)
def inverse(input):
    """Inverse of each square matrix in ``input`` (..., n, n)."""
    _square("inverse", input)
    return R.apply(INVERSE, input)


@export(method=True)
def matrix_power(input, n):
    """``input`` (..., k, k) multiplied by itself ``n`` times (by repeated squaring);
    ``n < 0`` powers the inverse, ``n == 0`` gives identities."""
    s = _shape(input, "matrix_power")
    if len(s) < 2 or s[-1] != s[-2]:
        raise RuntimeError(f"ember.matrix_power: expected square matrices (..., n, n), got shape {s}")
    if n == 0:
        return _constant("eye", s[-1], dtype=input.dtype).expand(s).clone()
    if n < 0:
        input, n = inverse(input), -n
    result, base = None, input
    while n:
        if n & 1:
            result = base if result is None else R.apply(MATMUL, result, base)
        n >>= 1
        if n:
            base = R.apply(MATMUL, base, base)
    return result.clone() if result is input else result

