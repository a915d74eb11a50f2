"""Training steps (forward + cross-entropy + backward + AdamW) of the three reference models."""
from . import numpy_floor
from .harness import Workload
from .models import CNN, LM, MLP, train_step


def step_setup(lib, kind):
    return lambda cfg: train_step(lib, kind)


def workloads(libs):
    mlp = {k: step_setup(lib, "mlp") for k, lib in libs.items()}
    mlp["numpy"] = lambda cfg: numpy_floor.mlp_step()
    return [
        Workload("mlp_step", "training", "MLP 784-256-256-10, batch 128, AdamW + cross-entropy step",
                 mlp, target=1.0, params=MLP),
        Workload("cnn_step", "training", "CNN conv32-pool-conv64-pool-fc128-fc10, 1x28x28, batch 64, step",
                 {k: step_setup(lib, "cnn") for k, lib in libs.items()}, target=1.5, warmup=2, params=CNN),
        Workload("transformer_step", "training",
                 "2-layer causal transformer LM d=128, 4 heads, seq 64, batch 16, vocab 96, step",
                 {k: step_setup(lib, "lm") for k, lib in libs.items()}, target=1.2, warmup=2, params=LM),
    ]
