"""Summary protos for scalars, histograms, images, text and hparams (the formats of
``torch.utils.tensorboard.summary``), built from NumPy arrays."""
import functools
import numbers
import struct
import zlib

import numpy as np

from ._proto import hparams_api_pb2, hparams_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, text_pb2

Summary, SummaryMetadata = summary_pb2.Summary, summary_pb2.SummaryMetadata


def to_numpy(x):
    """An ndarray from an Ember (or any array-like) tensor; bfloat16 widens to float32."""
    if not isinstance(x, np.ndarray):
        for attr in ("detach", "cpu", "numpy"):  # Tensor -> host array, without the autograd check
            if hasattr(x, attr):
                x = getattr(x, attr)()
    a = np.asarray(x)
    return a.astype(np.float32) if a.dtype.kind == "V" or a.dtype.name == "bfloat16" else a


def _plugin(name, content=b""):
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name, content=content))


def scalar(tag, value, new_style=False, double_precision=False):
    a = to_numpy(value)
    if a.size != 1:
        raise ValueError(f"ember.tensorboard.add_scalar: expected a single number for '{tag}', "
                         f"got an array of shape {tuple(a.shape)}")
    v = float(a.reshape(()))
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=v)])
    t = (tensor_pb2.TensorProto(double_val=[v], dtype="DT_DOUBLE") if double_precision
         else tensor_pb2.TensorProto(float_val=[v], dtype="DT_FLOAT"))
    return Summary(value=[Summary.Value(tag=tag, tensor=t, metadata=_plugin("scalars"))])


# --- histograms ---------------------------------------------------------------------------------------
@functools.lru_cache(None)
def tensorflow_bins():
    """TensorFlow's default bucket edges: +-1e-12 * 1.1**k up to 1e20, and 0."""
    pos, v = [], 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return np.array([-p for p in reversed(pos)] + [0.0] + pos)


def histogram(tag, values, bins="tensorflow", max_bins=None):
    a = to_numpy(values).astype(np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError(f"ember.tensorboard.add_histogram: '{tag}' has no values")
    if not np.isfinite(a).all():
        raise ValueError(f"ember.tensorboard.add_histogram: '{tag}' contains NaN or Inf")
    if isinstance(bins, str) and bins == "tensorflow":
        edges = tensorflow_bins()
        counts, edges = np.histogram(np.clip(a, edges[0], edges[-1]), bins=edges)  # TF keeps outliers
    else:
        counts, edges = np.histogram(a, bins=to_numpy(bins) if not isinstance(bins, (int, str)) else bins)
    if max_bins is not None and len(counts) > max_bins:  # merge runs of adjacent buckets
        k = -(-len(counts) // max_bins)
        counts = np.pad(counts, (0, -len(counts) % k)).reshape(-1, k).sum(1)
        edges = np.append(edges[:-1:k], edges[-1])
    nz = np.flatnonzero(counts)
    if nz.size == 0:
        raise ValueError(f"ember.tensorboard.add_histogram: no value of '{tag}' falls inside the bins")
    # TensorBoard stores right edges only; keep one empty bucket left of the support so that
    # the leftmost edge survives
    lo, hi = int(nz[0]), int(nz[-1]) + 1
    counts = counts[lo - 1:hi] if lo > 0 else np.concatenate([[0], counts[:hi]])
    return histogram_raw(tag, a.min(), a.max(), a.size, a.sum(), a.dot(a), edges[lo:hi + 1], counts)


def histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    h = summary_pb2.HistogramProto(min=float(min), max=float(max), num=float(num), sum=float(sum),
                                   sum_squares=float(sum_squares),
                                   bucket_limit=to_numpy(bucket_limits).astype(float).tolist(),
                                   bucket=to_numpy(bucket_counts).astype(float).tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=h)])


# --- images -------------------------------------------------------------------------------------------
def encode_png(hwc):
    """PNG bytes of an (H, W, C) uint8 array, C in 1 (gray), 3 (RGB), 4 (RGBA)."""
    h, w, c = hwc.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), hwc.reshape(h, w * c)], axis=1)  # filter 0 per row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2, 4: 6}[c], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + chunk(b"IEND", b""))


def make_grid(nchw, ncols=8):
    """(N, C, H, W) -> one (rows*H, cols*W, C) image, up to 8 per row (torch's layout)."""
    n, c, h, w = nchw.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    padded = np.concatenate([nchw, np.zeros((nrows * ncols - n, c, h, w), nchw.dtype)])
    return padded.reshape(nrows, ncols, c, h, w).transpose(0, 3, 1, 4, 2).reshape(nrows * h, ncols * w, c)


def to_hwc_uint8(img, dataformats, op="add_image"):
    a, fmt = to_numpy(img), dataformats.upper()
    if sorted(fmt) not in (sorted("NCHW"), sorted("CHW"), sorted("HWC"), sorted("HW")) or a.ndim != len(fmt):
        raise ValueError(f"ember.tensorboard.{op}: dataformats '{dataformats}' does not describe an image "
                         f"of shape {tuple(a.shape)} (expected e.g. CHW, HWC, HW, NCHW)")
    if len(fmt) == 4:
        if a.shape[fmt.index("N")] == 0:
            raise ValueError(f"ember.tensorboard.{op}: got an empty batch of images")
        a = make_grid(a.transpose([fmt.index(ch) for ch in "NCHW"]))
    else:
        a = a.transpose([fmt.index(ch) for ch in "HWC" if ch in fmt])
        a = a[..., None] if a.ndim == 2 else a
    if a.shape[2] not in (1, 3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"ember.tensorboard.{op}: expected 1, 3 or 4 channels and a non-empty image, "
                         f"got HWC shape {tuple(a.shape)}")
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind == "f":  # floats are in [0, 1]
        a = np.nan_to_num(a.astype(np.float64) * 255.0 + 0.5)
    return np.clip(a, 0, 255).astype(np.uint8)  # bools and other ints are in [0, 255]


def image(tag, img, dataformats="CHW", op="add_image"):
    hwc = to_hwc_uint8(img, dataformats, op)
    im = Summary.Image(height=hwc.shape[0], width=hwc.shape[1], colorspace=hwc.shape[2],
                       encoded_image_string=encode_png(hwc))
    return Summary(value=[Summary.Value(tag=tag, image=im)])


# --- text and hparams -----------------------------------------------------------------------------------
def text(tag, text_string):
    t = tensor_pb2.TensorProto(dtype="DT_STRING", string_val=[str(text_string).encode("utf-8")],
                               tensor_shape=tensor_shape_pb2.TensorShapeProto(
                                   dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]))
    meta = _plugin("text", text_pb2.TextPluginData(version=0).SerializeToString())
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=t)])


_HP_TAGS = ("_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info")


def _hp_kind(k, v):
    """(Value field, api DataType, converted value) of one hyperparameter."""
    if isinstance(v, (bool, np.bool_)):
        return "bool_value", "DATA_TYPE_BOOL", bool(v)
    if isinstance(v, str):
        return "string_value", "DATA_TYPE_STRING", v
    if isinstance(v, numbers.Number) or (hasattr(v, "shape") and to_numpy(v).size == 1):
        return "number_value", "DATA_TYPE_FLOAT64", float(to_numpy(v).reshape(()))
    raise ValueError(f"ember.tensorboard.add_hparams: hparam '{k}' must be a bool, str, number or "
                     f"one-element tensor, got {type(v).__name__}")


def hparams(hparam_dict, metric_dict, hparam_domain_discrete=None):
    """The three hparams-plugin summaries: experiment, session_start_info, session_end_info."""
    from google.protobuf import struct_pb2
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("ember.tensorboard.add_hparams: hparam_dict and metric_dict must be dicts")
    domains = hparam_domain_discrete or {}
    for k, vals in domains.items():
        if k not in hparam_dict or not isinstance(vals, list):
            raise TypeError(f"ember.tensorboard.add_hparams: hparam_domain_discrete['{k}'] must be a list "
                            f"of values of hparam_dict['{k}']")
    ssi, infos = hparams_pb2.SessionStartInfo(), []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        field, dtype, v = _hp_kind(k, v)
        setattr(ssi.hparams[k], field, v)
        domain = (struct_pb2.ListValue(values=[struct_pb2.Value(**{field: _hp_kind(k, d)[2]}) for d in domains[k]])
                  if k in domains else None)
        infos.append(hparams_api_pb2.HParamInfo(name=k, type=dtype, domain_discrete=domain))
    exp = hparams_api_pb2.Experiment(hparam_infos=infos, metric_infos=[
        hparams_api_pb2.MetricInfo(name=hparams_api_pb2.MetricName(tag=k)) for k in metric_dict])
    sei = hparams_pb2.SessionEndInfo(status=hparams_api_pb2.Status.Value("STATUS_SUCCESS"))
    out = []
    for tag, data in zip(_HP_TAGS, ({"experiment": exp}, {"session_start_info": ssi}, {"session_end_info": sei})):
        content = hparams_pb2.HParamsPluginData(version=0, **data).SerializeToString()
        out.append(Summary(value=[Summary.Value(tag=tag, metadata=_plugin("hparams", content))]))
    return out
