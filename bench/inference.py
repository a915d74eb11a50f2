"""Inference latency: the MLP on one example under no_grad, in eval mode."""
from .harness import Workload
from .models import MLP, data, mlp


def infer_setup(lib):
    def setup(cfg):
        lib.manual_seed(0)
        model = mlp(lib).eval()
        x = lib.from_numpy(data("mlp")[0][:1].copy())

        def step():
            with lib.no_grad():
                model(x)
        return step
    return setup


def workloads(libs):
    return [Workload("mlp_infer_b1", "inference", "MLP 784-256-256-10 forward, batch 1, no_grad, eval()",
                     {k: infer_setup(lib) for k, lib in libs.items()}, target=1.0, warmup=20,
                     params=dict(MLP, batch=1))]
