"""cProfile of one workload's step in one framework: where the time goes.

    python -m bench.profiling mlp_step [--impl ember] [--calls 50] [--sort tottime] [--top 30]
    python -m bench.profiling mlp_step --kernels    # ember: time in each op's kernel, by input shapes
    python -m bench.profiling phases [--calls 20]   # forward / backward / optimizer split, both libs

Timed workloads only (not import / memory). Set OPENBLAS_NUM_THREADS=1 on a busy machine.
"""
import argparse
import cProfile
import importlib
import pstats
import time

from . import harness, models, workloads


def phases(libs, calls):
    """Median ms of zero_grad+forward+loss, backward and optimizer step, per model and library."""
    print(f"{'model':6} {'lib':6} {'forward':>9} {'backward':>9} {'optim':>9} {'total':>9}  (ms, median of {calls})")
    for kind in ("mlp", "cnn", "lm"):
        for name, lib in libs.items():
            lib.manual_seed(0)
            model = models.BUILD[kind](lib)
            opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
            x, y = (lib.from_numpy(a) for a in models.data(kind))
            y = y.reshape(-1)
            times = []
            for i in range(calls + 2):
                t0 = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                logits = model(x)
                loss = lib.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y)
                t1 = time.perf_counter()
                loss.backward()
                t2 = time.perf_counter()
                opt.step()
                t3 = time.perf_counter()
                if i >= 2:
                    times.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
            med = [harness.quantile([t[j] for t in times], .5) * 1e3 for j in range(4)]
            print(f"{kind:6} {name:6} " + " ".join(f"{m:9.2f}" for m in med))


def kernel_table(step, calls, top):
    """Wrap every registered op's kernel with a timer; print ms per call of `step` by (op, shapes)."""
    from collections import defaultdict
    from ember.ops import registry
    acc = defaultdict(lambda: [0, 0.0])
    saved = {name: op.kernel for name, op in registry.OPS.items()}

    def timed(name, kernel):
        def run(*args, **attrs):
            t = time.perf_counter()
            out = kernel(*args, **attrs)
            a = acc[(name, tuple(tuple(getattr(x, "shape", ())) for x in args))]
            a[0] += 1
            a[1] += time.perf_counter() - t
            return out
        return run
    for name, op in registry.OPS.items():
        op.kernel = timed(name, op.kernel)
    try:
        t = time.perf_counter()
        for _ in range(calls):
            step()
        total = (time.perf_counter() - t) / calls
    finally:
        for name, op in registry.OPS.items():
            op.kernel = saved[name]
    inside = sum(s for _, s in acc.values()) / calls
    print(f"step {total * 1e3:.2f} ms; in kernels {inside * 1e3:.2f} ms ({inside / total:.0%}); "
          f"{sum(c for c, _ in acc.values()) // calls} ops per step")
    for (name, shapes), (c, s) in sorted(acc.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"{s / calls * 1e3:8.3f} ms  x{c // calls:<3} {name} {shapes}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.profiling")
    ap.add_argument("workload")
    ap.add_argument("--impl", default="ember")
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--sort", default="tottime", help="pstats key: tottime, cumtime, ncalls")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--kernels", action="store_true", help="ember: time per op kernel instead of cProfile")
    args = ap.parse_args(argv)
    libs = {}
    for name in ("ember", "torch"):
        try:
            libs[name] = importlib.import_module(name)
        except ImportError:
            pass
    importlib.import_module("ember.nn"), importlib.import_module("ember.optim")
    if args.workload == "phases":
        return phases(libs, args.calls)
    w = next(w for w in workloads(libs) if w.name == args.workload)
    step = w.setups[args.impl](harness.Config())
    for _ in range(w.warmup):
        step()
    if args.kernels:
        return kernel_table(step, args.calls, args.top)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.calls):
        step()
    prof.disable()
    stats = pstats.Stats(prof)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
