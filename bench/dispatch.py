"""Dispatch overhead: what one op costs when the arithmetic is free (1-element tensors)."""
from .harness import Workload

UNROLL = 10   # ops per call of the step, so the Python loop around it is not what we measure


def add_setup(lib):
    def setup(cfg):
        a, b = lib.ones(1), lib.ones(1)
        return lambda: (a + b, a + b, a + b, a + b, a + b, a + b, a + b, a + b, a + b, a + b)
    return setup


def fwd_bwd_setup(lib):
    def setup(cfg):
        a = lib.ones(1, requires_grad=True)

        def step():
            (a * 2 + 1).sum().backward()
        return step
    return setup


def workloads(libs):
    return [
        Workload("add_1elem", "dispatch", "a + b on 1-element float32 tensors, no grad; time per op",
                 {k: add_setup(lib) for k, lib in libs.items()}, target=1.5, per_call=UNROLL, warmup=100,
                 params=dict(shape=[1], dtype="float32", unroll=UNROLL)),
        Workload("tiny_fwd_bwd", "dispatch", "(a*2+1).sum().backward(), a: 1 element requiring grad",
                 {k: fwd_bwd_setup(lib) for k, lib in libs.items()}, target=1.0, warmup=100,
                 params=dict(shape=[1], dtype="float32")),
    ]
