"""SummaryWriter: torch.utils.tensorboard's API, writing TensorBoard event files."""
import os
import socket
import time
from datetime import datetime

from . import summary as S
from ._proto import event_pb2
from .graph import model_graph
from .record import EventFileWriter


def _file_version_event(step=None):
    e = event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
    if step is not None:
        e.step = int(step)
    return e.SerializeToString()


class FileWriter:
    """Wraps Summary/Event protos into events with a step and wall time, for one directory."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        self.events = EventFileWriter(log_dir, _file_version_event(), max_queue, flush_secs, filename_suffix)

    def get_logdir(self):
        return self.events.log_dir

    def add_event(self, event, step=None, walltime=None):
        event.wall_time = time.time() if walltime is None else float(walltime)
        if step is not None:
            event.step = int(step)
        self.events.add(event.SerializeToString())

    def add_summary(self, summary, global_step=None, walltime=None):
        self.add_event(event_pb2.Event(summary=summary), global_step, walltime)

    def flush(self):
        self.events.flush()

    def close(self):
        self.events.close()


class SummaryWriter:
    """Writes scalars, histograms, images, text, hparams and model graphs for TensorBoard.

    ``log_dir`` defaults to ``runs/<Mon><DD>_<HH-MM-SS>_<hostname><comment>``. Events are buffered
    and written every ``max_queue`` events, after ``flush_secs`` (checked when adding), on
    ``flush()`` and on ``close()``. ``purge_step`` hides events with step >= purge_step left by a
    crashed earlier run in the same directory. Use as a context manager to close it.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        if not log_dir:
            log_dir = os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
                                   + comment)
        self.log_dir = os.fspath(log_dir)
        self.purge_step, self.max_queue = purge_step, max_queue
        self.flush_secs, self.filename_suffix = flush_secs, filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()

    def _get_file_writer(self):
        """The writer of log_dir itself; recreated (a new file) after close()."""
        if self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:  # a SessionLog START at purge_step makes readers drop later steps
                self.file_writer.events.add(_file_version_event(self.purge_step))
                self.file_writer.add_event(event_pb2.Event(session_log=event_pb2.SessionLog(
                    status=event_pb2.SessionLog.START)), self.purge_step)
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        return self.log_dir

    def _add(self, summary, global_step=None, walltime=None):
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number (Python number, NumPy scalar or one-element tensor)."""
        self._add(S.scalar(tag, scalar_value, new_style, double_precision), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several curves on one chart: each goes to the run ``<log_dir>/<main_tag>_<tag>``."""
        walltime = time.time() if walltime is None else walltime
        logdir = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            path = logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            if path not in self.all_writers:
                self.all_writers[path] = FileWriter(path, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers[path].add_summary(S.scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """Log the distribution of ``values``. ``bins``: 'tensorflow' (TF's exponential buckets,
        outliers in the end buckets), an int, an array of edges, or a ``numpy.histogram`` rule name."""
        self._add(S.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step=None, walltime=None):
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("ember.tensorboard.add_histogram_raw: bucket_limits and bucket_counts differ in length")
        self._add(S.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts),
                  global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log one image (PNG). Floats are read as [0, 1], uint8 and other ints as [0, 255];
        ``dataformats`` is CHW, HWC, HW (or a permutation)."""
        self._add(S.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images as one grid image, 8 per row."""
        self._add(S.image(tag, img_tensor, dataformats, op="add_images"), global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a (Markdown) string for the Text dashboard, under ``<tag>/text_summary``."""
        self._add(S.text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        """Log one run's hyperparameters and final metrics for the HParams dashboard, in the
        sub-run ``<log_dir>/<run_name>`` (default: the current time); each metric also as a scalar."""
        summaries = S.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=logdir, max_queue=self.max_queue, filename_suffix=self.filename_suffix) as w:
            for s in summaries:
                w._add(s, global_step)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Log the module tree of ``model`` as a graph; with ``input_to_model`` (a tensor or a
        tuple of positional inputs) one forward pass in eval mode gives the edges and shapes."""
        graph = model_graph(model, input_to_model)
        self._get_file_writer().add_event(event_pb2.Event(graph_def=graph.SerializeToString()))

    def flush(self):
        for w in (self.all_writers or {}).values():
            w.flush()

    def close(self):
        for w in (self.all_writers or {}).values():
            w.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
