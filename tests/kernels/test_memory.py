"""The allocator setting applied at import, and the ways to opt out of it."""
import os
import subprocess
import sys

import pytest

from ember.kernels.cpu import _memory

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")


@linux
def test_top_pad_is_set_on_glibc():
    assert _memory.tune_malloc() is True


@pytest.mark.parametrize("env", [{"EMBER_MALLOC_TUNING": "0"}, {"MALLOC_TOP_PAD_": "0"}])
def test_user_choice_wins(monkeypatch, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert _memory.tune_malloc() is False


_STEPS = """
import resource, ember
ember.manual_seed(0)
layer = ember.nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)
x = ember.randn(16, 64, 128)
for _ in range(3):
    layer(x).sum().backward()
r = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    layer(x).sum().backward()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r) / 5)
"""


def _faults_per_step(tuning):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["EMBER_MALLOC_TUNING"] = tuning
    out = subprocess.run([sys.executable, "-c", _STEPS], env=env, capture_output=True, text=True, timeout=120,
                         check=True).stdout
    return float(out)


@linux
def test_training_steps_reuse_memory_instead_of_faulting():
    """Without the pad, glibc returns each step's freed arrays to the OS and the next step
    faults them back in (hundreds of page faults per transformer-layer step)."""
    untuned, tuned = _faults_per_step("0"), _faults_per_step("1")
    assert tuned <= max(untuned / 10, 5)
