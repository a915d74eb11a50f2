"""docs/ops.md is generated from the registry; it must list exactly the registered ops."""
import os
import re

import ember  # noqa: F401  (registers every op)
from ember.ops.registry import OPS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ops_table_lists_every_registered_op():
    text = open(os.path.join(ROOT, "docs", "ops.md")).read()
    listed = {m.group(1): m.group(2) for m in re.finditer(r"^\| (\w+) \| (yes|no) \|", text, re.M)}
    assert set(listed) == set(OPS), ("docs/ops.md is stale; run `python docs/gen_ops.py`: "
                                     f"missing {sorted(set(OPS) - set(listed))}, extra {sorted(set(listed) - set(OPS))}")
    for name, has_backward in listed.items():
        assert (has_backward == "yes") == OPS[name].differentiable, name

