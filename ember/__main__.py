"""``python -m ember``: the ember command line (see ember/cli.py)."""
import sys

from .cli import main

sys.exit(main())
