"""Scoring generated code against tests the pipeline never saw, inside the sandbox.

HumanEval: the generated module that defines the entry point is imported, its names
are put in scope (the hidden tests may call prompt helpers such as `encode_cyclic`),
then the problem's hidden `test` code runs and `check(entry_point)` must return.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from atelier.sandbox import SandboxLimits, run_command

PASS_MARKER = "HUMANEVAL-CHECK-PASSED"
SCORE_LIMITS = SandboxLimits(wall_time_s=30.0, cpu_s=20, memory_mb=1024, max_processes=64,
                             max_file_mb=16, output_tail_chars=3000)

_SCRIPT = '''import importlib
import os
import sys

for _p in (os.getcwd(), os.path.join(os.getcwd(), "src")):
    sys.path.insert(0, _p)
_module = importlib.import_module({module!r})
globals().update({{k: v for k, v in vars(_module).items() if not k.startswith("__")}})

{test}

check({entry_point})
print({marker!r})
'''


@dataclass(frozen=True)
class Score:
    passed: bool
    module: str | None
    detail: str
    duration_s: float


def python_module_of(path: str) -> str:
    """`pkg/mod.py` → `pkg.mod`; `src/pkg/mod.py` → `pkg.mod`."""
    stem = path[: -len(".py")]
    if stem.startswith("src/"):
        stem = stem[len("src/"):]
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    return stem.replace("/", ".")


# Kept here rather than imported: the benchmark must not move when the pipeline's own
# file rules change, and the rule is simple.
_TEST_DIRS = {"tests", "test", "__tests__"}
_TEST_FILE = re.compile(r"^(test_.*\.py|.*_test\.py|.*\.(test|spec)\.[cm]?js|conftest\.py)$")


def is_source_path(path: str) -> bool:
    """Not a test file, not under a tests folder, not a README."""
    parts = path.split("/")
    name = parts[-1]
    return (parts[0] not in _TEST_DIRS and not _TEST_FILE.match(name)
            and not name.lower().startswith("readme."))


def source_files(files: Mapping[str, str]) -> dict[str, str]:
    """Generated source files only: the pipeline's own tests and docs are left out."""
    return {p: c for p, c in files.items() if is_source_path(p)}


def module_defining(name: str, files: Mapping[str, str]) -> str | None:
    """The Python module that defines function `name` at top level (solution.py first)."""
    pattern = re.compile(rf"^(?:async\s+)?def\s+{re.escape(name)}\s*\(", re.M)
    candidates = sorted((p for p in files if p.endswith(".py")),
                        key=lambda p: (p != "solution.py", p.count("/"), p))
    for path in candidates:
        if pattern.search(files[path]):
            return python_module_of(path)
    return None


async def score_humaneval(
    files: Mapping[str, str], problem: Mapping[str, str], limits: SandboxLimits = SCORE_LIMITS
) -> Score:
    """Run the problem's hidden test against the generated sources in the sandbox."""
    sources = source_files(files)
    entry_point = problem["entry_point"]
    module = module_defining(entry_point, sources)
    if module is None:
        return Score(False, None, f"no generated module defines {entry_point}()", 0.0)
    script = _SCRIPT.format(module=module, test=problem["test"], entry_point=entry_point,
                            marker=PASS_MARKER)
    root = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="atelier-bench-"))
    try:
        for rel, content in {**sources, "_humaneval_check.py": script}.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        result = await run_command(root, [sys.executable, "_humaneval_check.py"], limits)
    finally:
        await asyncio.to_thread(shutil.rmtree, root, True)
    passed = result.exit_code == 0 and PASS_MARKER in result.output
    if passed:
        detail = "passed"
    elif result.timed_out:
        detail = "timed out"
    else:
        detail = _last_error_line(result.output) or f"exit code {result.exit_code}"
    return Score(passed, module, detail, round(result.duration_s, 3))


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line):
            return line[:300]
    return lines[-1][:300] if lines else ""
