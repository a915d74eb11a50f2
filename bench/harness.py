"""Timing, statistics, machine facts, the printed table and the JSON record.

A workload has one *setup* per implementation ("ember", "torch", and optionally "numpy").
In mode "time" a setup returns a step function: the harness warms it up, picks how many
calls make one repeat (about `rep_seconds` long), then times repeats of the implementations
interleaved (ember rep, torch rep, ember rep, ...), so machine noise hits both alike.
In mode "sample" a setup returns a function that itself returns one measurement (seconds
of an import in a fresh process, bytes of peak memory), and the harness interleaves those.
"""
import gc
import json
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPLS = ("ember", "torch", "numpy")


@dataclass
class Workload:
    name: str
    family: str
    description: str
    setups: dict                 # impl name -> setup(cfg) -> step fn (mode "time") or sample fn
    target: float = None         # wanted ratio ember/torch (lower is better)
    unit: str = "s"              # "s" (per step) or "B" (bytes)
    mode: str = "time"
    per_call: int = 1            # ops done by one call of the step (unrolled micro loops)
    warmup: int = 3
    params: dict = field(default_factory=dict)


@dataclass
class Config:
    quick: bool = False
    repeats: int = None          # None: the workload family's default

    @property
    def rep_seconds(self):
        return 0.02 if self.quick else 0.25

    def reps(self, full, quick):
        return self.repeats if self.repeats else (quick if self.quick else full)


# --- statistics -------------------------------------------------------------------------------
def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    pos = (len(xs) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarize(samples):
    return dict(median=quantile(samples, .5), q1=quantile(samples, .25), q3=quantile(samples, .75),
                min=min(samples), max=max(samples), n=len(samples), samples=samples)


# --- running one workload -----------------------------------------------------------------------
def _calibrate(step, per_call, rep_seconds):
    """Calls per repeat so that one repeat lasts about rep_seconds."""
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        t = time.perf_counter() - t0
        if t >= rep_seconds / 10 or n >= 1 << 20:
            return max(1, round(n * rep_seconds / max(t, 1e-9)))
        n *= 4


def _timed_sampler(step, calls, per_call):
    def sample():
        t0 = time.perf_counter()
        for _ in range(calls):
            step()
        return (time.perf_counter() - t0) / (calls * per_call)
    return sample


def run_workload(w, cfg, repeats, log=print):
    """Set up every implementation, interleave their repeats, return the JSON-ready record."""
    rec = dict(name=w.name, family=w.family, description=w.description, unit=w.unit, mode=w.mode,
               target=w.target, params=w.params, results={}, errors={})
    samplers, calls = {}, {}
    for impl, setup in w.setups.items():
        try:
            fn = setup(cfg)
            for _ in range(w.warmup):
                fn()
            if w.mode == "time":
                calls[impl] = _calibrate(fn, w.per_call, cfg.rep_seconds)
                fn = _timed_sampler(fn, calls[impl], w.per_call)
            samplers[impl] = fn
        except Exception as e:  # a missing framework or op skips that column, never the run
            rec["errors"][impl] = f"{type(e).__name__}: {e}"[:500]
    samples = {impl: [] for impl in samplers}
    for _ in range(repeats):
        for impl, fn in list(samplers.items()):
            gc.collect()
            try:
                samples[impl].append(fn())
            except Exception as e:
                rec["errors"][impl] = f"{type(e).__name__}: {e}"[:500]
                del samplers[impl]
    for impl, xs in samples.items():
        if xs:
            rec["results"][impl] = dict(summarize(xs), calls_per_repeat=calls.get(impl, 1) * w.per_call)
    res = rec["results"]
    rec["ratio"] = rec["ratio_iqr"] = rec["meets_target"] = None
    if "ember" in res and "torch" in res:
        e, t = res["ember"]["samples"], res["torch"]["samples"]
        rec["ratio"] = res["ember"]["median"] / res["torch"]["median"]
        paired = [a / b for a, b in zip(e, t)]      # same repeat index = same moment on the machine
        rec["ratio_iqr"] = [quantile(paired, .25), quantile(paired, .75)]
        if w.target is not None:
            rec["meets_target"] = rec["ratio"] <= w.target
    if "ember" in res and "numpy" in res:
        rec["ratio_numpy"] = res["ember"]["median"] / res["numpy"]["median"]
    return rec


# --- machine facts ------------------------------------------------------------------------------
def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _git(*args):
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def blas_info():
    """Thread pools loaded in this process (NumPy's BLAS, torch's OpenMP) and their sizes (threadpoolctl when installed; else the env vars)."""
    try:
        import numpy  # noqa: F401  (load the BLAS so threadpoolctl sees it)
        from threadpoolctl import threadpool_info
        return [{k: d.get(k) for k in ("user_api", "internal_api", "version", "num_threads", "filepath")}
                for d in threadpool_info()]
    except Exception:
        return [{"env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                        "MKL_NUM_THREADS")}}]


def set_threads(n):
    """Limit NumPy's BLAS to n threads at run time (needs threadpoolctl; else the env vars set by
    the caller only reach child processes)."""
    if n:
        try:
            from threadpoolctl import threadpool_limits
            import numpy  # noqa: F401
            threadpool_limits(n, user_api="blas")
        except ImportError:
            pass


def machine_info(torch):
    import numpy
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((line.split(":", 1)[1].strip() for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal")), None)
    try:
        import ember
        ember_version = ember.__version__
    except Exception as e:
        ember_version = f"unavailable ({type(e).__name__})"
    commit = _git("rev-parse", "HEAD")
    return dict(
        host=socket.gethostname(), platform=platform.platform(), cpu=cpu, cpu_count=os.cpu_count(),
        cpu_affinity=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        memory=mem, loadavg_start=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        python=sys.version.split()[0],
        versions=dict(ember=ember_version, numpy=numpy.__version__,
                      torch=torch.__version__ if torch else None),
        git=dict(commit=commit or None, dirty=bool(_git("status", "--porcelain", "--untracked-files=no"))
                 if commit else None),
        threads=dict(torch=torch.get_num_threads() if torch else None, pools=blas_info(),
                     env={k: v for k, v in os.environ.items()
                          if k.endswith("_NUM_THREADS") or k == "OMP_WAIT_POLICY"}))


def write_json(record, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    host = "".join(c if c.isalnum() or c in "-_." else "_" for c in socket.gethostname()) or "host"
    path = os.path.join(out_dir, f"{stamp}-{host}.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, path)
    return path


# --- the printed table --------------------------------------------------------------------------
def _scale(x, unit):
    if unit == "B":
        return 2**20, "MiB"
    return next(((sc, sfx) for sc, sfx in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")) if x >= sc), (1e-9, "ns"))


def _num(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.3g}"


def fmt(x, unit, scale=None):
    if x is None:
        return "-"
    sc, sfx = scale or _scale(x, unit)
    return f"{_num(x / sc)} {sfx}"


def _cell(rec, impl):
    r = rec["results"].get(impl)
    if r is None:
        return "error" if impl in rec["errors"] else "-"
    sc = _scale(r["median"], rec["unit"])
    return f"{fmt(r['median'], rec['unit'], sc)} [{_num(r['min'] / sc[0])}–{_num(r['max'] / sc[0])}]"


def table(records):
    head = ("workload", "ember (median [min–max])", "torch (median [min–max])", "ember/torch",
            "paired IQR", "target", "ok", "numpy floor")
    rows = [head]
    for rec in records:
        ratio = f"{rec['ratio']:.2f}" if rec["ratio"] is not None else "-"
        iqr = f"{rec['ratio_iqr'][0]:.2f}–{rec['ratio_iqr'][1]:.2f}" if rec["ratio_iqr"] else "-"
        ok = {True: "yes", False: "NO", None: "-"}[rec["meets_target"]]
        numpy = rec["results"].get("numpy")
        floor = f"{fmt(numpy['median'], rec['unit'])} (ember {rec['ratio_numpy']:.1f}x)" if numpy else ""
        rows.append((rec["name"], _cell(rec, "ember"), _cell(rec, "torch"), ratio, iqr,
                     f"<= {rec['target']}" if rec["target"] is not None else "-", ok, floor))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for rec in records:
        for impl, err in rec["errors"].items():
            lines.append(f"  {rec['name']} [{impl}]: {err}")
    return "\n".join(lines)
