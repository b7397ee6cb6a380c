"""Scripted-LLM replies for the API tests (the reply contracts of issue #2).

Every role has exactly one reply, which the scripted provider repeats: a job gives
the same answers whatever order its calls come in and however often it resumes.
A run makes five calls: planner, coder (one file), tester, reviewer, documenter.
"""

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
CODE = "```python\ndef add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n```"
REVISED_CODE = (
    "```python\ndef add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n\n\n"
    "def sub(a, b):\n    return a - b\n```"
)
# `add` subtracts: test_add fails, test_mul passes (and the scripted coder repeats it).
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
NO_FINDINGS: dict[str, Any] = {"findings": []}
README = "# calc\n\nAdds and multiplies.\n"
CALLS_PER_JOB = 5


def script(*, delay_s: float = 0.0, code: str = CODE) -> dict[str, Any]:
    data: dict[str, Any] = {
        "planner": [PLAN],
        "coder": [code],
        "tester": [TESTS],
        "reviewer": [NO_FINDINGS],
        "documenter": [README],
    }
    if delay_s:
        data["delay_s"] = delay_s
    return data


def write_script(path: Path, **kwargs: Any) -> Path:
    path.write_text(json.dumps(script(**kwargs)), encoding="utf-8")
    return path
