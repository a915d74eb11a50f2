"""Devices. Ember computes on the CPU (NumPy); 'cuda' is reserved for the CuPy backend."""


class device:
    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        type = str(type)
        if ":" in type:
            type, idx = type.split(":", 1)
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise ValueError(f"ember.device: expected 'cpu' or 'cuda', got {type!r}")
        self.type, self.index = type, index

    def check_available(self):
        if self.type != "cpu":
            raise RuntimeError(f"ember: device {self} is not available: this build computes on "
                               f"the CPU only (the CUDA backend needs CuPy)")

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index or 0) == (other.type, other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")
