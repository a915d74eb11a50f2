"""Import time: `import ember` vs `import torch`, each in a fresh Python process.

The child times the import statement itself with perf_counter (interpreter start-up, the same for
both, is left out). One discarded warm-up import per library fills the OS file cache and, for
ember, its bytecode cache (as a pip install has for torch).
"""
import os
import subprocess
import sys

from .harness import ROOT, Workload

CHILD = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


def child_env():
    env = dict(os.environ)
    # installed packages import from bytecode caches (pip writes torch's at install); let the
    # working tree's ember write its own too, or every sample would recompile ~60 modules
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")   # the working tree's ember
    return env


def import_setup(module):
    def setup(cfg):
        def sample():
            out = subprocess.run([sys.executable, "-c", CHILD.format(mod=module)], cwd=ROOT, env=child_env(),
                                 capture_output=True, text=True, timeout=300)
            if out.returncode:
                raise RuntimeError(f"import {module} failed: {out.stderr.strip()[-300:]}")
            return float(out.stdout.split()[-1])
        return sample
    return setup


def workloads(libs):
    return [Workload("import", "startup", "wall time of the import statement in a fresh process",
                     {k: import_setup(k) for k in libs}, target=0.15, mode="sample", warmup=1)]
