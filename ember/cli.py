"""The ``ember`` command line: ``ember demo | info | bench`` (``python -m ember`` works too).

Each subcommand is one entry of ``COMMANDS``: a name, a one-line help, a function that adds its
arguments to an argparse parser and a function that runs it and returns the exit status. A new
subcommand (``export``, ``serve`` ...) is one more ``@command`` function; heavy imports happen
inside it, so ``ember --help`` stays instant. A subcommand whose parser sets ``passthrough=True``
receives unknown arguments in ``args.extra`` (``ember bench`` hands them to ``python -m bench``).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from importlib import metadata, util

COMMANDS = {}  # name -> (help, add_arguments(parser), run(args) -> exit status)

# optional features: (name shown, module to look for, distribution that has its version, what it enables)
FEATURES = [("torch", "torch", "torch", "test oracle, .pt checkpoints"),
            ("tensorboard", "tensorboard", "tensorboard", "TensorBoard logs"),
            ("scikit-learn", "sklearn", "scikit-learn", "bundled datasets, ember demo"),
            ("onnx", "onnx", "onnx", "ONNX export / import"),
            ("onnxruntime", "onnxruntime", "onnxruntime", "running exported ONNX models"),
            ("numba", "numba", "numba", "fused CPU loops (a dependency; EMBER_JIT=0 turns them off)"),
            ("cupy", "cupy", "cupy", "CUDA backend"),
            ("mpi4py", "mpi4py", "mpi4py", "distributed training over MPI"),
            ("grpcio", "grpc", "grpcio", "gRPC serving"),
            ("fastapi", "fastapi", "fastapi", "REST serving")]
THREAD_VARS = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS"]


def command(name, help, arguments=lambda parser: None):
    """Register ``run(args) -> exit status`` as subcommand ``name``; ``arguments(parser)`` adds its options."""
    def register(run):
        COMMANDS[name] = (help, arguments, run)
        return run
    return register


def _version():
    from . import __version__
    return __version__


# ---------------------------------------------------------------------------- ember demo

def _demo_arguments(p):
    p.add_argument("--out", default="ember-demo", help="folder for the logs and checkpoint (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=12, help="training epochs (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the split and the model (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


@command("demo", "train a small CNN on scikit-learn's digits with fit(), TensorBoard logs and a checkpoint",
         _demo_arguments)
def demo(args):
    if util.find_spec("sklearn") is None:
        print("ember demo needs scikit-learn: pip install -e '.[demo]'", file=sys.stderr)
        return 1
    from .demo import run
    result = run(out=args.out, epochs=args.epochs, seed=args.seed, verbose=0 if args.quiet else 1)
    print(f"test accuracy: {result['test_accuracy']:.4f} ({result['test_samples']} held-out digits)")
    print(f"finished in {result['seconds']:.1f}s")
    print(f"checkpoint: {result['checkpoint']}")
    if result["logs"]:
        print(f"TensorBoard logs: {result['logs']}  (view: tensorboard --logdir {result['logs']})")
    else:
        print("TensorBoard logs skipped: pip install -e '.[demo]' to get tensorboard")
    return 0


# ---------------------------------------------------------------------------- ember info

def _dist_version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "installed"


def _blas():
    """NumPy's BLAS as numpy.show_config reports it, plus threadpoolctl's thread counts if it is installed."""
    import numpy as np
    lines = []
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        lines.append(f"{blas.get('name', '?')} {blas.get('version', '')}".strip())
    except Exception:  # older NumPy or an unusual build: the config is informational only
        lines.append("unknown (numpy.show_config() has the details)")
    if util.find_spec("threadpoolctl") is not None:
        try:
            from threadpoolctl import threadpool_info
            lines += [f"{p.get('internal_api')} {p.get('version')}: {p.get('num_threads')} threads "
                      f"({p.get('user_api')})" for p in threadpool_info()]
        except Exception as e:
            lines.append(f"threadpoolctl failed: {e}")
    return lines


@command("info", "print versions, dtypes, installed optional features and thread settings")
def info(args):
    import numpy as np
    from . import dtypes
    print(f"ember       {_version()}  ({os.path.dirname(os.path.abspath(__file__))})")
    print(f"python      {platform.python_version()} ({platform.python_implementation()}, {sys.platform})")
    print(f"numpy       {np.__version__}")
    print(f"ml_dtypes   {_dist_version('ml_dtypes')}")
    print(f"dtypes      {', '.join(d.name for d in dtypes.ALL)} (default {dtypes.get_default_dtype().name})")
    print("optional features:")
    for extra, module, dist, purpose in FEATURES:
        found = util.find_spec(module) is not None  # never imported: `ember info` stays fast and safe
        state = _dist_version(dist) if found else "not installed"
        print(f"  {extra:<13}{state:<16}{purpose}")
    print("threads:")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print(f"  os.cpu_count {os.cpu_count()}" + (f" (usable by this process: {affinity})" if affinity else ""))
    for var in THREAD_VARS:
        print(f"  {var:<23}{os.environ.get(var, 'unset')}")
    for line in _blas():
        print(f"  blas         {line}")
    from .kernels.cpu import _parallel
    print(f"  ember        {_parallel.get_threads()} threads for loops of >= {2 * _parallel.MIN_PER_THREAD} elements "
          f"(ember.set_num_threads)")
    return 0


# ---------------------------------------------------------------------------- ember bench

def _bench_arguments(p):
    p.epilog = "Other arguments go to `python -m bench` (`ember bench -- --help` shows its options)."
    p.set_defaults(passthrough=True)


def _repo_root():
    """The checkout that holds this package, if it has a bench/ directory (editable installs)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return root if os.path.isdir(os.path.join(root, "bench")) else None


@command("bench", "run the side-by-side benchmarks against PyTorch (needs the repository checkout)",
         _bench_arguments)
def bench(args):
    root = _repo_root()
    if root is None:
        print("ember bench runs bench/ from Ember's repository checkout, which this installation lacks.\n"
              "Clone the repository, then inside it: pip install -e '.[dev]' && python -m bench", file=sys.stderr)
        return 1
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    return subprocess.call([sys.executable, "-m", "bench", *extra], cwd=root)


# ---------------------------------------------------------------------------- entry point

def build_parser():
    parser = argparse.ArgumentParser(prog="ember", description="Ember: PyTorch's eager API and TensorFlow's "
                                     "production path, in one package.")
    parser.add_argument("--version", action="version", version=f"ember {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for name, (help, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help, description=help))
    return parser


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command][2](args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
