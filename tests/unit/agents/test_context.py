"""fit_context: whole files while they fit, signatures when not, never a crash."""

from __future__ import annotations

import ast

from atelier.agents.context import context_budget, fit_context, js_signatures, python_signatures
from atelier.llm.scripted import ScriptedLLM

PY = '''"""Geometry helpers.

Long module description.
"""
import math
from dataclasses import dataclass

PI2 = math.pi * 2


@dataclass
class Point:
    """A point in the plane.

    More words.
    """

    x: float
    y: float

    def distance(self, other: "Point") -> float:
        """Euclidean distance to another point."""
        dx = self.x - other.x
        dy = self.y - other.y
        return math.hypot(dx, dy)

    def _private(self) -> None:
        pass


def area(radius: float) -> float:
    """Area of a circle."""
    total = 0.0
    for _ in range(10):
        total += 0
    return math.pi * radius**2
'''

JS = """const fs = require('fs');

function add(a, b) {
  const s = a + b;
  return s;
}

class Stack {
  constructor() {
    this.items = [];
  }
  push(x) {
    this.items.push(x);
  }
}

const mul = (a, b) => a * b;
module.exports = { add, Stack, mul };
"""


def test_whole_files_when_they_fit() -> None:
    files = {"geo.py": PY, "index.js": JS}
    assert fit_context(files, 10_000, language="python") == files


def test_python_signatures_keep_the_api_only() -> None:
    outline = python_signatures(PY)
    ast.parse(outline)
    assert "import math" in outline
    assert "class Point" in outline and "x: float" in outline
    assert "def distance(self, other: 'Point') -> float" in outline
    assert "Euclidean distance to another point." in outline
    assert "def area(radius: float) -> float" in outline
    assert "hypot" not in outline and "total" not in outline
    assert "_private" not in outline and "More words" not in outline


def test_js_signatures_keep_declarations() -> None:
    outline = js_signatures(JS)
    for needle in (
        "require('fs')",
        "function add(a, b)",
        "class Stack",
        "push(x)",
        "const mul",
        "module.exports",
    ):
        assert needle in outline
    assert "this.items.push" not in outline


def test_largest_file_is_trimmed_to_signatures_first() -> None:
    small = "X = 1\n"
    files = {"geo.py": PY, "const.py": small}
    budget = len(python_signatures(PY)) + len(small) + 5
    fitted = fit_context(files, budget, language="python")
    assert fitted["const.py"] == small
    assert fitted["geo.py"] == python_signatures(PY)
    assert sum(len(v) for v in fitted.values()) <= budget


def test_tiny_budget_cuts_further_and_never_crashes() -> None:
    files = {f"m{i}.py": PY for i in range(10)}
    fitted = fit_context(files, 500, language="python")
    assert sum(len(v) for v in fitted.values()) <= 500
    assert fit_context(files, 0, language="python") == {}
    assert fit_context({"broken.py": "def f(:\n  pass\n" * 50}, 100, language="python")


def test_unparseable_python_falls_back_to_matching_lines() -> None:
    broken = "import os\ndef f(x):\n    return (x\nclass A:\n    pass\n"
    outline = python_signatures(broken)
    assert "import os" in outline and "def f(x):" in outline and "class A:" in outline


def test_context_budget_leaves_room_for_the_reply() -> None:
    class Small(ScriptedLLM):
        @property
        def context_window(self) -> int:
            return 4096

    llm = Small({})
    assert context_budget(llm, reply_tokens=2048) == 2048 * 3
    assert context_budget(llm, reply_tokens=2048, used_chars=10_000) == 0
