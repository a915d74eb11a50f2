"""Every script in examples/ runs as `python examples/<name>.py` with tiny settings, and learns."""
import math
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def run(name, *args, timeout=180):
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args], capture_output=True, text=True,
                         cwd=ROOT, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


def number(pattern, text):
    return float(re.search(pattern, text, re.M).group(1))


def test_every_example_is_tested():
    scripts = {f for f in os.listdir(EXAMPLES) if f.endswith(".py")}
    assert scripts == {"digits_cnn_fit.py", "digits_cnn_manual_loop.py", "char_transformer_lm.py",
                       "diabetes_regression.py"}


@pytest.mark.parametrize("name", ["digits_cnn_fit.py", "digits_cnn_manual_loop.py"])
def test_digits_cnn(name):
    pytest.importorskip("sklearn")
    out = run(name, "--epochs", "2")
    assert number(r"^test accuracy ([\d.]+)$" if "loop" in name else r"test accuracy ([\d.]+)$", out) > 0.8


def test_char_transformer_lm_learns():
    out = run("char_transformer_lm.py", "--steps", "60", "--sample-every", "30", "--sample-chars", "40")
    ln_vocab = number(r"ln\(vocab\) = ([\d.]+)", out)
    assert ln_vocab == pytest.approx(math.log(58), abs=1e-3)  # the corpus' characters
    first = number(r"^step    1  loss ([\d.]+)", out)
    final = number(r"^final loss ([\d.]+)", out)
    held_out = number(r"held-out loss ([\d.]+) \(ln", out)
    assert first > 0.9 * ln_vocab  # starts near a uniform guess
    assert final < 0.7 * ln_vocab and held_out < 0.7 * ln_vocab, out
    assert out.count("sample") >= 3


def test_diabetes_regression():
    pytest.importorskip("sklearn")
    out = run("diabetes_regression.py", "--epochs", "30")
    assert number(r"test R2 (-?[\d.]+)", out) > 0.3


def test_corpus_is_plain_text_of_the_right_size():
    text = open(os.path.join(EXAMPLES, "data", "tiny_corpus.txt"), encoding="utf-8").read()
    assert 20_000 <= len(text.encode()) <= 40_000 and text.isascii()
