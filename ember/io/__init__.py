"""``ember.io``: safe checkpoints. Safetensors files read and written with NumPy alone,
``save`` / ``load`` of nested state (never pickle), PyTorch ``.pt`` files read without
running their pickle code, and training checkpoints with RNG state. Writes to a path
are atomic (temp file, fsync, rename); every reader validates the file and names it
in its errors.
"""
from ._files import CheckpointError, NotATrainingCheckpoint, UnsafeCheckpointError  # noqa: F401
from .safetensors import save_file, load_file, load_metadata, safe_open  # noqa: F401
from .serialize import save, load  # noqa: F401
from .torch_format import load_torch_checkpoint  # noqa: F401
from .checkpoint import save_checkpoint, load_checkpoint, capture_rng_state, restore_rng_state  # noqa: F401

__all__ = ["save", "load", "save_file", "load_file", "load_metadata", "safe_open", "load_torch_checkpoint",
           "save_checkpoint", "load_checkpoint", "capture_rng_state", "restore_rng_state",
           "CheckpointError", "NotATrainingCheckpoint", "UnsafeCheckpointError"]
