"""ember.nn.functional: linear, bilinear."""
from ..._tensor import Tensor
from ...ops import registry as R
from ...ops.nn import LINEAR, LINEAR_RELU
from ...ops.registry import FUNCTIONS

__all__ = ["linear", "bilinear"]


def _common_case(input, weight, bias):
    """Tensors of one dtype, a 2-D weight matching the input's last dim, a bias of its rows or
    none: checked on the arrays directly (this runs once per layer call)."""
    try:
        x, w = input._data, weight._data
        return (w.ndim == 2 and x.ndim and x.shape[-1] == w.shape[1] and x.dtype == w.dtype
                and (bias is None or (bias._data.dtype == x.dtype and bias._data.shape == (w.shape[0],))))
    except AttributeError:
        return False


def linear(input, weight, bias=None):
    r"""Affine map :math:`y = x W^T + b` over the last dim of ``input`` (any leading dims)."""
    if _common_case(input, weight, bias):
        return R.apply(LINEAR, input, weight) if bias is None else R.apply(LINEAR, input, weight, bias)
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"ember.linear: input and weight must be tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    xs, ws = tuple(input.shape), tuple(weight.shape)
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise RuntimeError(f"ember.linear: expected input, weight and bias of one dtype, got {input.dtype}, "
                           f"{weight.dtype}" + (f" and {bias.dtype}" if bias is not None else ""))
    if weight.ndim == 1:  # torch allows a vector weight: a dot over the last dim
        out = FUNCTIONS["matmul"](input, weight)
        return out if bias is None else out + bias
    if weight.ndim != 2 or input.ndim == 0 or xs[-1] != ws[1]:
        raise RuntimeError(f"ember.linear: input of shape {xs} and weight of shape {ws} cannot be multiplied "
                           f"(expected input[..., {ws[-1] if ws else '?'}] and weight (out_features, in_features))")
    if bias is not None and tuple(bias.shape) not in ((ws[0],), (1,), ()):
        raise RuntimeError(f"ember.linear: bias of shape {tuple(bias.shape)} does not match "
                           f"out_features={ws[0]}")
    if bias is None:
        return R.apply(LINEAR, input, weight)
    return R.apply(LINEAR, input, weight, bias)


def _linear_relu(input, weight, bias=None):
    """``relu(linear(input, weight, bias))`` as one op (the GEMM, then bias and relu in one pass)
    when the arguments are the common case; otherwise the two functions."""
    if _common_case(input, weight, bias):
        return R.apply(LINEAR_RELU, input, weight) if bias is None else R.apply(LINEAR_RELU, input, weight, bias)
    return FUNCTIONS["relu"](linear(input, weight, bias))


def bilinear(input1, input2, weight, bias=None):
    r""":math:`y_o = x_1^T A_o x_2 + b_o` with ``weight`` A of shape (out, in1, in2)."""
    if weight.ndim != 3 or input1.shape[:-1] != input2.shape[:-1] or input1.shape[-1] != weight.shape[1] \
            or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"ember.bilinear: inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} "
                           f"do not match weight of shape {tuple(weight.shape)} (out, in1, in2) ")
    out = FUNCTIONS["einsum"]("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias
