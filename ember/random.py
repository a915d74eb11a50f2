"""Random number generation: ``Generator``, ``manual_seed`` and the default generator.

Each Generator wraps a NumPy PCG64 bit generator, so the same seed gives the
same numbers on the same machine, eagerly or compiled. States serialize to
JSON bytes (an uint8 tensor), never pickle.
"""
from __future__ import annotations

import json

import numpy as np


class Generator:
    """A source of random numbers; ``Generator().manual_seed(0)`` as in PyTorch."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 67280421310721
        self._np_rng = None  # created on first draw: numpy.random costs ~15 ms to import

    @property
    def _rng(self):
        if self._np_rng is None:
            self._np_rng = np.random.Generator(np.random.PCG64(self._seed))
        return self._np_rng

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFF_FFFF_FFFF_FFFF
        self._seed = seed
        self._np_rng = None
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from ._tensor import _wrap
        state = {"seed": self._seed, "bit_generator": self._rng.bit_generator.state}
        return _wrap(np.frombuffer(json.dumps(state).encode(), dtype=np.uint8).copy())

    def set_state(self, new_state):
        data = new_state._data if hasattr(new_state, "_data") else np.asarray(new_state)
        try:
            state = json.loads(data.astype(np.uint8).tobytes().decode())
            self._rng.bit_generator.state = state["bit_generator"]
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"ember.Generator.set_state: not a generator state ({e})") from None
        self._seed = state["seed"]
        return self

    @property
    def numpy(self):
        """The NumPy generator behind this one (for kernels that draw numbers)."""
        return self._rng


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (and so every op that draws random numbers)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def rng(generator=None):
    """The NumPy generator to draw from: ``generator``'s, or the default one's."""
    return (generator if generator is not None else default_generator)._rng
