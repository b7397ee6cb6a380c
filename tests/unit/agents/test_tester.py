"""Tester: fenced test files (or JSON) in; safe, runnable test files out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from atelier.agents.tester import CONFTEST_PATH, write_tests
from atelier.domain.errors import LLMOutputInvalid
from atelier.domain.plan import FileSpec, Plan
from atelier.llm.scripted import ScriptedLLM

CALC = "def add(a, b):\n    return a + b\n"
TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
PY_PLAN = Plan(
    name="calc",
    language="python",
    files=[FileSpec(path="calc.py", purpose="add")],
    test_command="pytest -q",
)
JS_PLAN = Plan(
    name="calc",
    language="javascript",
    files=[FileSpec(path="calc.js", purpose="add")],
    test_command="node --test",
)


def reply(*files: tuple[str, str]) -> str:
    return json.dumps({"files": [{"path": p, "content": c} for p, c in files]})


async def test_happy_path_python_adds_conftest() -> None:
    llm = ScriptedLLM({"tester": [reply(("tests/test_calc.py", TEST_CALC))]})
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add numbers")
    assert tests["tests/test_calc.py"] == TEST_CALC
    assert "sys.path" in tests[CONFTEST_PATH]
    request = llm.calls[0]
    # Fenced code is asked for, never JSON: no grammar, no source code inside strings.
    assert request.agent == "tester" and request.json_schema is None
    assert "### tests/test_calc.py" in request.messages[0].content
    assert "def add(a, b)" in request.messages[-1].content
    assert "`calc`" in request.messages[-1].content


def pytest_script() -> str:
    # The console script, not `python -m pytest`: that one would put the working
    # directory on sys.path and hide the import problem the conftest solves.
    script = Path(sys.executable).with_name("pytest")
    assert script.exists()
    return str(script)


def run(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content, encoding="utf-8")
    return subprocess.run(
        [pytest_script(), "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_generated_layout_runs_under_plain_pytest_from_the_root(tmp_path: Path) -> None:
    llm = ScriptedLLM({"tester": [reply(("tests/test_calc.py", TEST_CALC))]})
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")
    result = run(tmp_path, {"calc.py": CALC, **tests})
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed" in result.stdout


def test_without_the_conftest_plain_pytest_cannot_import_the_module(tmp_path: Path) -> None:
    # Why the conftest exists: pytest's default import mode puts tests/ on sys.path,
    # not the project root.
    result = run(tmp_path, {"calc.py": CALC, "tests/test_calc.py": TEST_CALC})
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stdout


async def test_paths_renamed_into_tests_and_content_unfenced() -> None:
    fenced = f"```python\n{TEST_CALC}```"
    llm = ScriptedLLM(
        {
            "tester": [
                reply(
                    ("calc.py", fenced),  # would overwrite the module
                    ("test_more.py", TEST_CALC),  # at the root
                    ("tests/helpers.py", TEST_CALC),  # not collected by pytest
                )
            ]
        }
    )
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")
    assert sorted(tests) == [
        CONFTEST_PATH,
        "tests/test_calc.py",
        "tests/test_helpers.py",
        "tests/test_more.py",
    ]
    assert tests["tests/test_calc.py"] == TEST_CALC


async def test_hostile_paths_are_dropped() -> None:
    llm = ScriptedLLM(
        {
            "tester": [
                reply(
                    ("../../etc/test_x.py", TEST_CALC),
                    ("/tmp/test_y.py", TEST_CALC),
                    ("tests/test_calc.py", TEST_CALC),
                )
            ]
        }
    )
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")
    assert sorted(tests) == [CONFTEST_PATH, "tests/test_calc.py"]


async def test_only_hostile_paths_is_an_error() -> None:
    llm = ScriptedLLM({"tester": [reply(("../test_x.py", TEST_CALC))]})
    with pytest.raises(LLMOutputInvalid):
        await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")


async def test_invalid_json_repaired() -> None:
    llm = ScriptedLLM(
        {
            "tester": [
                '{"files": [{"path": "tests/test_calc.py"',
                reply(("tests/test_calc.py", TEST_CALC)),
            ]
        }
    )
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")
    assert "tests/test_calc.py" in tests and len(llm.calls) == 2


async def test_plain_code_reply_is_used_when_json_never_comes() -> None:
    llm = ScriptedLLM({"tester": [f"Here are the tests:\n```python\n{TEST_CALC}```"]})
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add", max_repairs=0)
    assert tests["tests/test_calc.py"] == TEST_CALC


async def test_javascript_tests_for_node_test() -> None:
    js_test = (
        "const test = require('node:test');\nconst assert = require('node:assert');\n"
        "const { add } = require('./calc.js');\n\n"
        "test('adds', () => { assert.strictEqual(add(2, 3), 5); });\n"
    )
    calc = "function add(a, b) { return a + b; }\nmodule.exports = { add };\n"
    llm = ScriptedLLM({"tester": [reply(("calc.test.js", js_test))]})
    tests = await write_tests(JS_PLAN, {"calc.js": calc}, llm, spec_prompt="add")
    assert list(tests) == ["tests/calc.test.js"]
    assert "require('../calc.js')" in tests["tests/calc.test.js"]


async def test_javascript_layout_runs_under_node_test(tmp_path: Path) -> None:
    js_test = (
        "const test = require('node:test');\nconst assert = require('node:assert');\n"
        "const { add } = require('../calc.js');\n\n"
        "test('adds', () => { assert.strictEqual(add(2, 3), 5); });\n"
    )
    calc = "function add(a, b) { return a + b; }\nmodule.exports = { add };\n"
    llm = ScriptedLLM({"tester": [reply(("tests/calc.test.js", js_test))]})
    tests = await write_tests(JS_PLAN, {"calc.js": calc}, llm, spec_prompt="add")
    for rel, content in {"calc.js": calc, **tests}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content, encoding="utf-8")
    result = subprocess.run(
        ["node", "--test"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "# pass 1" in result.stdout


async def test_placeholder_content_is_sent_back_for_repair() -> None:
    copied = reply(("tests/test_calc.py", "<the whole test file>"))
    llm = ScriptedLLM({"tester": [copied, reply(("tests/test_calc.py", TEST_CALC))]})
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")
    assert tests["tests/test_calc.py"] == TEST_CALC
    assert len(llm.calls) == 2
    assert "complete source code" in llm.calls[1].messages[-1].content


async def test_labelled_fenced_files_are_the_reply_format() -> None:
    text = (
        "### tests/test_calc.py\n```python\n" + TEST_CALC + "```\n\n"
        "### tests/test_more.py\n```python\n" + TEST_CALC.replace("test_add", "test_more")
        + "```\n"
    )
    llm = ScriptedLLM({"tester": [text]})
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")
    assert sorted(tests) == [CONFTEST_PATH, "tests/test_calc.py", "tests/test_more.py"]
    assert "def test_more" in tests["tests/test_more.py"]


async def test_no_usable_file_after_the_repairs_is_an_error() -> None:
    llm = ScriptedLLM({"tester": ["I cannot write tests for this.", "Still nothing."]})
    with pytest.raises(LLMOutputInvalid):
        await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add", max_repairs=1)
    assert len(llm.calls) == 2


async def test_a_header_copied_into_the_block_names_the_file_and_is_dropped() -> None:
    llm = ScriptedLLM({"tester": ["```python\n### tests/test_more.py\n" + TEST_CALC + "```"]})
    tests = await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")
    assert tests["tests/test_more.py"] == TEST_CALC


async def test_with_runnable_examples_only_a_few_edge_cases_are_asked_for() -> None:
    llm = ScriptedLLM({"tester": [reply(("tests/test_calc.py", TEST_CALC))] * 2})
    await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add", examples=3)
    await write_tests(PY_PLAN, {"calc.py": CALC}, llm, spec_prompt="add")
    with_examples, without = llm.calls
    assert "3 examples already run as tests" in with_examples.messages[0].content
    assert "examples already run" not in without.messages[0].content
    assert (with_examples.max_tokens or 0) < (without.max_tokens or 0)


def test_the_import_example_names_the_projects_own_module_never_an_invented_one() -> None:
    from atelier.agents.tester import import_example

    assert import_example({"lru.py": "import x\n\nclass LRUCache:\n    pass\n"}, "python") == (
        "from lru import LRUCache")
    assert import_example({"src/todo.js": "class TodoList {}\nmodule.exports = { TodoList };\n"},
                          "javascript") == "const { TodoList } = require('../src/todo.js');"
    assert import_example({"pkg/__init__.py": ""}, "python") == "import pkg"
    assert "calc" not in import_example({"lru.py": "def get(k):\n    return k\n"}, "python")


def test_a_command_line_project_is_also_tested_by_running_it() -> None:
    from atelier.agents.prompts import render
    from atelier.agents.tester import command_line_entry

    cli = {"wc/core.py": "def count(t):\n    return 1\n",
           "wc.py": "import sys\n\nif __name__ == '__main__':\n    print(sys.argv)\n"}
    assert command_line_entry(cli, "python") == "wc.py"
    assert command_line_entry({"lib.py": "def f():\n    pass\n"}, "python") is None
    assert command_line_entry({"bin/cli.js": "if (require.main === module) main();\n"},
                              "javascript") == "bin/cli.js"
    prompt = render("tester_system.md", language="python", example_path="tests/test_wc.py",
                    examples=0, import_example="import wc", cli_entry="wc.py")
    assert 'subprocess.run([sys.executable, "wc.py"' in prompt
    assert "Do not test printing" not in prompt
