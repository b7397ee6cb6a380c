"""Scripted replies for pipeline tests, following the reply contracts of issue #2."""

from __future__ import annotations

import json
from typing import Any

PLAN = {
    "name": "calc",
    "summary": "A tiny calculator library.",
    "language": "python",
    "files": [
        {"path": "calc/__init__.py", "purpose": "package marker", "depends_on": []},
        {"path": "calc/ops.py", "purpose": "add and mul", "depends_on": []},
    ],
    "dependencies": [],
    "test_command": "pytest -q",
}
INIT = "```python\nfrom calc.ops import add, mul\n\n__all__ = ['add', 'mul']\n```"
GOOD_OPS = (
    "Here is the module:\n```python\ndef add(a, b):\n    return a + b\n\n\n"
    "def mul(a, b):\n    return a * b\n```\nIt adds and multiplies."
)
BUGGY_OPS = "```python\ndef add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n```"
TESTS = {
    "files": [
        {
            "path": "tests/test_ops.py",
            "content": (
                "from calc.ops import add, mul\n\n\n"
                "def test_add():\n    assert add(2, 3) == 5\n\n\n"
                "def test_mul():\n    assert mul(2, 3) == 6\n"
            ),
        }
    ]
}
NO_FINDINGS: dict[str, Any] = {"findings": []}
README = "# calc\n\nAdd and multiply.\n\n```python\nfrom calc import add\n```\n"


def script(**overrides: Any) -> dict[str, Any]:
    """A complete happy-path script; keyword arguments replace a role's list."""
    base: dict[str, Any] = {
        "planner": [PLAN],
        # Independent files are written concurrently, but tasks start in plan order
        # and take their reply before their first await, so the order is stable.
        "coder": [INIT, GOOD_OPS],
        "tester": [TESTS],
        "reviewer": [NO_FINDINGS],
        "documenter": [README],
    }
    base.update(overrides)
    return base


ONE_FILE_PLAN = {
    **PLAN,
    "files": [{"path": "calc/ops.py", "purpose": "add and mul", "depends_on": []}],
}
ONE_FILE_TESTS = {
    "files": [
        {
            "path": "tests/test_ops.py",
            "content": (
                "from calc.ops import add, mul\n\n\n"
                "def test_add():\n    assert add(2, 3) == 5\n\n\n"
                "def test_mul():\n    assert mul(2, 3) == 6\n"
            ),
        }
    ]
}


def one_file_script(coder: list[str], **overrides: Any) -> dict[str, Any]:
    roles: dict[str, Any] = {"planner": [ONE_FILE_PLAN], "tester": [ONE_FILE_TESTS], **overrides}
    return script(coder=coder, **roles)


def dumps(obj: Any) -> str:
    return json.dumps(obj)
