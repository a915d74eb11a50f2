"""Training checkpoints: model / optimizer / scheduler state, RNG states and progress in one file.

    ember.io.save_checkpoint("ckpt.safetensors", model=net, optimizer=opt, step=step, epoch=epoch)
    ckpt = ember.io.load_checkpoint("ckpt.safetensors", model=net, optimizer=opt)
    step, epoch = ckpt["step"], ckpt["epoch"]

Anything with ``state_dict()`` / ``load_state_dict()`` can be passed (or a dict / list of
them, e.g. ``model={"gen": g, "disc": d}``). The RNG states captured are Ember's default
generator, NumPy's global (legacy) RandomState and Python's ``random``, so a resumed run
draws the same numbers as an uninterrupted one. The file is an ``ember.save`` file
(safetensors, written atomically).
"""
from __future__ import annotations

import random as _pyrandom

import numpy as np

from ._files import CheckpointError, NotATrainingCheckpoint, display_name
from .serialize import load, save

FORMAT, VERSION = "ember.checkpoint", 1
_PARTS = ("model", "optimizer", "scheduler")


def capture_rng_state():
    """The states of Ember's default generator, NumPy's global RandomState and Python's ``random``."""
    from ..random import get_rng_state
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {"ember": get_rng_state(),
            "numpy": {"kind": str(kind), "keys": keys.astype(np.int64), "pos": int(pos),
                      "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
            "python": _pyrandom.getstate()}


def restore_rng_state(state):
    """Undo ``capture_rng_state``: set every generator it captured."""
    from ..random import set_rng_state
    if "ember" in state:
        set_rng_state(state["ember"])
    if "numpy" in state:
        s = state["numpy"]
        np.random.set_state((s["kind"], np.asarray(s["keys"]).astype(np.uint32), s["pos"], s["has_gauss"],
                             s["cached_gaussian"]))
    if "python" in state:
        version, internal, gauss = state["python"]
        _pyrandom.setstate((version, tuple(internal), gauss))


def _state(obj, what):
    if hasattr(obj, "state_dict"):
        return obj.state_dict()
    if isinstance(obj, dict):
        return {k: _state(v, f"{what}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_state(v, f"{what}[{i}]") for i, v in enumerate(obj)]
    raise TypeError(f"ember.io.save_checkpoint: {what} must have state_dict() (or be a dict / list of such "
                    f"objects), got {type(obj).__name__}")


def save_checkpoint(path, *, model=None, optimizer=None, scheduler=None, step=None, epoch=None, extra=None,
                    rng=True):
    """Write a training checkpoint atomically. ``extra``: any ``ember.save``-able data
    (tensors, numbers, strings, containers) to carry along, e.g. the best metric so far."""
    obj = {"format": FORMAT, "version": VERSION}
    for name, part in zip(_PARTS, (model, optimizer, scheduler)):
        if part is not None:
            obj[name] = _state(part, name)
    obj.update(step=step, epoch=epoch, extra=extra)
    if rng:
        obj["rng"] = capture_rng_state()
    save(obj, path)


def _restore(obj, state, what, fail, strict=None):
    if hasattr(obj, "load_state_dict"):
        return obj.load_state_dict(state) if strict is None else obj.load_state_dict(state, strict=strict)
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for k, v in items:
        try:
            sub = state[k]
        except (KeyError, IndexError, TypeError):
            raise fail(f"it has no state for {what}[{k!r}]") from None
        _restore(v, sub, f"{what}[{k!r}]", fail, strict)


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, *, map_location=None, strict=True,
                    restore_rng=True, mmap=False):
    """Read a checkpoint from ``save_checkpoint``, load the given objects' states from it and
    restore the RNG states; returns the checkpoint dict (``step``, ``epoch``, ``extra``, ...).

    Every requested part is checked to be present before anything is changed. ``mmap`` is off
    by default so that the file is not kept mapped while training writes the next checkpoint."""
    def fail(msg, error=CheckpointError):
        return error(f"ember.io.load_checkpoint: cannot use {display_name(path)!r}: {msg}")
    ckpt = load(path, map_location=map_location, mmap=mmap)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise fail("not an Ember training checkpoint (written by ember.io.save_checkpoint); use ember.load",
                   NotATrainingCheckpoint)
    if not isinstance(ckpt.get("version"), int) or ckpt["version"] > VERSION:
        raise fail(f"checkpoint version {ckpt.get('version')!r} is newer than this Ember reads ({VERSION})")
    given = dict(zip(_PARTS, (model, optimizer, scheduler)))
    for name, part in given.items():
        if part is not None and name not in ckpt:
            raise fail(f"a {name} was passed but the checkpoint holds no {name} state")
    for name, part in given.items():
        if part is not None:
            _restore(part, ckpt[name], name, fail, strict if name == "model" else None)
    if restore_rng and "rng" in ckpt:
        restore_rng_state(ckpt["rng"])
    return ckpt
