"""Generated tests are weighed against the code versions the job ran, not trusted."""

from __future__ import annotations

from atelier.domain.report import TestCase, TestReport
from atelier.domain.verdict import SetAsideTest
from atelier.pipeline.test_weighing import (
    code_version,
    outcomes,
    suspect_tests,
    without_set_aside,
)

EX = "tests.test_spec_examples::test_example_1"


def run(**outcome: str) -> dict[str, str]:
    return {name.replace("__", "::"): o for name, o in outcome.items()}


def test_a_test_every_version_fails_while_they_pass_the_examples_is_set_aside() -> None:
    evidence = {
        "v1": {EX: "passed", "t::ok": "passed", "t::wrong": "failed"},
        "v2": {EX: "passed", "t::ok": "passed", "t::wrong": "failed"},
    }
    [suspect] = suspect_tests(evidence)
    assert suspect.name == "t::wrong"
    assert "2 versions" in suspect.reason and "examples" in suspect.reason


def test_one_version_is_no_evidence() -> None:
    assert suspect_tests({"v1": {EX: "passed", "t::ok": "passed", "t::wrong": "failed"}}) == []


def test_without_examples_three_agreeing_versions_are_needed() -> None:
    two = {f"v{i}": {"t::a": "passed", "t::b": "passed", "t::wrong": "failed"} for i in range(2)}
    three = {f"v{i}": {"t::a": "passed", "t::b": "passed", "t::wrong": "failed"} for i in range(3)}
    assert suspect_tests(two) == []
    assert [s.name for s in suspect_tests(three)] == ["t::wrong"]


def test_the_requests_own_examples_are_never_set_aside() -> None:
    evidence = {f"v{i}": {EX: "failed", "t::a": "passed", "t::b": "passed"} for i in range(4)}
    assert suspect_tests(evidence) == []


def test_a_test_some_version_passes_is_evidence_for_it() -> None:
    evidence = {
        "v1": {EX: "passed", "t::ok": "passed", "t::edge": "failed"},
        "v2": {EX: "passed", "t::ok": "passed", "t::edge": "passed"},
    }
    assert suspect_tests(evidence) == []


def test_errors_are_never_taken_for_wrong_tests() -> None:
    evidence = {f"v{i}": {EX: "passed", "t::ok": "passed", "t::broken": "error"} for i in range(3)}
    assert suspect_tests(evidence) == []


def test_versions_that_fail_other_tests_do_not_vouch() -> None:
    evidence = {f"v{i}": {EX: "passed", "t::ok": "failed", "t::x": "passed",
                          "t::wrong": "failed"} for i in range(3)}
    # t::ok and t::wrong fail everywhere: half of the generated tests or more — the
    # code is more likely wrong than the tests.
    assert suspect_tests(evidence) == []


def test_most_tests_failing_everywhere_means_the_code_is_wrong() -> None:
    evidence = {f"v{i}": {"t::a": "failed", "t::b": "failed", "t::c": "passed"}
                for i in range(4)}
    assert suspect_tests(evidence) == []


def test_install_and_static_check_cases_are_not_tests() -> None:
    report = TestReport(passed=1, errors=2, cases=[
        TestCase(name="install reqests", classname="dependencies", outcome="error"),
        TestCase(name="syntax-error a.py", classname="static-check", outcome="error"),
        TestCase(name="test_a", classname="tests.test_a", outcome="passed"),
    ])
    assert outcomes(report) == {"tests.test_a::test_a": "passed"}


def test_without_set_aside_drops_the_cases_and_their_counts() -> None:
    report = TestReport(passed=2, failed=1, cases=[
        TestCase(name="ok", classname="t", outcome="passed"),
        TestCase(name="ok2", classname="t", outcome="passed"),
        TestCase(name="wrong", classname="t", outcome="failed"),
    ])
    kept = without_set_aside(report, [SetAsideTest(name="t::wrong", reason="r")])
    assert (kept.passed, kept.failed, kept.green) == (2, 0, True)
    assert report.failed == 1  # the original is untouched


def test_code_version_depends_on_paths_and_contents() -> None:
    assert code_version({"a.py": "x"}) == code_version({"a.py": "x"})
    assert code_version({"a.py": "x"}) != code_version({"a.py": "y"})
    assert code_version({"a.py": "x"}) != code_version({"b.py": "x"})


def test_tests_that_share_a_title_count_one_by_one() -> None:
    # Seen: four node:test cases titled alike, all failing everywhere (their expected
    # outputs were wrong), beside two passing ones. Under one name they were "one test
    # of three" and all four were set aside, leaving the job verified on the other two.
    title = "should convert seconds to a duration"
    report = TestReport(passed=2, failed=4, cases=[
        *(TestCase(name=title, classname="", outcome="failed") for _ in range(4)),
        TestCase(name="throws on negative input", classname="", outcome="passed"),
        TestCase(name="throws on text", classname="", outcome="passed"),
    ])
    seen = outcomes(report)
    assert len(seen) == 6
    assert [n for n in seen if n.startswith(title)] == [
        title, f"{title} [2]", f"{title} [3]", f"{title} [4]"]
    evidence = {f"v{i}": seen for i in range(3)}
    assert suspect_tests(evidence) == []  # four of six fail everywhere: the code is wrong


def test_a_repeated_title_is_set_aside_case_by_case() -> None:
    report = TestReport(passed=3, failed=1, cases=[
        TestCase(name="same", classname="t", outcome="passed"),
        TestCase(name="same", classname="t", outcome="failed"),
        TestCase(name="a", classname="t", outcome="passed"),
        TestCase(name="b", classname="t", outcome="passed"),
    ])
    [suspect] = suspect_tests({f"v{i}": outcomes(report) for i in range(3)})
    assert suspect.name == "t::same [2]"
    kept = without_set_aside(report, [suspect])
    assert (kept.passed, kept.failed) == (3, 0)
