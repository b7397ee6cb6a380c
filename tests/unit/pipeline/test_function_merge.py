"""Resample candidates merged function by function: which definition is taken from
where, what comes along with it (imports, helpers), and what is left alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from atelier.domain.report import TestCase, TestReport
from atelier.pipeline.function_merge import (
    merge_by_function,
    replace_function,
    replace_javascript_function,
)
from atelier.spec.examples import example_functions, spec_examples_test
from atelier.spec.examples_js import JS_EXAMPLES_TEST_PATH, javascript_example_functions
from tests.unit.spec.test_inline_examples import _node_test

SPEC = ("Write `text.py` with `shout(s)` and `count(s)`. Examples: shout('a') == 'A!'; "
        "count('ab') == 2; count('') == 0.")


def report(**outcomes: str) -> TestReport:
    cases = [TestCase(name=name, outcome=outcome,  # type: ignore[arg-type]
                      classname="" if name.startswith("test_spec") else "tests.test_spec_examples")
             for name, outcome in outcomes.items()]
    return TestReport(passed=sum(o == "passed" for o in outcomes.values()),
                      failed=sum(o == "failed" for o in outcomes.values()), cases=cases)


def test_the_example_tests_are_read_back_with_the_functions_they_call() -> None:
    tests = spec_examples_test(SPEC, {"text.py": ""}, "python")
    assert example_functions(tests["tests/test_spec_examples.py"]) == {
        "test_example_1": {"shout"}, "test_example_2": {"count"}, "test_example_3": {"count"}}
    stated = spec_examples_test("- `f(s: str)`: raises `ValueError` for an empty string.",
                                {"m.py": ""}, "python")
    assert example_functions(stated["tests/test_spec_examples.py"]) == {"test_stated_1": {"f"}}
    assert example_functions("def broken(:\n") == {}


def test_a_function_the_best_candidate_fails_is_taken_from_one_that_passes_it() -> None:
    tested = {"test_example_1": {"shout"}, "test_example_2": {"count"},
              "test_example_3": {"count"}}
    best = {"text.py": "def shout(s):\n    return s.upper() + '!'\n\n\ndef count(s):\n"
                       "    return 1\n"}
    other = {"text.py": "import math\n\n\ndef shout(s):\n    return s\n\n\n"
                        "def count(s):\n    return _length(s)\n\n\ndef _length(s):\n"
                        "    return len(s)\n"}
    merged = merge_by_function(
        [(best, report(test_example_1="passed", test_example_2="failed",
                       test_example_3="passed")),
         (other, report(test_example_1="failed", test_example_2="passed",
                        test_example_3="passed"))], tested)
    assert merged is not None
    files, taken = merged
    assert taken == ["count"]
    namespace: dict[str, object] = {}
    exec(files["text.py"], namespace)
    assert namespace["shout"]("a") == "A!" and namespace["count"]("ab") == 2  # type: ignore[operator]
    assert files["text.py"].startswith("import math\n")  # the donor's import came along


def test_nothing_is_merged_when_no_other_candidate_has_the_function_right() -> None:
    tested = {"test_example_1": {"shout"}, "test_example_2": {"count"}}
    best = {"text.py": "def shout(s):\n    return s\n\n\ndef count(s):\n    return 0\n"}
    failing = report(test_example_1="failed", test_example_2="passed")
    assert merge_by_function([(best, failing), (dict(best), failing)], tested) is None
    assert merge_by_function([(best, failing)], tested) is None


def test_replace_function_keeps_decorators_and_appends_a_missing_one() -> None:
    target = '"""Doc."""\nfrom __future__ import annotations\n\n\ndef keep():\n    return 1\n'
    donor = ("import functools\n\n\n@functools.cache\ndef new(x):\n    return x * 2\n")
    merged = replace_function(target, donor, "new")
    assert merged is not None
    assert merged.split("\n")[:3] == ['"""Doc."""', "from __future__ import annotations",
                                      "import functools"]
    assert "@functools.cache\ndef new(x):" in merged and "def keep():" in merged
    assert replace_function(target, "def other():\n    pass\n", "new") is None
    assert replace_function("def (:", donor, "new") is None


def test_a_javascript_function_is_replaced_in_place_with_the_helpers_it_uses() -> None:
    target = ("const fizzbuzz = (n) => {\n  return ['Buzz'];\n};\n\n"
              "function fizzbuzzValue(n) {\n  return n % 3 === 0 ? 'Fizz' : String(n);\n}\n\n"
              "module.exports = { fizzbuzz, fizzbuzzValue };\n")
    donor = ("const range = (n) => Array.from({ length: n }, (_, i) => i + 1);\n\n"
             "function fizzbuzz(n) {\n  if (n < 1) {\n    return [];\n  }\n"
             "  return range(n).map(fizzbuzzValue);\n}\n\n"
             "const fizzbuzzValue = (n) => 'wrong';\n\nmodule.exports = { fizzbuzz };\n")
    merged = replace_javascript_function(target, donor, "fizzbuzz")
    assert merged is not None
    assert "return ['Buzz']" not in merged and "range(n).map(fizzbuzzValue)" in merged
    assert merged.index("const range") < merged.index("function fizzbuzz(n)")
    assert "'wrong'" not in merged  # the target has its own fizzbuzzValue
    assert merged.rstrip().endswith("module.exports = { fizzbuzz, fizzbuzzValue };")
    assert replace_javascript_function(target, donor, "missing") is None


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_merged_javascript_module_passes_the_examples_each_donor_passed_alone(
    tmp_path: Path,
) -> None:
    spec = ("Write `m.js` exporting `double(n)` and `half(n)` with "
            "`module.exports = { double, half }`. Examples: double(2) === 4; half(4) === 2.")
    first = ("function double(n) {\n  return n * 2;\n}\n\nconst half = (n) => n;\n\n"
             "module.exports = { double, half };\n")
    second = ("const double = (n) => n;\n\nfunction half(n) {\n  return n / 2;\n}\n\n"
              "module.exports = { double, half };\n")
    tests = spec_examples_test(spec, {"m.js": first}, "javascript")
    tested = javascript_example_functions(tests[JS_EXAMPLES_TEST_PATH])
    assert sorted(tested.values(), key=sorted) == [{"double"}, {"half"}]
    outcomes = {title: "passed" if "double" in title else "failed" for title in tested}
    flipped = {title: "failed" if o == "passed" else "passed" for title, o in outcomes.items()}
    merged = merge_by_function([({"m.js": first}, report(**outcomes)),
                                ({"m.js": second}, report(**flipped))], tested)
    assert merged is not None and merged[1] == ["half"]
    result = _node_test(tmp_path, {**merged[0], **tests})
    assert result.returncode == 0 and "# pass 2" in result.stdout, result.stdout[-2000:]
