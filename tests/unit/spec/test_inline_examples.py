"""Inline examples (`f(x) == y`, `f(x) ➞ y`, `f(x) returns y`, …) read from requests:
the forms users write, what is not an example, every HumanEval prompt checked against
its canonical solution, and the JavaScript test file run for real by node."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from atelier.spec.examples import EXAMPLES_TEST_PATH, parse_examples, spec_examples_test
from atelier.spec.examples_js import JS_EXAMPLES_TEST_PATH
from atelier.spec.inline_examples import parse_inline_examples
from tests.unit.spec.test_examples import HUMANEVAL, run_pytest

PROJECTS = Path(__file__).resolve().parents[3] / "bench" / "projects"


@pytest.mark.parametrize(
    ("line", "source", "expected"),
    [
        ("search([4, 1, 2, 2, 3, 1]) == 2", "search([4, 1, 2, 2, 3, 1])", 2),
        ("will_it_fly([3], 5) ➞ True", "will_it_fly([3], 5)", True),
        ("is_simple_power(3, 2) => false", "is_simple_power(3, 2)", False),
        ("iscube(64) ==> True", "iscube(64)", True),
        ("move_one_ball([3, 4, 5, 1, 2])==>True", "move_one_ball([3, 4, 5, 1, 2])", True),
        ("anti_shuffle('Hi') returns 'Hi'", "anti_shuffle('Hi')", "Hi"),
        ("multiply(148, 412) should return 16.", "multiply(148, 412)", 16),
        ('decimal_to_binary(15)   # returns "db1111db"', "decimal_to_binary(15)", "db1111db"),
        ("file_name_check(\"1example.dll\") # => 'No' (the name should start with a letter)",
         'file_name_check("1example.dll")', "No"),
        ("choose_num(12, 15) = 14", "choose_num(12, 15)", 14),
        ("fruit_distribution(\"5 apples and 6 oranges\", 19) ->19 - 5 - 6 = 8",
         'fruit_distribution("5 apples and 6 oranges", 19)', 8),
        ("largest_smallest_integers([]) == (None, None)", "largest_smallest_integers([])",
         (None, None)),
        ("mean([1, 2, 3, 4]) === 2.5; median([3, 1, 2]) === 2", "mean([1, 2, 3, 4])", 2.5),
        ("get_odd_collatz(5) returns [1, 5] # The sequence is [5, 16, 8, 4, 2, 1]",
         "get_odd_collatz(5)", [1, 5]),
        ("keep(null) → null", "keep(None)", None),
    ],
)
def test_the_forms_users_write(line: str, source: str, expected: Any) -> None:
    first = parse_inline_examples(line)[0]
    assert (first.source, first.expected) == (source, expected)
    assert type(first.expected) is type(expected)


def test_several_examples_on_one_line() -> None:
    text = "Examples: to_roman(1994) == 'MCMXCIV'; from_roman('MMXXIV') == 2024."
    found = [(e.name, e.args, e.expected) for e in parse_inline_examples(text)]
    assert found == [("to_roman", (1994,), "MCMXCIV"), ("from_roman", ("MMXXIV",), 2024)]


def test_a_call_spread_over_lines() -> None:
    text = "get_row([\n  [1, 2],\n  [1]\n], 1) == [(0, 0), (1, 0)]\n"
    (example,) = parse_inline_examples(text)
    assert example.args == ([[1, 2], [1]], 1)
    assert example.expected == [(0, 0), (1, 0)]


@pytest.mark.parametrize(
    "text",
    [
        "def count(xs: list) -> None:",  # a definition, not a call
        "function reset() -> null",
        "is_happy(a) => False",  # an argument that is a name, not a literal
        "tri(n) = 1 + n / 2, if n is even.",
        "len([1, 2]) == 2",  # a builtin, not the user's function
        "f(1) returns the first item",  # prose after the separator
        "f(2, key=3) == 1",  # keyword arguments are not carried
        "stack.push(1) == None",  # a method call
    ],
)
def test_what_is_not_an_example(text: str) -> None:
    assert parse_inline_examples(text) == []


def test_doctest_lines_are_left_to_the_doctest_parser() -> None:
    spec = 'def f(x):\n    """\n    >>> f(1) == 2\n\n    f(3) == 4\n    """\n'
    assert [(e.source, e.expected) for e in parse_examples(spec)] == [
        ("f(1) == 2", "True"), ("f(3)", "4")]


def test_contradictions_definitions_and_odd_kinds_are_dropped() -> None:
    recurrence = ("tri(1) = 3\ntri(n) = 1 + n / 2, if n is even.\n"
                  "tri(4) = 3\ntri(4) = 8\nExample: tri(3) = [1, 3, 2, 8]\n")
    assert parse_inline_examples(recurrence) == []
    mixed = ('split_words("a b") ➞ ["a", "b"]\nsplit_words("a,b") ➞ ["a", "b"]\n'
             'split_words("abc") == 3\n')
    assert [e.expected for e in parse_inline_examples(mixed)] == [["a", "b"], ["a", "b"]]


def test_input_output_blocks_and_output_sentences_of_the_defined_function() -> None:
    spec = (
        "def add_elements(arr, k):\n    \"\"\"\n    Example:\n\n"
        "        Input: arr = [111,21,3,4000,5,6,7,8,9], k = 4\n"
        "        Output: 24 # sum of 21 + 3\n\n"
        "        Input:\n            arr : [1, 2]\n            k : 1\n        Output: 1\n"
        "    For arr = [5], k = 1 the output should be 5\n"
        "        Input: [4,2,3]\n        Output: [2, 1]\n"  # one value for two parameters
        "        Input: arr = [1], size = 1\n        Output: 1\n"  # not its parameters
        "    \"\"\"\n"
    )
    found = [(e.source, e.expected) for e in parse_inline_examples(spec)]
    assert found == [("add_elements([111, 21, 3, 4000, 5, 6, 7, 8, 9], 4)", 24),
                     ("add_elements([1, 2], 1)", 1), ("add_elements([5], 1)", 5)]


def test_only_functions_the_spec_defines_when_it_defines_any() -> None:
    spec = ('def sorted_list_sum(lst):\n    """For example:\n'
            '    assert list_sort(["aa", "a"]) => ["aa"]\n'
            '    sorted_list_sum(["aa", "a"]) => ["aa"]\n    """\n')
    assert [e.name for e in parse_inline_examples(spec)] == ["sorted_list_sum"]


@pytest.fixture(scope="module")
def humaneval() -> list[dict[str, Any]]:
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_every_humaneval_inline_example_holds_for_the_canonical_solution(
    humaneval: list[dict[str, Any]],
) -> None:
    with_examples = 0
    for problem in humaneval:
        examples = parse_inline_examples(problem["prompt"])
        with_examples += bool(examples) or ">>>" in problem["prompt"]
        namespace: dict[str, Any] = {}
        exec(problem["prompt"] + problem["canonical_solution"], namespace)
        for example in examples:
            actual = namespace[example.name](*example.args)
            assert actual == example.expected, (problem["task_id"], example.source)
    # Doctest blocks alone cover 76 of the 164 prompts.
    assert with_examples >= 150


def test_humaneval_inline_examples_run_as_pytest(
    humaneval: list[dict[str, Any]], tmp_path: Path
) -> None:
    problem = next(p for p in humaneval if p["task_id"] == "HumanEval/72")  # ➞ examples
    files = {"solution.py": problem["prompt"] + problem["canonical_solution"]}
    tests = spec_examples_test(problem["prompt"], files, "python")
    result = run_pytest(tmp_path / "right", {**files, **tests})
    assert result.returncode == 0 and "4 passed" in result.stdout, result.stdout[-2000:]
    wrong = {"solution.py": problem["prompt"] + "    return True\n"}
    result = run_pytest(tmp_path / "wrong", {**wrong, **spec_examples_test(
        problem["prompt"], wrong, "python")})
    assert "2 failed, 2 passed" in result.stdout, result.stdout[-2000:]
    assert EXAMPLES_TEST_PATH in tests


def _node_test(root: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content, encoding="utf-8")
    return subprocess.run(["node", "--test", "--test-reporter=tap", JS_EXAMPLES_TEST_PATH],
                          cwd=root, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_examples_pass_on_the_reference_and_fail_on_a_wrong_module(
    tmp_path: Path,
) -> None:
    spec = json.loads((PROJECTS / "js-stats" / "spec.json").read_text())["prompt"]
    reference = (PROJECTS / "js-stats" / "reference" / "stats.js").read_text()
    files = {"src/stats.js": reference}
    tests = spec_examples_test(spec, files, "javascript")
    assert list(tests) == [JS_EXAMPLES_TEST_PATH]
    result = _node_test(tmp_path / "right", {**files, **tests})
    assert result.returncode == 0, result.stdout[-3000:]
    # 4 examples, 4 functions that throw for [], median leaves its argument alone.
    assert "# pass 9" in result.stdout
    wrong = reference.replace("s.length % 2 ? s[m]", "s.length % 2 ? s[0]")
    assert wrong != reference
    result = _node_test(tmp_path / "wrong", {"src/stats.js": wrong, **tests})
    assert result.returncode != 0
    assert "# fail 1" in result.stdout and "median([3, 1, 2]) returned 1" in result.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_examples_import_es_modules_and_report_missing_exports(
    tmp_path: Path,
) -> None:
    spec = "Write `text.mjs` exporting shout. shout('hi') === 'HI!'; whisper('A') === 'a'"
    files = {"text.mjs": "export function shout(s) { return s.toUpperCase() + '!'; }\n"}
    tests = spec_examples_test(spec, files, "javascript")
    result = _node_test(tmp_path, {**files, **tests})
    assert "# pass 1" in result.stdout and "# fail 1" in result.stdout, result.stdout[-3000:]
    assert "whisper is not exported by text.mjs" in result.stdout
