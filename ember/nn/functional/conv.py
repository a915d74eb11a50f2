"""ember.nn.functional: convolutions (im2col + GEMM kernels in ember/kernels/cpu/conv.py)."""
from ...ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d,  # noqa: F401
                         unfold, fold)

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "unfold", "fold"]
