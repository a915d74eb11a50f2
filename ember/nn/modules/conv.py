"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d (NCL / NCHW / NCDHW)."""
import math

from .module import Module
from ..parameter import Parameter
from ... import creation as _c
from .. import functional as F

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Unfold", "Fold"]


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _ConvNd(Module):
    """Shared constructor: PyTorch's attributes, parameter shapes and initialisation."""
    nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"ember.nn.{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"ember.nn.{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"ember.nn.{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        n = self.nd
        kernel_size, stride, dilation = _ntuple(kernel_size, n), _ntuple(stride, n), _ntuple(dilation, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"ember.nn.{name}: invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"ember.nn.{name}: padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, n)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"ember.nn.{name}: padding_mode must be one of 'zeros', 'reflect', 'replicate', "
                             f"'circular', but got padding_mode={padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.transposed, self.output_padding = transposed, _ntuple(output_padding, n)
        self.groups, self.padding_mode = groups, padding_mode
        # F.pad widths (last dim first) for the non-zero padding modes
        if padding == "same":
            from ...ops.conv import same_padding
            pads = same_padding(kernel_size, dilation)
        else:
            pads = ((0, 0),) * n if padding == "valid" else tuple((p, p) for p in padding)
        self._reversed_padding_repeated_twice = [w for pair in reversed(pads) for w in pair]
        shape = ((in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups))
        self.weight = Parameter(_c.empty(*shape, *kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(_c.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        r"""weight ~ kaiming_uniform(a=sqrt(5)), i.e. :math:`U(\pm 1/\sqrt{fan_{in}})`; bias likewise."""
        from .. import init
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups,
                         bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = (F.conv1d, F.conv2d, F.conv3d)[self.nd - 1]
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    r"""1-D convolution over (N, C_in, L): :math:`y_{o} = b_o + \sum_c w_{o,c} \star x_c`.

    ``weight``: (out_channels, in_channels / groups, kernel_size); ``padding`` int, tuple,
    'valid' or 'same'; ``padding_mode`` zeros, reflect, replicate or circular.
    """
    nd = 1


class Conv2d(_Conv):
    r"""2-D convolution over (N, C_in, H, W): :math:`y_{o} = b_o + \sum_c w_{o,c} \star x_c`.

    ``weight``: (out_channels, in_channels / groups, kH, kW); ``groups = in_channels`` is a
    depthwise convolution.
    """
    nd = 2


class Conv3d(_Conv):
    r"""3-D convolution over (N, C_in, D, H, W); ``weight``: (out, in / groups, kD, kH, kW)."""
    nd = 3


class _ConvTranspose(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"ember.nn.{type(self).__name__}: only 'zeros' padding mode is supported, "
                             f"got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """output_padding that makes the output exactly ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        n = self.nd
        lead = 2 if input.ndim == n + 2 else 1
        output_size = tuple(output_size)
        if len(output_size) == lead + n:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(f"ember.nn.{type(self).__name__}: for {input.ndim}D input, output_size must have "
                             f"{n} or {lead + n} elements (got {len(output_size)})")
        lo = [(input.shape[lead + d] - 1) * self.stride[d] - 2 * self.padding[d]
              + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        hi = [m + s - 1 for m, s in zip(lo, self.stride)]
        if any(not a <= s <= b for s, a, b in zip(output_size, lo, hi)):
            raise ValueError(f"ember.nn.{type(self).__name__}: requested an output size of {list(output_size)}, "
                             f"but valid sizes range from {lo} to {hi} (for an input of {tuple(input.shape[lead:])})")
        return tuple(s - m for s, m in zip(output_size, lo))

    def forward(self, input, output_size=None):
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.nd - 1]
        return conv(input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
                    self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution (the gradient of Conv1d w.r.t. its input).

    ``weight``: (in_channels, out_channels / groups, kernel_size); output length
    (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1.
    """
    nd = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution ("deconvolution"); ``weight``: (in, out / groups, kH, kW)."""
    nd = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution; ``weight``: (in, out / groups, kD, kH, kW)."""
    nd = 3


class Unfold(Module):
    """Sliding blocks of (N, C, H, W) as columns (N, C * kH * kW, L) (im2col; :func:`F.unfold`)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Columns (N, C * kH * kW, L) summed back into (N, C, *output_size) (col2im; :func:`F.fold`)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
