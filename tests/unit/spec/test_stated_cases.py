"""Behaviour a request states in words ("raises `ValueError` for a negative `k`", "'' for
''", "it must not modify the input array"): what is read and what is left alone, every
HumanEval prompt and bench project checked against its known-good solution, and the
generated checks run for real (pytest and node) against right and wrong code."""

from __future__ import annotations

import copy
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from atelier.spec.examples import (
    EXAMPLES_TEST_PATH,
    example_calls,
    parse_examples,
    spec_examples_test,
)
from atelier.spec.stated_cases import StatedCase, parse_stated_cases
from tests.unit.spec.test_examples import HUMANEVAL, run_pytest
from tests.unit.spec.test_inline_examples import PROJECTS, _node_test


def cases(
    text: str, calls: dict[str, list[tuple[Any, ...]]] | None = None
) -> list[tuple[Any, ...]]:
    return [(c.kind, c.source, c.error, c.expected)
            for c in parse_stated_cases(text, calls or {})]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- `kelvin_to_celsius(k: float) -> float`: raises `ValueError` for a negative `k`.",
         [("raises", "kelvin_to_celsius(-1)", "ValueError", None)]),
        ("- `to_c(c: float)`: raises `ValueError` when the result would be below 0 K "
         "(c < -273.15).", [("raises", "to_c(-274.15)", "ValueError", None)]),
        ("- `to_roman(number: int) -> str`: raises `ValueError` outside 1..3999.",
         [("raises", "to_roman(0)", "ValueError", None),
          ("raises", "to_roman(4000)", "ValueError", None)]),
        ("- `parse(s: str)`: raises `ValueError` for an empty string or a bad digit.",
         [("raises", "parse('')", "ValueError", None)]),
        ("- `from_roman(numeral: str)`: raises `ValueError` for a character that is not a "
         "Roman digit.", [("raises", "from_roman('?')", "ValueError", None)]),
        ("- `area(width: int)`: raises ValueError when width is not positive.",
         [("raises", "area(0)", "ValueError", None), ("raises", "area(-1)", "ValueError", None)]),
        ("- `capitalize(s)`: the first character upper-cased; '' for ''.",
         [("returns", "capitalize('')", None, "")]),
        ("- `fizzbuzz(n)`: an array of values; an empty array when n < 1.",
         [("returns", "fizzbuzz(0)", None, [])]),
        ("def longest(strings: List[str]) -> Optional[str]:\n"
         "    \"\"\" Return None in case the input list is empty.\"\"\"",
         [("returns", "longest([])", None, None)]),
        ("def f(arr):\n    \"\"\"If the array is empty, return 0.\"\"\"",
         [("returns", "f([])", None, 0)]),
        ("- `mean(numbers)`: the mean.\n- `median(numbers)`: the median.\n"
         "Every function throws an `Error` for an empty array.",
         [("raises", "mean([])", None, None), ("raises", "median([])", None, None)]),
        ("- `scale(xs, k)`: raises `ValueError` for a negative `k`.",
         [("raises", "scale([1], -1)", "ValueError", None)]),
    ],
)
def test_conditions_that_pin_an_argument_become_cases(
    text: str, expected: list[tuple[Any, ...]]
) -> None:
    assert cases(text, {"scale": [([1], 2)]}) == expected


@pytest.mark.parametrize(
    "text",
    [
        # prose conditions: the argument is not pinned
        "- `remove(name: str, n: int)`: raises `KeyError` for an unknown name.",
        "- `most_common(text: str)`: `None` for a text with no words.",
        "- `f(x)`: raises `ValueError` when the result would be below 0 K.",
        # methods of a class: calling one needs an object
        "A class `Stack` with:\n- `pop()`: raises `IndexError` when the stack is empty.\n"
        "- `push(item)`: raises `ValueError` for a negative `item`.",
        # a many-parameter function without an example to fill the others
        "- `scale(xs, k)`: raises `ValueError` for a negative `k`.",
        # `list` names the parameter (a TodoList here), not its type
        "`format.js` exports `formatList(list)`, taking a `TodoList`: '' for an empty list.",
        # a builtin called on an object in prose
        "Also `len(stack)` must return 0 for an empty stack.",
        # "?" is punctuation: no character is sure to be outside every such class
        "- `f(s: str)`: raises `ValueError` for a character that is not a punctuation mark.",
        # a character for a number parameter makes no sense
        "- `f(n: int)`: raises `ValueError` for a character that is not a digit.",
        # "and" joins conditions that must hold together: not one argument
        "- `f(s: str)`: raises `ValueError` for an empty string and a negative count.",
        # an empty thing that is neither a parameter nor a kind of value (was a crash)
        "- `peek(a, b)`: throws an `Error` when the queue is empty.",
        "- `take(items, n)`: throws an `Error` for an empty queue.",
    ],
)
def test_what_is_left_alone(text: str) -> None:
    assert cases(text) == []


def test_an_argument_that_must_stay_unchanged_uses_the_examples_calls() -> None:
    text = ("- `median(numbers)`: the middle value; it must not modify the input array.\n"
            "Examples: median([3, 1, 2]) === 2.")
    found = parse_stated_cases(text, {"median": [([3, 1, 2],)]})
    assert found == [StatedCase("median", ([3, 1, 2],), "unchanged",
                                "it must not modify the input array")]


def test_every_humaneval_stated_case_holds_for_the_canonical_solution() -> None:
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as fh:
        problems = [json.loads(line) for line in fh]
    with_cases = 0
    for problem in problems:
        found = parse_stated_cases(problem["prompt"],
                                   example_calls(parse_examples(problem["prompt"])))
        with_cases += bool(found)
        namespace: dict[str, Any] = {}
        exec(problem["prompt"] + problem["canonical_solution"], namespace)
        for case in found:
            assert case.kind == "returns", (problem["task_id"], case)
            actual = namespace[case.name](*copy.deepcopy(case.args))
            assert actual == case.expected, (problem["task_id"], case.source)
    assert with_cases >= 4  # HumanEval/12, /105, /109, /151 state a result for []


@pytest.mark.parametrize("project", sorted(p.name for p in PROJECTS.iterdir()))
def test_bench_projects_stated_cases_hold_for_the_reference(project: str, tmp_path: Path) -> None:
    spec = json.loads((PROJECTS / project / "spec.json").read_text())
    files = {p.name: p.read_text() for p in (PROJECTS / project / "reference").iterdir()}
    tests = spec_examples_test(spec["prompt"], files, spec["language"])
    if not tests:
        return
    if spec["language"] == "python":
        result = run_pytest(tmp_path, {**files, **tests})
        assert result.returncode == 0, result.stdout[-2000:]
    elif shutil.which("node") is not None:
        result = _node_test(tmp_path, {**files, **tests})
        assert result.returncode == 0, result.stdout[-3000:]


def test_python_checks_fail_code_that_ignores_the_stated_errors(tmp_path: Path) -> None:
    spec = json.loads((PROJECTS / "py-temperature" / "spec.json").read_text())["prompt"]
    reference = (PROJECTS / "py-temperature" / "reference" / "convert.py").read_text()
    lax = reference.replace("raise ValueError", "return None  # was: raise ValueError")
    assert lax != reference
    tests = spec_examples_test(spec, {"convert.py": lax}, "python")
    result = run_pytest(tmp_path / "lax", {"convert.py": lax, **tests})
    assert "2 failed, 3 passed" in result.stdout, result.stdout[-2000:]
    assert "kelvin_to_celsius(-1) returned None; the request says: raises ValueError for a " \
        "negative `k`" in result.stdout
    # The wrong exception is no better than none.
    wrong = reference.replace("raise ValueError", "raise KeyError")
    result = run_pytest(tmp_path / "wrong", {"convert.py": wrong, **tests})
    assert "2 failed, 3 passed" in result.stdout and "raised KeyError" in result.stdout
    # A NameError is broken code, not the refusal the request asks for.
    spec = "- `f(s: str)`: raises an error for an empty string."
    broken = "def f(s):\n    return undefined_name\n"
    tests = spec_examples_test(spec, {"m.py": broken}, "python")
    assert list(tests) == [EXAMPLES_TEST_PATH]
    result = run_pytest(tmp_path / "broken", {"m.py": broken, **tests})
    assert "1 failed" in result.stdout and "raised NameError" in result.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_checks_fail_code_that_mutates_or_does_not_throw(tmp_path: Path) -> None:
    spec = json.loads((PROJECTS / "js-stats" / "spec.json").read_text())["prompt"]
    reference = (PROJECTS / "js-stats" / "reference" / "stats.js").read_text()
    mutating = reference.replace("[...numbers].sort", "numbers.sort")
    lax = reference.replace("if (!numbers.length) throw new Error('empty array');", "")
    assert mutating != reference and lax != reference
    tests = spec_examples_test(spec, {"stats.js": reference}, "javascript")
    result = _node_test(tmp_path / "mutating", {"stats.js": mutating, **tests})
    assert "# fail 1" in result.stdout, result.stdout[-3000:]
    assert "median([3, 1, 2]) changed its arguments to [[1,2,3]]" \
        in result.stdout
    result = _node_test(tmp_path / "lax", {"stats.js": lax, **tests})
    assert "# fail 4" in result.stdout, result.stdout[-3000:]
    assert "the request says: raises Error for an empty array" in result.stdout
