"""``repr`` of tensors in PyTorch's format: ``tensor([1., 2.], requires_grad=True)``."""
import numpy as np

from . import dtypes as _dt

_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth), ("sci_mode", sci_mode)):
        if v is not None:
            _OPTIONS[k] = v


def _format_float(x):
    return np.format_float_positional(x, precision=_OPTIONS["precision"], unique=True, trim=".")


def tensor_repr(t):
    arr = t._data
    dt = _dt._BY_NP[arr.dtype]
    if dt.name == "bfloat16":
        arr = arr.astype(np.float32)
    prefix = "tensor("
    kw = dict(separator=", ", prefix=prefix, threshold=_OPTIONS["threshold"],
              edgeitems=_OPTIONS["edgeitems"], max_line_width=_OPTIONS["linewidth"])
    if dt.is_floating_point:
        finite = arr[np.isfinite(arr)] if arr.size else arr
        amax = float(np.abs(finite).max()) if finite.size else 0.0
        amin = float(np.abs(finite[finite != 0]).min()) if finite.size and (finite != 0).any() else 0.0
        sci = _OPTIONS["sci_mode"]
        if sci is None:
            sci = amax >= 1e8 or (amin and amin < 1e-4) or (amin and amax / amin > 1e3 and amax > 1e3)
        p = _OPTIONS["precision"]
        if sci:
            fmt = {"float_kind": lambda x: np.format_float_scientific(x, precision=p, unique=False)}
        elif finite.size and np.all(finite == np.round(finite)):
            fmt = {"float_kind": lambda x: f"{x:.0f}." if np.isfinite(x) else str(x)}
        else:
            fmt = {"float_kind": lambda x: f"{x:.{p}f}" if np.isfinite(x) else str(x)}
        body = np.array2string(arr, formatter=fmt, **kw) if arr.size else "[]"
    elif dt is _dt.bool_:
        body = np.array2string(arr, formatter={"bool": lambda x: str(bool(x))}, **kw) if arr.size else "[]"
    else:
        body = np.array2string(arr, **kw) if arr.size else "[]"
    extras = []
    if arr.size == 0 and arr.shape != (0,):
        extras.append(f"size={tuple(arr.shape)}")
    default = dt is _dt.get_default_dtype() or dt is _dt.int64 or dt is _dt.bool_
    if not default:
        extras.append(f"dtype=ember.{dt.name}")
    if t._node is not None:
        extras.append(f"grad_fn=<{t._node.name}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
