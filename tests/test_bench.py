"""bench/ runs and writes a well-formed JSON record. Timings are never asserted here."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_bench(tmp_path, *args):
    out = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1, out.stdout
    return out.stdout, json.loads(files[0].read_text())


def check_stats(r, unit):
    assert r["n"] == len(r["samples"]) >= 1
    assert r["min"] <= r["q1"] <= r["median"] <= r["q3"] <= r["max"]
    assert all(x > 0 for x in r["samples"])


@pytest.mark.parametrize("torch_too", [True, False])
def test_quick_json(tmp_path, torch_too):
    has_torch = torch_too and pytest.importorskip("torch") is not None
    stdout, rec = run_bench(tmp_path, "--only", "add_1elem", "inference", *([] if torch_too else ["--no-torch"]))
    assert rec["schema"] == 1 and rec["quick"] is True
    m = rec["machine"]
    for key in ("host", "cpu", "cpu_count", "python", "versions", "git", "threads", "loadavg_start"):
        assert key in m
    assert m["versions"]["ember"] and m["versions"]["numpy"]
    assert (m["versions"]["torch"] is not None) == has_torch
    assert [w["name"] for w in rec["workloads"]] == ["add_1elem", "mlp_infer_b1"]
    for w in rec["workloads"]:
        assert w["unit"] == "s" and w["target"] is not None and not w["errors"], w["errors"]
        assert set(w["results"]) == ({"ember", "torch"} if has_torch else {"ember"})
        for r in w["results"].values():
            check_stats(r, w["unit"])
        if has_torch:
            assert w["ratio"] == pytest.approx(w["results"]["ember"]["median"] / w["results"]["torch"]["median"])
            assert len(w["ratio_iqr"]) == 2 and isinstance(w["meets_target"], bool)
        else:
            assert w["ratio"] is None and w["meets_target"] is None
    assert "add_1elem" in stdout and "ember/torch" in stdout


def test_cli_errors_and_list(tmp_path):
    out = subprocess.run([sys.executable, "-m", "bench", "--only", "nope"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "unknown workload" in out.stderr
    out = subprocess.run([sys.executable, "-m", "bench", "--list"], cwd=ROOT, capture_output=True, text=True)
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert {"add_1elem", "tiny_fwd_bwd", "mlp_step", "cnn_step", "transformer_step", "mlp_infer_b1", "import",
            "transformer_peak_mem"} <= set(names)


def test_harness_skips_a_failing_implementation():
    sys.path.insert(0, ROOT)
    from bench import harness

    def broken(cfg):
        raise ImportError("no such framework")
    w = harness.Workload("w", "test", "", {"ember": lambda cfg: (lambda: None), "torch": broken}, target=1.0)
    rec = harness.run_workload(w, harness.Config(quick=True), 2)
    assert set(rec["results"]) == {"ember"} and "no such framework" in rec["errors"]["torch"]
    assert rec["ratio"] is None and "error" in harness.table([rec])


@pytest.mark.parametrize("lr, wd", [(1e-3, 1e-2), (1e-2, 0.5)])
def test_numpy_floor_matches_torch(lr, wd):
    """The hand-written NumPy MLP step is the same computation as torch's (so the floor is fair)."""
    torch = pytest.importorskip("torch")
    sys.path.insert(0, ROOT)
    from bench import models, numpy_floor
    step = numpy_floor.mlp_step(lr=lr, weight_decay=wd)
    model = models.mlp(torch)
    with torch.no_grad():
        for p, q in zip(model.parameters(), step.params):
            p.copy_(torch.from_numpy(q))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    x, y = (torch.from_numpy(a) for a in models.data("mlp"))
    for _ in range(3):
        step()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for p, q in zip(model.parameters(), step.params):
        # Adam moves every weight by about lr per step whatever |grad|, so float32 rounding in tiny
        # gradients shows up as a small fraction of lr, not as a relative error
        np.testing.assert_allclose(p.detach().numpy(), q, rtol=0, atol=0.02 * lr)


@pytest.mark.parametrize("extra", [[], ["--kernels"]])
def test_profile_runs(extra):
    out = subprocess.run([sys.executable, "-m", "bench.profiling", "tiny_fwd_bwd", "--calls", "20", "--top", "5", *extra],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert ("ops per step" if extra else "function calls") in out.stdout
