"""Peak memory of the transformer training step, each library in its own fresh process.

The child imports the library, builds the model, optimizer and data, notes its resident memory
(the baseline), resets the high-water mark (/proc/self/clear_refs) and runs a few steps. The
measure is the rise of peak RSS (VmHWM) over the baseline: activations kept for backward,
gradients, AdamW's state (created lazily at the first step, in both libraries) and temporaries.
Run as `python -m bench.memory ember|torch [--steps N]`; prints one JSON line.
"""
import json
import os
import resource
import subprocess
import sys

from .harness import ROOT, Workload


def _status(key):
    """VmRSS / VmHWM in bytes from /proc/self/status; ru_maxrss where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(lib_name, steps):
    import importlib
    lib = importlib.import_module(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(int(os.environ.get("BENCH_THREADS") or os.cpu_count()))
    from .models import train_step
    after_import = _status("VmRSS")
    step = train_step(lib, "lm")
    baseline = _status("VmRSS")
    reset = _reset_peak()
    for _ in range(steps):
        step()
    peak = _status("VmHWM")
    print(json.dumps(dict(after_import=after_import, baseline=baseline, peak=peak, rise=peak - baseline,
                          peak_reset=reset, steps=steps)))


def mem_setup(lib_name):
    def setup(cfg):
        steps = 1 if cfg.quick else 3

        def sample():
            from .startup import child_env
            out = subprocess.run([sys.executable, "-m", "bench.memory", lib_name, "--steps", str(steps)],
                                 cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
            if out.returncode:
                raise RuntimeError(f"memory child for {lib_name} failed: {out.stderr.strip()[-300:]}")
            return json.loads(out.stdout.strip().splitlines()[-1])["rise"]
        return sample
    return setup


def workloads(libs):
    return [Workload("transformer_peak_mem", "memory",
                     "rise of peak RSS during transformer training steps over RSS after setup + first step",
                     {k: mem_setup(k) for k in libs}, target=1.0, unit="B", mode="sample", warmup=0)]


if __name__ == "__main__":
    args = sys.argv[1:]
    child(args[0], int(args[args.index("--steps") + 1]) if "--steps" in args else 3)
