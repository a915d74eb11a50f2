"""BatchNorm1d/2d/3d and InstanceNorm1d/2d/3d (which share the running-statistics base)."""
from .module import Module
from ..parameter import Parameter
from ... import creation as _c
from ... import dtypes as _dt
from ...autograd.grad_mode import no_grad
from .. import functional as F

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _NormBase(Module):
    """``weight`` (ones) and ``bias`` (zeros) of ``num_features`` when ``affine``; buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64 0)
    when ``track_running_stats`` -- the same keys as PyTorch's state_dict."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(_c.ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(_c.zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _c.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", _c.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", _c.tensor(0, dtype=_dt.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        from .. import init
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _upgrade_state_dict(self, state_dict, prefix):
        # checkpoints from before num_batches_tracked existed load with a count of 0
        if self.track_running_stats and prefix + "running_mean" in state_dict:
            state_dict.setdefault(prefix + "num_batches_tracked", _c.tensor(0, dtype=_dt.int64))

    def _check_input_dim(self, input):
        dims = self._dims
        if input.ndim not in dims:
            want = " or ".join(f"{d}D" for d in dims)
            raise ValueError(f"ember.nn.{type(self).__name__}: expected {want} input (got {input.ndim}D input)")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    r"""Per-channel :math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} \gamma + \beta`.

    Training: batch statistics (biased variance); the running statistics move by
    ``momentum`` toward the batch mean and unbiased variance (``momentum=None``: a cumulative
    average). Eval: the running statistics (batch statistics if not tracked)."""

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs."""
    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs."""
    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) inputs."""
    _dims = (5,)


class _InstanceNorm(_NormBase):
    r"""Per-sample, per-channel :math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} \gamma + \beta`
    over the spatial dims. Defaults (as PyTorch): no affine, no running statistics; with
    ``track_running_stats`` the running statistics are updated in training and used in eval."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.ndim == self._dims[0]
        cdim = 0 if unbatched else 1
        if input.shape[cdim] != self.num_features and self.affine:
            raise ValueError(f"ember.nn.{type(self).__name__}: expected input's size at dim={cdim} to match "
                             f"num_features ({self.num_features}), but got: {input.shape[cdim]}.")
        x = input.unsqueeze(0) if unbatched else input
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over (C, L) or (N, C, L) inputs."""
    _dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (C, H, W) or (N, C, H, W) inputs."""
    _dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over (C, D, H, W) or (N, C, D, H, W) inputs."""
    _dims = (4, 5)
