"""Small rules about which project files are which (sources, tests, docs)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping

from atelier.domain.paths import is_readme_path, is_test_path
from atelier.domain.plan import FileSpec, Plan
from atelier.domain.report import TestCase
from atelier.spec.inline_examples import PLANNED_EXAMPLES_NAME, SPEC_EXAMPLES_NAME


def is_test_module(path: str) -> bool:
    """A file that holds tests (not a conftest or helper)."""
    name = posixpath.basename(path)
    return name.startswith("test_") or name.endswith(("_test.py", ".test.js", ".test.mjs"))


def smoke_test(files: Mapping[str, str]) -> dict[str, str]:
    """A last-resort pytest file that imports every Python module of the project."""
    modules = [p[:-3].replace("/", ".") for p in source_paths(files) if p.endswith(".py")]
    modules = [m.removesuffix(".__init__") for m in modules]
    lines = ["import importlib", "import os", "import sys", "",
             "sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))",
             "", "", "def test_modules_import():"]
    lines += [f"    importlib.import_module({m!r})" for m in modules] or ["    pass"]
    return {"tests/test_smoke.py": "\n".join(lines) + "\n"}


# Lock files the install phase writes: never drafted by a model, rewritten on every run.
INSTALLER_LOCKS = frozenset({"pylock.toml", "package-lock.json"})


def source_paths(files: Iterable[str]) -> list[str]:
    return [p for p in files
            if not is_test_path(p) and not is_readme_path(p) and p not in INSTALLER_LOCKS]


def guess_language(paths: Iterable[str], default: str = "python") -> str:
    paths = list(paths)
    js = sum(p.endswith((".js", ".mjs", ".cjs", ".ts")) for p in paths)
    py = sum(p.endswith(".py") for p in paths)
    if js > py:
        return "javascript"
    if py:
        return "python"
    return default


def plan_from_files(
    files: Mapping[str, str], *, name: str, summary: str, language: str | None
) -> Plan:
    """A plan describing files that already exist (baseline output, or a revision's base)."""
    sources = source_paths(files) or list(files)
    return Plan(
        name=name,
        summary=summary,
        language=language or guess_language(sources),
        files=[FileSpec(path=p, purpose="existing file") for p in sources],
    )


def implicated_sources(output: str, sources: Iterable[str], limit: int) -> list[str]:
    """The source files a failing test output mentions, most mentioned first.

    Falls back to every source file (up to `limit`) when the output names none —
    e.g. an assertion failure that shows only the test's own frame.
    """
    sources = list(sources)
    counts = {p: output.count(p) + output.count(posixpath.basename(p)) for p in sources}
    mentioned = sorted((p for p in sources if counts[p]), key=lambda p: -counts[p])
    return (mentioned or sources)[:limit]


def spec_example_counts(cases: Iterable[TestCase]) -> tuple[int, int]:
    """(passed, total) among the cases that come from the spec's own examples (pytest
    names them by module, node:test by test name)."""
    passed = total = 0
    for case in cases:
        if is_spec_example(case):
            total += 1
            passed += case.outcome == "passed"
    return passed, total


def is_spec_example(case: TestCase) -> bool:
    """A case of the spec's own examples (pytest names them by module, node:test by name)."""
    return any(marker in case.classname or case.name.startswith(marker)
               for marker in (SPEC_EXAMPLES_NAME, PLANNED_EXAMPLES_NAME))
