"""Resample candidates merged function by function: which definition is taken from
where, what comes along with it (imports, helpers), and what is left alone."""

from __future__ import annotations

from atelier.agents.examples import example_functions, spec_examples_test
from atelier.domain.report import TestCase, TestReport
from atelier.pipeline.function_merge import merge_by_function, replace_function

SPEC = ("Write `text.py` with `shout(s)` and `count(s)`. Examples: shout('a') == 'A!'; "
        "count('ab') == 2; count('') == 0.")


def report(**outcomes: str) -> TestReport:
    cases = [TestCase(name=name, classname="tests.test_spec_examples", outcome=outcome)  # type: ignore[arg-type]
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
