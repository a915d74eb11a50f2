"""The README opens with the two commands, and its Python blocks (the quick start and the same
model as a PyTorch-style loop) run as written."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md")).read()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert first_block == ['pip install -e ".[demo]" && ember demo', 'pip install -e ".[dev]" && pytest']
    assert README.index("```bash") < README.index("```python")


def test_quick_start_is_short():
    assert len(BLOCKS) == 2
    assert len(BLOCKS[0].strip().splitlines()) <= 10
    assert "model.fit(" in BLOCKS[0] and "model.evaluate(" in BLOCKS[0]
    assert "loss.backward()" in BLOCKS[1] and "optimizer.step()" in BLOCKS[1]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_python_blocks_run(index):
    pytest.importorskip("sklearn")
    out = subprocess.run([sys.executable, "-c", BLOCKS[index]], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    accuracy = float(re.search(r"^test accuracy ([\d.]+)$", out.stdout, re.M).group(1))
    assert accuracy > 0.9, out.stdout


def test_tensorboard_and_docs_are_pointed_to():
    assert "tensorboard --logdir ember-demo/logs" in README
    for doc in ("docs/architecture.md", "docs/ops.md"):
        assert doc in README and os.path.exists(os.path.join(ROOT, doc))
