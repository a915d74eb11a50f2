"""python -m bench [--quick] [--only NAME ...] [--repeats N] [--no-json] [--out DIR] [--no-torch]"""
import argparse
import json
import os
import sys
import time

from . import harness, workloads

DEFAULT_REPEATS = {"dispatch": (9, 3), "training": (9, 3), "inference": (9, 3), "startup": (7, 2),
                   "memory": (3, 1)}   # (full, --quick)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description="Ember vs PyTorch, interleaved, one run.")
    ap.add_argument("--quick", action="store_true", help="few repeats and short repeats (CI smoke run)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="workload or family names (see --list)")
    ap.add_argument("--repeats", type=int, help="repeats per implementation (default: per family)")
    ap.add_argument("--no-json", action="store_true", help="print the table only")
    ap.add_argument("--out", default=os.path.join(harness.ROOT, "bench", "results"),
                    help="directory of the JSON record (default bench/results)")
    ap.add_argument("--no-torch", action="store_true", help="run as if PyTorch were not installed")
    ap.add_argument("--threads", type=int, help="threads of torch and of NumPy's BLAS (default: torch "
                    "os.cpu_count(), BLAS its own default); useful on a loaded machine")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = ap.parse_args(argv)

    if args.threads:   # before NumPy starts its BLAS; the children (import, memory) inherit it too
        for var in ("BENCH_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    harness.set_threads(args.threads)
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads or os.cpu_count())
        except ImportError:
            torch = None
    import ember
    import ember.nn  # noqa: F401
    import ember.optim  # noqa: F401
    libs = {"ember": ember, **({"torch": torch} if torch else {})}
    all_w = workloads(libs)
    if args.list:
        for w in all_w:
            print(f"{w.name:22} {w.family:10} {w.description}")
        return 0
    chosen = all_w
    if args.only:
        known = {w.name for w in all_w} | {w.family for w in all_w}
        bad = [n for n in args.only if n not in known]
        if bad:
            ap.error(f"unknown workload {bad}; choose from {sorted(known)}")
        chosen = [w for w in all_w if w.name in args.only or w.family in args.only]

    cfg = harness.Config(quick=args.quick, repeats=args.repeats)
    info = harness.machine_info(torch)
    print(f"ember {info['versions']['ember']} vs torch {info['versions']['torch'] or '(not installed: skipped)'}"
          f" | {info['cpu']} x{info['cpu_count']} | torch threads {info['threads']['torch']},"
          f" thread pools {[(b.get('internal_api'), b.get('num_threads')) for b in info['threads']['pools']]}"
          f" | load {info['loadavg_start']}", flush=True)
    load = (info["loadavg_start"] or [0])[0]
    if not args.threads and load > 0.5 * os.cpu_count():
        info["busy_warning"] = True
        print(f"WARNING: load average {load:.1f} on {os.cpu_count()} cores: other work holds the CPUs, and "
              "multi-threaded BLAS/OpenMP then stalls on its barriers (steps 10-100x slower, bimodal). "
              "Use --threads 1 for steady numbers.", flush=True)
    records, t0 = [], time.perf_counter()
    for w in chosen:
        reps = cfg.reps(*DEFAULT_REPEATS[w.family])
        print(f"  {w.name} ({reps} repeats) ...", end="", flush=True)
        t = time.perf_counter()
        records.append(harness.run_workload(w, cfg, reps))
        print(f" {time.perf_counter() - t:.1f} s", flush=True)
    info["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    print()
    print(harness.table(records))
    record = dict(schema=1, timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), quick=args.quick,
                  argv=sys.argv[1:] if argv is None else list(argv), seconds=time.perf_counter() - t0,
                  machine=info, workloads=records)
    if not args.no_json:
        print(f"\nwrote {harness.write_json(record, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
