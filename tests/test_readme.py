"""The README's first command and its code blocks run as written."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md")).read()


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(first_block) == 2
    assert first_block[1] == 'pip install -e ".[dev]" && pytest'


def test_first_command_trains_and_prints_loss():
    cmd = re.search(r"```bash\n(.*?)\n", README, re.S).group(1)
    code = re.search(r'python -c "(.*)"$', cmd).group(1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    loss = float(out.stdout.split()[-1])
    assert loss < 1e-3


def test_python_blocks_run():
    for block in re.findall(r"```python\n(.*?)```", README, re.S):
        subprocess.run([sys.executable, "-c", block], check=True, cwd=ROOT, capture_output=True)
