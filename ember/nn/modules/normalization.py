"""LayerNorm, RMSNorm, GroupNorm, LocalResponseNorm (BatchNorm and InstanceNorm: batchnorm.py)."""
from .module import Module
from ..parameter import Parameter
from ... import creation as _c
from .. import functional as F

__all__ = ["LayerNorm", "RMSNorm", "GroupNorm", "LocalResponseNorm"]


def _affine_params(module, shape, affine, bias, dtype):
    """``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None, registered as in PyTorch."""
    module.weight = Parameter(_c.ones(*shape, dtype=dtype)) if affine else None
    module.bias = Parameter(_c.zeros(*shape, dtype=dtype)) if affine and bias else None
    if not affine:
        module.register_parameter("weight", None)
    if not (affine and bias):
        module.register_parameter("bias", None)


def _reset_affine(module):
    from .. import init
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    r""":math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} \gamma + \beta`, statistics over the
    last ``len(normalized_shape)`` dims (biased variance); ``weight`` (:math:`\gamma`, ones) and
    ``bias`` (:math:`\beta`, zeros) of ``normalized_shape`` when ``elementwise_affine``."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(s) for s in ns), eps, elementwise_affine
        _affine_params(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    r""":math:`y = \frac{x}{\sqrt{E[x^2] + \epsilon}} \gamma` over the last
    ``len(normalized_shape)`` dims; ``eps=None``: the dtype's machine epsilon."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(s) for s in ns), eps, elementwise_affine
        self.weight = Parameter(_c.ones(*self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        if not elementwise_affine:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    r"""Split the ``num_channels`` channels (dim 1) into ``num_groups`` groups and normalise each
    group of each sample: :math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} \gamma + \beta`
    with per-channel :math:`\gamma` (ones), :math:`\beta` (zeros) when ``affine``."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"ember.nn.GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _affine_params(self, (num_channels,), affine, bias, dtype)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    r""":math:`b_c = a_c (k + \frac{\alpha}{n} \sum_{c'} a_{c'}^2)^{-\beta}`, the sum over ``size``
    neighbouring channels."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
