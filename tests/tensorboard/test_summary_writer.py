"""SummaryWriter's files, read back by TensorBoard's own reader (EventAccumulator, PyRecordReader)."""
import glob
import io
import os
import re
import socket
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

pytest.importorskip("tensorboard")
import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
from ember.tensorboard import SummaryWriter  # noqa: E402
from ember.tensorboard.record import crc32c, masked_crc32c  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

KINDS = ("scalars", "histograms", "images", "tensors", "graph", "compressedHistograms", "audio")


def load(path):
    acc = EventAccumulator(str(path), size_guidance={k: 0 for k in KINDS})
    acc.Reload()
    return acc


def records(path):
    """Every record of one event file, through TensorBoard's CRC-checking reader."""
    reader, out = pywrap_tensorflow.PyRecordReader_New(str(path).encode()), []
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            return out
        out.append(event_pb2.Event.FromString(reader.record()))


def event_files(d):
    return sorted(glob.glob(os.path.join(str(d), "events.out.tfevents.*")))


def read_png(data):
    """Tiny PNG reader (8-bit, filter 0, as our writer emits): checks chunk CRCs, returns (H, W, C)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
        hdr = struct.unpack(">IIBBBBB", body) if kind == b"IHDR" else hdr
        idat += body if kind == b"IDAT" else b""
        pos += 12 + n
    w, h, depth, color = hdr[:4]
    c = {0: 1, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    assert depth == 8 and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(h, w, c)


# --- packaging -----------------------------------------------------------------------------------------
def run_py(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_import_ember_does_not_load_tensorboard():
    r = run_py("import sys, ember, ember.tensorboard\n"
               "assert not [m for m in sys.modules if m.split('.')[0] == 'tensorboard'], 'loaded'")
    assert r.returncode == 0, r.stderr


def test_missing_tensorboard_names_the_extra():
    r = run_py("import sys; sys.modules['tensorboard'] = None\n"
               "try:\n    from ember.tensorboard import SummaryWriter\nexcept ImportError as e:\n    print(e)")
    assert r.returncode == 0 and "pip install ember[tensorboard]" in r.stdout, r.stdout + r.stderr


# --- records -------------------------------------------------------------------------------------------
def test_crc32c_matches_reference():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    rng = np.random.default_rng(0)
    for n in (0, 1, 7, 255, 4096, (1 << 14) - 1, 1 << 14, 70001):  # both the loop and the vectorised path
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert masked_crc32c(data) == pywrap_tensorflow.masked_crc32c(data), n


def test_file_name_and_file_version(tmp_path):
    with SummaryWriter(tmp_path, filename_suffix=".v1") as w:
        w.add_scalar("x", 1.0, 0)
    (path,) = event_files(tmp_path)
    name = re.escape(socket.gethostname())
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\.{name}\.{os.getpid()}\.\d+\.v1", os.path.basename(path))
    evs = records(path)
    assert evs[0].file_version == "brain.Event:2" and evs[1].summary.value[0].tag == "x"


@pytest.mark.parametrize("where,message", [(-5, "failed event crc32 check"), (2, "failed header crc32 check"),
                                           (-1, "failed event crc32 check")])
def test_reader_detects_corruption(tmp_path, where, message):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("x", 1.0, 0)
    (path,) = event_files(tmp_path)
    data = bytearray(open(path, "rb").read())
    assert len(records(path)) == 2  # intact file reads clean
    data[where] ^= 0x10  # a byte of the last record's data, the first record's length, the last CRC
    open(path, "wb").write(bytes(data))
    with pytest.raises(errors.DataLossError, match=message):
        records(path)


# --- scalars -------------------------------------------------------------------------------------------
def test_scalars_steps_values_walltimes(tmp_path):
    values = [1.5, np.float32(0.25), ember.tensor(3.0), ember.tensor([[7.0]]), 4, np.array(2.5, np.float64),
              ember.tensor(2.0, requires_grad=True) * 2]
    with SummaryWriter(tmp_path) as w:
        for i, v in enumerate(values):
            w.add_scalar("loss/train", v, global_step=10 * i, walltime=1000.0 + i)
        w.add_scalar("bf16", ember.tensor(1.5, dtype=ember.bfloat16), 0)
    evs = load(tmp_path).Scalars("loss/train")
    assert [e.step for e in evs] == [10 * i for i in range(len(values))]
    assert [e.wall_time for e in evs] == [1000.0 + i for i in range(len(values))]
    np.testing.assert_allclose([e.value for e in evs], [1.5, 0.25, 3.0, 7.0, 4.0, 2.5, 4.0])
    assert load(tmp_path).Scalars("bf16")[0].value == 1.5


def test_scalar_default_step_and_wall_time(tmp_path):
    import time
    t0 = time.time()
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("x", 1.0)
    (e,) = load(tmp_path).Scalars("x")
    assert e.step == 0 and t0 - 1 <= e.wall_time <= time.time() + 1


@pytest.mark.parametrize("double", [False, True])
def test_new_style_scalar(tmp_path, double):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("x", 0.1, 3, new_style=True, double_precision=double)
    (e,) = load(tmp_path).Tensors("x")
    assert e.step == 3 and e.tensor_proto.dtype == (2 if double else 1)  # DT_DOUBLE / DT_FLOAT
    np.testing.assert_allclose(tensor_util.make_ndarray(e.tensor_proto), 0.1, rtol=1e-7)


def test_scalar_rejects_arrays(tmp_path):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match=r"ember.tensorboard.add_scalar.*\(3,\)"):
        w.add_scalar("x", np.ones(3), 0)


def test_add_scalars_writes_sub_runs(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("run/loss", {"train": step * 1.0, "val": step * 2.0}, step)
    assert sorted(d.name for d in tmp_path.iterdir() if d.is_dir()) == ["run_loss_train", "run_loss_val"]
    for sub, scale in (("run_loss_train", 1.0), ("run_loss_val", 2.0)):
        evs = load(tmp_path / sub).Scalars("run/loss")
        assert [(e.step, e.value) for e in evs] == [(s, s * scale) for s in range(3)]
        assert len({e.wall_time for e in evs}) == 3
    assert load(tmp_path).Tags()["scalars"] == []


# --- histograms ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("bins", ["tensorflow", 7, "auto", np.linspace(-4, 4, 9)])
def test_histogram(tmp_path, bins):
    x = np.random.default_rng(1).normal(size=500).clip(-3.9, 3.9)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("w", ember.tensor(x), 5, bins=bins)
    (e,) = load(tmp_path).Histograms("w")
    h = e.histogram_value
    assert e.step == 5 and h.num == 500 and sum(h.bucket) == 500
    assert h.min == x.min() and h.max == x.max()
    np.testing.assert_allclose([h.sum, h.sum_squares], [x.sum(), x @ x])
    assert len(h.bucket) == len(h.bucket_limit) and np.all(np.diff(h.bucket_limit) > 0)
    assert h.bucket[0] == 0 and h.bucket_limit[0] <= x.min() and h.bucket_limit[-1] >= x.max()


def test_histogram_outliers_and_max_bins(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("huge", np.array([-1e30, 0.0, 3.0, 1e30]), 0)  # beyond TF's last edge
        w.add_histogram("few", np.arange(100.0), 0, bins=50, max_bins=8)
        w.add_histogram_raw("raw", 0, 2, 3, 3, 5, [1, 2], [1, 2], global_step=1)
    acc = load(tmp_path)
    assert sum(acc.Histograms("huge")[0].histogram_value.bucket) == 4
    few = acc.Histograms("few")[0].histogram_value
    assert sum(few.bucket) == 100 and len(few.bucket) <= 9
    raw = acc.Histograms("raw")[0].histogram_value
    assert list(raw.bucket) == [1, 2] and raw.num == 3


@pytest.mark.parametrize("values,match", [(np.array([]), "no values"), (np.array([1.0, np.nan]), "NaN")])
def test_histogram_errors(tmp_path, values, match):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match="ember.tensorboard.add_histogram.*" + match):
        w.add_histogram("h", values)


# --- images --------------------------------------------------------------------------------------------
def _img(acc, tag):
    (e,) = acc.Images(tag)
    return e, read_png(e.encoded_image_string)


def test_images_decode(tmp_path):
    rng = np.random.default_rng(2)
    chw = rng.random((3, 6, 5)).astype(np.float32)
    hwc = rng.integers(0, 256, (4, 7, 4), dtype=np.uint8)
    hw = rng.random((5, 3))
    with SummaryWriter(tmp_path) as w:
        w.add_image("chw", ember.tensor(chw), 1)
        w.add_image("hwc", hwc, 2, dataformats="HWC")
        w.add_image("hw", hw, 3, dataformats="HW")
        w.add_image("gray", np.ones((1, 2, 2)) * 2.0, 4)  # clipped to 255
    acc = load(tmp_path)
    e, px = _img(acc, "chw")
    assert (e.step, e.width, e.height) == (1, 5, 6)
    np.testing.assert_array_equal(px, np.round(chw.transpose(1, 2, 0) * 255).astype(np.uint8))
    e, px = _img(acc, "hwc")
    assert (e.step, e.width, e.height) == (2, 7, 4)
    np.testing.assert_array_equal(px, hwc)
    np.testing.assert_array_equal(_img(acc, "hw")[1][..., 0], np.round(hw * 255).astype(np.uint8))
    assert (_img(acc, "gray")[1] == 255).all()


def test_images_grid_and_pil(tmp_path):
    batch = np.random.default_rng(3).random((10, 3, 4, 5))
    with SummaryWriter(tmp_path) as w:
        w.add_images("batch", batch, 0)
        w.add_images("nhwc", batch.transpose(0, 2, 3, 1), 0, dataformats="NHWC")
    acc = load(tmp_path)
    e, px = _img(acc, "batch")
    assert (e.width, e.height) == (8 * 5, 2 * 4)  # 8 per row, 2 rows
    np.testing.assert_array_equal(px[4:8, 5:10], np.round(batch[9].transpose(1, 2, 0) * 255).astype(np.uint8))
    assert (px[4:8, 10:] == 0).all()  # empty grid cells
    np.testing.assert_array_equal(_img(acc, "nhwc")[1], px)
    Image = pytest.importorskip("PIL.Image")
    with Image.open(io.BytesIO(e.encoded_image_string)) as im:
        assert im.size == (40, 8) and im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im), px)


@pytest.mark.parametrize("shape,fmt", [((3, 4), "CHW"), ((2, 4, 4), "CHW"), ((3, 4, 4), "CHX"), ((0, 3, 2, 2), "NCHW")])
def test_image_errors(tmp_path, shape, fmt):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match="ember.tensorboard.add_image"):
        (w.add_images if len(fmt) == 4 else w.add_image)("i", np.zeros(shape), dataformats=fmt)


# --- text, hparams, graph ------------------------------------------------------------------------------
def test_text(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "**lr** = 0.1 ✓", 7)
    acc = load(tmp_path)
    assert "notes/text_summary" in acc.PluginTagToContent("text")
    (e,) = acc.Tensors("notes/text_summary")
    assert e.step == 7 and tensor_util.make_ndarray(e.tensor_proto)[0].decode() == "**lr** = 0.1 ✓"


def test_hparams(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.01, "opt": "adam", "bn": True, "layers": ember.tensor(3), "skip": None},
                      {"hp/accuracy": 0.9}, hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="trial1")
    acc = load(tmp_path / "trial1")
    content = acc.PluginTagToContent("hparams")
    assert set(content) == {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["lr"].number_value == 0.01 and start.hparams["opt"].string_value == "adam"
    assert start.hparams["bn"].bool_value is True and start.hparams["layers"].number_value == 3
    assert "skip" not in start.hparams
    exp = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert [m.name.tag for m in exp.metric_infos] == ["hp/accuracy"]
    assert [h.name for h in exp.hparam_infos] == ["lr", "opt", "bn", "layers"]
    assert [v.string_value for v in exp.hparam_infos[1].domain_discrete.values] == ["adam", "sgd"]
    end = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_end_info"]).session_end_info
    assert end.status == 1  # STATUS_SUCCESS
    assert acc.Scalars("hp/accuracy")[0].value == pytest.approx(0.9)


def test_hparams_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(TypeError, match="ember.tensorboard.add_hparams"):
            w.add_hparams([("lr", 1)], {})
        with pytest.raises(ValueError, match="ember.tensorboard.add_hparams: hparam 'f'"):
            w.add_hparams({"f": [1, 2]}, {})


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Linear(4, 4)
        self.norm = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(ember.ones(4))

    def forward(self, x):
        return self.norm(self.conv(x)).relu() * self.scale + x  # functional ops between modules


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(3, 4)
        self.blocks = nn.Sequential(Block(), nn.Dropout(0.5))
        self.head = nn.Linear(4, 2)
        self.unused = nn.Tanh()

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def _graph(tmp_path, model, inp=None):
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, inp)
    return {n.name: n for n in load(tmp_path).Graph().node}


def test_graph_traced(tmp_path):
    net = Net()
    stats = net.blocks[0].norm.running_mean.numpy().copy()
    g = _graph(tmp_path, net, ember.randn(2, 3))
    assert net.training and net.blocks[0].norm.training  # modes restored, statistics untouched
    np.testing.assert_array_equal(net.blocks[0].norm.running_mean.numpy(), stats)
    stem, conv = "Net/Linear[stem]/forward", "Net/Sequential[blocks]/Block[0]/Linear[conv]/forward"
    norm, drop = "Net/Sequential[blocks]/Block[0]/BatchNorm1d[norm]/forward", "Net/Sequential[blocks]/Dropout[1]"
    assert g[stem].op == "Linear" and list(g[stem].input) == ["input/input.0", "Net/Linear[stem]/weight",
                                                              "Net/Linear[stem]/bias"]
    assert g["Net/Linear[stem]/weight"].op == "Parameter"
    assert [d.size for d in g["Net/Linear[stem]/weight"].attr["_output_shapes"].list.shape[0].dim] == [4, 3]
    assert g["Net/Linear[stem]/weight"].attr["dtype"].s == b"float32"
    assert g[conv].input[0] == stem and g[norm].input[0] == conv
    assert g[norm].attr["extra_repr"].s.startswith(b"4")
    assert g[drop].input[0] == norm  # Block's output came from functional ops: previous leaf
    assert list(g["Net/Linear[head]/forward"].input)[0] == drop
    assert list(g["output/output.0"].input) == ["Net/Linear[head]/forward"]
    assert [d.size for d in g["Net/Linear[head]/forward"].attr["_output_shapes"].list.shape[0].dim] == [2, 2]
    assert g["Net/Sequential[blocks]/Block[0]/scale"].op == "Parameter"
    assert g["Net/Sequential[blocks]/Block[0]/BatchNorm1d[norm]/running_mean"].op == "Buffer"
    assert g["Net/Tanh[unused]"].op == "Tanh" and not g["Net/Tanh[unused]"].input


def test_graph_without_input_and_shared_module(tmp_path):
    g = _graph(tmp_path, nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)))
    assert list(g["Sequential/ReLU[1]"].input) == ["Sequential/Linear[0]/forward"]
    assert list(g["Sequential/Linear[2]/forward"].input)[0] == "Sequential/ReLU[1]"
    lin = nn.Linear(3, 3)
    g = _graph(tmp_path / "shared", nn.Sequential(lin, nn.ReLU(), lin), ember.randn(1, 3))
    assert g["Sequential/Linear[0]/forward_1"].input[0] == "Sequential/ReLU[1]"


# --- buffering, lifecycle, purge ------------------------------------------------------------------------
def test_buffering_and_flush(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=5)
    (path,) = event_files(tmp_path)
    for i in range(4):
        w.add_scalar("x", i, i)
    assert len(records(path)) == 1  # only the file_version so far
    w.add_scalar("x", 4, 4)  # the 5th pending event writes the queue
    assert len(records(path)) == 6
    w.add_scalar("x", 5, 5)
    w.flush()
    assert len(records(path)) == 7
    w.close()
    w.add_scalar("x", 6, 6)  # a closed writer reopens a new file, as torch's does
    w.close()
    assert len(event_files(tmp_path)) == 2
    assert [e.step for e in load(tmp_path).Scalars("x")] == list(range(7))


def test_flush_secs(tmp_path):
    w = SummaryWriter(tmp_path, flush_secs=0)
    w.add_scalar("x", 1.0, 0)
    assert len(records(event_files(tmp_path)[0])) == 2
    w.close()


def test_purge_step(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for i in range(10):
            w.add_scalar("loss", float(i), i)
    with SummaryWriter(tmp_path, purge_step=5) as w:  # the run crashed after step 4 and restarts
        for i in range(5, 8):
            w.add_scalar("loss", 100.0 + i, i)
    evs = load(tmp_path).Scalars("loss")
    assert [(e.step, e.value) for e in evs] == [(i, float(i)) for i in range(5)] + [(i, 100.0 + i) for i in range(5, 8)]


def test_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as w:
        w.add_scalar("x", 1.0)
        assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_" + re.escape(socket.gethostname()) + "_lr0.1",
                            w.get_logdir().replace(os.sep, "/"))
    assert len(event_files(tmp_path / w.get_logdir())) == 1


def test_unclosed_writer_flushes_at_exit(tmp_path):
    r = run_py(f"from ember.tensorboard import SummaryWriter\nw = SummaryWriter({str(tmp_path)!r})\n"
               "for i in range(3):\n    w.add_scalar('x', i, i)\n")
    assert r.returncode == 0, r.stderr
    assert [e.step for e in load(tmp_path).Scalars("x")] == [0, 1, 2]


def test_tensorboard_plugins_see_every_kind(tmp_path):
    """The path TensorBoard's server takes: data_compat migrates events into plugin tensors."""
    from tensorboard.backend.event_processing import plugin_event_accumulator
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("s", 1.0, 0)
        w.add_histogram("h", np.arange(10.0), 0)
        w.add_image("i", np.zeros((3, 2, 2)), 0)
        w.add_text("t", "hi", 0)
        w.add_graph(nn.Linear(2, 2), ember.randn(1, 2))
    acc = plugin_event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    assert {"scalars", "histograms", "images", "text"} <= set(acc.ActivePlugins())
    assert acc.Graph() is not None
    (e,) = acc.Tensors("s")
    assert tensor_util.make_ndarray(e.tensor_proto) == 1.0
    (e,) = acc.Tensors("i")
    assert read_png(tensor_util.make_ndarray(e.tensor_proto)[2]).shape == (2, 2, 3)
