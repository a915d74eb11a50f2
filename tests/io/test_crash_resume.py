"""Crash-safe resume: a training run killed with SIGKILL after a checkpoint, resumed from that
checkpoint, ends with parameters bitwise identical to an uninterrupted run."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TRAIN = textwrap.dedent('''
    import os, signal, sys
    import numpy as np
    import ember
    from ember import nn
    from ember.io import save_checkpoint, load_checkpoint

    out_dir, total, every, kill_at, resume = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
    ckpt = os.path.join(out_dir, "ckpt.safetensors")
    ember.manual_seed(0)
    np.random.seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))
    opt = ember.optim.AdamW(model.parameters(), lr=1e-2)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)
    data_x = ember.tensor(np.random.default_rng(1).standard_normal((256, 8)).astype(np.float32))
    data_y = ember.tensor(np.random.default_rng(2).integers(0, 3, 256))
    start = 0
    if resume:
        start = load_checkpoint(ckpt, model=model, optimizer=opt, scheduler=sched)["step"]
    for step in range(start, total):
        idx = ember.randint(0, 256, (32,))             # batches from the (checkpointed) RNG
        noise = np.random.standard_normal((32, 8)).astype(np.float32) * 0.01   # NumPy's global RNG too
        loss = nn.functional.cross_entropy(model(data_x[idx] + ember.tensor(noise)), data_y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % every == 0:
            save_checkpoint(ckpt, model=model, optimizer=opt, scheduler=sched, step=step + 1)
        if step + 1 == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)   # no cleanup, no atexit: a hard crash
    ember.io.save_file({k: v for k, v in model.state_dict().items()}, os.path.join(out_dir, "final.safetensors"))
''')


def run(out_dir, total, every, kill_at, resume):
    return subprocess.run([sys.executable, "-c", TRAIN, str(out_dir), str(total), str(every), str(kill_at),
                           "1" if resume else "0"], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kill_at", [13, 17])  # after the checkpoint at 10 (and 15): mid-way between saves
def test_sigkill_then_resume_is_bitwise_identical(tmp_path, kill_at):
    import ember
    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    straight.mkdir()
    crashed.mkdir()
    assert run(straight, 30, 5, -1, False).returncode == 0
    killed = run(crashed, 30, 5, kill_at, False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (crashed / "final.safetensors").exists()
    assert not [p for p in os.listdir(crashed) if p != "ckpt.safetensors"], "a temp file was left behind"
    resumed = run(crashed, 30, 5, -1, True)
    assert resumed.returncode == 0, resumed.stderr
    a = ember.io.load_file(straight / "final.safetensors")
    b = ember.io.load_file(crashed / "final.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k].numpy(), b[k].numpy()), k   # bitwise, not approximately
