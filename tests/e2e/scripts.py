"""Scripted-LLM replies for the browser tests: a calculator project, slow enough to
watch (each call waits `delay_s`), optionally buggy (its tests fail) or reviewed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLAN = {
    "name": "calc",
    "summary": "A tiny calculator module.",
    "language": "python",
    "files": [{"path": "calc.py", "purpose": "add and mul", "depends_on": []}],
    "dependencies": [],
    "test_command": None,
}
CODE = (
    '```python\n"""Add and multiply."""\n\n\ndef add(a, b):\n    return a + b\n\n\n'
    "def mul(a, b):\n    return a * b\n```"
)
# `add` subtracts: test_add fails whatever the fix loop tries (the coder repeats it).
BUGGY_CODE = (
    "```python\ndef add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n```"
)
TESTS = {
    "files": [
        {
            "path": "tests/test_calc.py",
            "content": (
                "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
                "def test_mul():\n    assert mul(2, 3) == 6\n"
            ),
        }
    ]
}
FINDINGS = {
    "findings": [
        {"severity": "low", "path": "calc.py", "line": 4, "message": "add has no type hints"}
    ]
}
README = "# calc\n\nAdds and multiplies: `add(2, 3) == 5`.\n"


def write_script(path: Path, *, delay_s: float = 0.0, code: str = CODE) -> Path:
    data: dict[str, Any] = {
        "planner": [PLAN],
        "coder": [code],
        "tester": [TESTS],
        "reviewer": [FINDINGS],
        "documenter": [README],
        "delay_s": delay_s,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
