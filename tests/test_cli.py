"""The ember command line: help and version, `ember info`, `ember bench`, and a full `ember demo` run
whose TensorBoard logs are read back by TensorBoard's own EventAccumulator."""
import os
import re
import shutil
import subprocess
import sys

import pytest

import ember
from ember import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ember_cmd(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "ember", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def test_help_lists_every_subcommand():
    out = ember_cmd("--help")
    assert out.returncode == 0, out.stderr
    for name in ("demo", "info", "bench"):
        assert name in out.stdout
    assert set(cli.COMMANDS) >= {"demo", "info", "bench"}


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_subcommand_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([name, "--help"])
    assert e.value.code == 0
    assert f"usage: ember {name}" in capsys.readouterr().out


def test_version():
    out = ember_cmd("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"ember {ember.__version__}"


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 0
    assert "usage: ember" in capsys.readouterr().out


def test_unknown_command_fails():
    out = ember_cmd("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_info_reports_versions_features_threads():
    out = ember_cmd("info")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"ember       {ember.__version__}" in text
    import numpy
    assert numpy.__version__ in text and "bfloat16" in text
    for extra, *_ in cli.FEATURES:
        assert re.search(rf"^  {re.escape(extra)}\s+\S", text, re.M), extra
    assert re.search(r"^  torch\s+2\.13", text, re.M)  # the test oracle is installed
    assert "os.cpu_count" in text and "OMP_NUM_THREADS" in text and "blas" in text


def test_info_imports_no_optional_dependency():
    code = ("import sys, io, contextlib; from ember.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['info'])\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'tensorboard', 'grpc') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_bench_without_checkout_says_how(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_repo_root", lambda: None)
    assert cli.main(["bench"]) == 1
    assert "python -m bench" in capsys.readouterr().err


def test_bench_runs_python_m_bench_in_the_checkout(monkeypatch, tmp_path):
    (tmp_path / "bench").mkdir()
    calls = []
    monkeypatch.setattr(cli, "_repo_root", lambda: str(tmp_path))
    monkeypatch.setattr(cli.subprocess, "call", lambda cmd, cwd: calls.append((cmd, cwd)) or 0)
    assert cli.main(["bench", "--quick", "x"]) == 0
    assert calls == [([sys.executable, "-m", "bench", "--quick", "x"], str(tmp_path))]


def test_demo_without_scikit_learn_says_which_extra(monkeypatch, capsys, tmp_path):
    real = cli.util.find_spec
    monkeypatch.setattr(cli.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    assert cli.main(["demo", "--out", str(tmp_path)]) == 1
    assert "ember demo needs scikit-learn: pip install -e '.[demo]'" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


def test_pyproject_declares_script_and_demo_extra():
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    assert project["scripts"]["ember"] == "ember.cli:main"
    demo = " ".join(project["optional-dependencies"]["demo"])
    assert "scikit-learn" in demo and "tensorboard" in demo


@pytest.mark.skipif(shutil.which("ember") is None, reason="console script not installed (pip install -e .)")
def test_console_script():
    out = subprocess.run(["ember", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"ember {ember.__version__}"


def test_demo_trains_logs_and_checkpoints(tmp_path):
    pytest.importorskip("sklearn")
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    out_dir = tmp_path / "demo"
    out = ember_cmd("demo", "--out", str(out_dir), timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    epochs = 12  # the default
    assert f"Epoch {epochs}/{epochs}" in out.stdout  # the progress bar's per-epoch lines
    accuracy = float(re.search(r"^test accuracy: ([\d.]+)", out.stdout, re.M).group(1))
    assert accuracy >= 0.97, out.stdout
    logs = out_dir / "logs"
    assert str(logs) in out.stdout and "tensorboard --logdir" in out.stdout

    def read(run):
        acc = event_accumulator.EventAccumulator(str(logs / run), size_guidance={"scalars": 0, "histograms": 0,
                                                                                   "images": 0})
        return acc.Reload()

    train, val = read("train"), read("validation")
    for acc, tags in ((train, ("epoch_loss", "epoch_accuracy", "epoch_learning_rate")),
                      (val, ("epoch_loss", "epoch_accuracy"))):
        for tag in tags:
            assert [e.step for e in acc.Scalars(tag)] == list(range(epochs)), tag
    assert 0 < val.Scalars("epoch_accuracy")[-1].value <= 1  # validation: the last 10% of the training split
    hist = train.Tags()["histograms"]
    assert "0.weight" in hist  # the first conv layer's weights, and every other parameter, per epoch
    assert len(train.Histograms("0.weight")) == epochs and train.Histograms("0.weight")[-1].histogram_value.num == 288
    assert train.Tags()["images"] == ["test_digits"]
    image = train.Images("test_digits")
    assert len(image) == 1 and (image[0].width, image[0].height) == (8 * 32, 4 * 32)

    ckpt = out_dir / "digits_cnn.safetensors"
    assert str(ckpt) in out.stdout
    state = ember.load(str(ckpt))
    from ember.demo import make_model
    model = make_model()
    model.load_state_dict(state)
    assert state["0.weight"].shape == (32, 1, 3, 3)
