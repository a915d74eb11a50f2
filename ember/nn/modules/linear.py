"""Identity, Linear, Bilinear."""
import math

from .module import Module
from ..parameter import Parameter
from ... import creation as _c
from .activation import ReLU
from .. import functional as F
from ..functional.linear import _linear_relu
from .. import init

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input unchanged (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    r"""Affine map :math:`y = x W^T + b` over the last dim.

    ``weight``: (out_features, in_features), ``bias``: (out_features,), both initialised
    from :math:`U(-1/\sqrt{in}, 1/\sqrt{in})` as in PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_c.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(_c.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    r"""Bilinear map :math:`y_o = x_1^T A_o x_2 + b_o`.

    ``weight``: (out_features, in1_features, in2_features), ``bias``: (out_features,), both
    from :math:`U(-1/\sqrt{in_1}, 1/\sqrt{in_1})` as in PyTorch.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(_c.empty(out_features, in1_features, in2_features, dtype=dtype))
        if bias:
            self.bias = Parameter(_c.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


def _no_hooks(m):
    return not (m._forward_pre_hooks or m._forward_hooks)


def _linear_then_relu(linear, activation):
    """Whether ``activation(linear(x))`` may run as one ``linear_relu`` op (the GEMM, then bias
    and relu in one pass): a plain Linear followed by F.relu or a plain ReLU, no hooks on either
    module that must see its own call. The linear's output is never visible, so an in-place
    ReLU gives the same result."""
    return (type(linear) is Linear and _no_hooks(linear)
            and (activation is F.relu or type(activation) is ReLU and _no_hooks(activation)))


def _linear_relu_call(linear, x):
    return _linear_relu(x, linear.weight, linear.bias)
