import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# EMBER_OP_TRACE=path records which registered ops each test runs (docs/gen_ops.py
# builds the op table's "tested by" column from it).
_TRACE_PATH = os.environ.get("EMBER_OP_TRACE")
_trace = {}


if _TRACE_PATH:
    @pytest.fixture(autouse=True)
    def _record_ops(request):
        from ember.ops import registry
        real = registry.apply
        seen = set()

        def traced(op, *args, **attrs):
            seen.add(op.name)
            return real(op, *args, **attrs)
        registry.apply = traced
        try:
            yield
        finally:
            registry.apply = real
            for name in seen:
                _trace.setdefault(name, []).append(request.node.nodeid)

    def pytest_sessionfinish(session):
        with open(_TRACE_PATH, "w") as f:
            json.dump(_trace, f)
