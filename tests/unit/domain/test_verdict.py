"""The verdict on a finished job, on every path: verified, failing, untested."""

from __future__ import annotations

from atelier.domain.job import JobResult, TestRound
from atelier.domain.report import Outcome, TestCase, TestReport
from atelier.domain.verdict import SetAsideTest, Verdict, case_id, judge


def case(name: str, outcome: Outcome, message: str = "", classname: str = "tests.test_ops",
         ) -> TestCase:
    return TestCase(name=name, classname=classname, outcome=outcome, message=message)


def report(*cases: TestCase, timed_out: bool = False) -> TestReport:
    """A report whose totals agree with its cases, as the sandbox runner builds them."""
    def n(outcome: str) -> int:
        return sum(1 for c in cases if c.outcome == outcome)

    return TestReport(passed=n("passed"), failed=n("failed"), errors=n("error"),
                      skipped=n("skipped"), cases=list(cases), timed_out=timed_out)


def rounds(*reports: TestReport) -> list[TestRound]:
    return [TestRound(round=i, report=r) for i, r in enumerate(reports)]


# The case `sandbox.runner._report` makes when no machine-readable result was written.
def runner_error(message: str) -> TestCase:
    return TestCase(name="test run", outcome="error", message=message)


def test_all_tests_passing_is_verified_with_the_counts() -> None:
    verdict = judge(rounds(report(case("test_add", "passed"), case("test_mul", "passed"))),
                    "succeeded")

    assert verdict.verdict == "verified"
    assert (verdict.passed, verdict.failed, verdict.errors) == (2, 0, 0)
    assert verdict.failing_tests == [] and verdict.set_aside == []
    assert verdict.reason == "all 2 tests pass"
    assert verdict.headline == "VERIFIED: all 2 tests pass"


def test_a_single_passing_test_is_verified() -> None:
    verdict = judge(rounds(report(case("test_add", "passed"))), "succeeded")

    assert verdict.verdict == "verified" and verdict.reason == "the only test passes"


def test_failures_and_errors_make_it_failing_and_are_named() -> None:
    final = report(case("test_add", "failed", "assert -1 == 5"), case("test_mul", "passed"),
                   case("test_div", "error", "fixture 'x' not found"),
                   case("skipped_one", "skipped"))

    verdict = judge(rounds(final), "succeeded")

    assert verdict.verdict == "failing"
    assert (verdict.passed, verdict.failed, verdict.errors) == (1, 1, 1)
    assert verdict.failing_tests == ["tests.test_ops::test_add", "tests.test_ops::test_div"]
    assert verdict.reason == ("2 of 3 tests fail: tests.test_ops::test_add, "
                              "tests.test_ops::test_div")


def test_a_static_check_error_beside_passing_tests_is_failing() -> None:
    static = TestCase(name="undefined-name calc/ops.py:3", classname="static-check",
                      outcome="error", message="undefined name 'math'")
    final = report(case("test_add", "passed"), static)

    verdict = judge(rounds(final), "succeeded")

    assert verdict.verdict == "failing"
    assert verdict.failing_tests == ["static-check::undefined-name calc/ops.py:3"]
    assert verdict.reason.startswith("1 of 2 tests fails:")


def test_a_long_list_of_failures_is_cut_in_the_reason_but_not_in_the_list() -> None:
    final = report(*(case(f"test_{i}", "failed") for i in range(8)), case("ok", "passed"))

    verdict = judge(rounds(final), "succeeded")

    assert len(verdict.failing_tests) == 8
    assert verdict.reason.startswith("8 of 9 tests fail: tests.test_ops::test_0, ")
    assert verdict.reason.endswith("tests.test_ops::test_4 and 3 more")


def test_only_the_final_round_counts() -> None:
    red = report(case("test_add", "failed"), case("test_mul", "passed"))
    green = report(case("test_add", "passed"), case("test_mul", "passed"))

    assert judge(rounds(red, green), "succeeded").verdict == "verified"
    assert judge(rounds(green, red), "succeeded").verdict == "failing"


def test_a_timeout_before_any_result_is_untested() -> None:
    final = report(runner_error("timed out"), timed_out=True)

    verdict = judge(rounds(final), "succeeded")

    assert verdict.verdict == "untested"
    assert verdict.reason == "the test run timed out before any test reported a result"
    assert verdict.passed == 0 and verdict.failed == 0


def test_a_timeout_after_some_tests_passed_is_failing_not_verified() -> None:
    final = report(case("test_add", "passed"), timed_out=True)

    verdict = judge(rounds(final), "succeeded")

    assert verdict.verdict == "failing"
    assert verdict.failing_tests == []
    assert verdict.reason == "the test run timed out (1 passed before it was stopped)"


def test_a_timeout_with_failures_names_them_and_says_it_timed_out() -> None:
    final = report(case("test_add", "passed"), case("test_loop", "failed"), timed_out=True)

    verdict = judge(rounds(final), "succeeded")

    assert verdict.verdict == "failing"
    assert verdict.reason == "1 of 2 tests fails: tests.test_ops::test_loop (the run timed out)"


def test_only_the_runner_error_means_nothing_ran_and_says_why() -> None:
    final = report(runner_error("no junit.xml was written (exit code 4)\nmore detail"))

    verdict = judge(rounds(final), "succeeded")

    assert verdict.verdict == "untested"
    assert verdict.reason == "no test case ran: test run: no junit.xml was written (exit code 4)"
    assert verdict.errors == 1 and verdict.failing_tests == ["test run"]


def test_only_collection_errors_is_untested_with_the_modules_named() -> None:
    collection = TestCase(name="tests.test_ops", classname="", outcome="error",
                          message="collection failure\nImportError: cannot import name 'add'")
    static = TestCase(name="syntax-error calc/ops.py:2", classname="static-check",
                      outcome="error", message="calc/ops.py:2: syntax error")

    verdict = judge(rounds(report(collection, static)), "succeeded")

    assert verdict.verdict == "untested"
    assert verdict.reason == ("no test case ran: tests.test_ops: collection failure; "
                              "static-check::syntax-error calc/ops.py:2: calc/ops.py:2: "
                              "syntax error")


def test_many_errors_and_nothing_run_are_summarised() -> None:
    final = report(*(TestCase(name=f"tests/test_{i}.py", outcome="error") for i in range(5)))

    verdict = judge(rounds(final), "succeeded")

    assert verdict.verdict == "untested"
    assert verdict.reason == ("no test case ran: tests/test_0.py; tests/test_1.py; "
                              "tests/test_2.py (and 2 more)")


def test_no_collected_tests_and_only_skipped_tests_are_untested() -> None:
    empty = judge(rounds(report()), "succeeded")
    skipped = judge(rounds(report(case("a", "skipped"), case("b", "skipped"))), "succeeded")

    assert (empty.verdict, empty.reason) == ("untested", "no tests were collected")
    assert (skipped.verdict, skipped.reason) == ("untested", "all 2 tests were skipped")


def test_no_rounds_is_untested_whatever_the_status() -> None:
    single = judge([], "succeeded")
    failed = judge([], "failed", reason="llm_unavailable: connection refused")
    cancelled = judge([], "cancelled", reason="cancelled by request")

    assert (single.verdict, single.reason) == ("untested", "no tests were run")
    assert failed.verdict == "untested"
    assert failed.reason == ("the job failed before any test ran: "
                             "llm_unavailable: connection refused")
    assert (cancelled.verdict, cancelled.reason) == (
        "untested", "the job was cancelled before any test ran")


def test_a_cancelled_or_failed_job_with_rounds_is_judged_on_its_last_round() -> None:
    red = report(case("test_add", "failed"), case("test_mul", "passed"))
    green = report(case("test_add", "passed"))

    assert judge(rounds(red), "cancelled", reason="cancelled by request").verdict == "failing"
    assert judge(rounds(green), "failed", reason="llm_unavailable: x").verdict == "verified"


def test_a_budget_cut_job_with_files_but_no_test_round_is_untested() -> None:
    result = JobResult(job_id="j", status="succeeded", files={"calc/ops.py": "x = 1\n"},
                       reason="stopped early: token budget of 400 spent")

    verdict = result.verdict

    assert verdict.verdict == "untested"
    assert verdict.reason == "no tests were run (stopped early: token budget of 400 spent)"


def test_job_result_verdict_is_the_judgement_of_its_rounds() -> None:
    final = report(case("test_add", "failed", "boom"), case("test_mul", "passed"))
    result = JobResult(job_id="j", status="succeeded", rounds=rounds(final))

    assert result.verdict == judge(result.rounds, "succeeded")
    assert result.verdict.verdict == "failing"


def test_set_aside_tests_do_not_count_toward_failing() -> None:
    wrong = case("test_wrong_expectation", "failed", "assert 4 == 5")
    final = report(case("test_add", "passed"), wrong)
    aside = [SetAsideTest(name=case_id(wrong), reason="contradicts the spec's examples")]

    verdict = judge(rounds(final), "succeeded", set_aside=aside)

    assert verdict.verdict == "verified"
    assert (verdict.passed, verdict.failed, verdict.errors) == (1, 0, 0)
    assert verdict.failing_tests == []
    assert verdict.set_aside == aside
    assert verdict.reason == "the only test passes"


def test_set_aside_leaves_other_failures_failing_and_passes_uncounted() -> None:
    aside_pass = case("test_trivial", "passed")
    aside_fail = case("test_wrong", "failed")
    final = report(case("test_add", "passed"), case("test_mul", "failed"), aside_pass,
                   aside_fail)
    aside = [SetAsideTest(name=case_id(c), reason="suspect") for c in (aside_pass, aside_fail)]

    verdict = judge(rounds(final), "succeeded", set_aside=aside)

    assert verdict.verdict == "failing"
    assert (verdict.passed, verdict.failed) == (1, 1)
    assert verdict.failing_tests == ["tests.test_ops::test_mul"]
    assert verdict.reason == "1 of 2 tests fails: tests.test_ops::test_mul"


def test_when_every_test_is_set_aside_the_code_is_untested() -> None:
    only = case("test_wrong", "failed")
    aside = [SetAsideTest(name=case_id(only), reason="suspect")]

    verdict = judge(rounds(report(only)), "succeeded", set_aside=aside)

    assert (verdict.verdict, verdict.reason) == ("untested", "every test was set aside")
    assert verdict.set_aside == aside


def test_tests_sharing_a_title_are_judged_and_named_one_by_one() -> None:
    title = "converts seconds"
    final = report(case(title, "failed", classname=""), case(title, "passed", classname=""),
                   case(title, "failed", classname=""))
    aside = [SetAsideTest(name=f"{title} [3]", reason="suspect")]

    verdict = judge(rounds(final), "succeeded", set_aside=aside)

    assert verdict.verdict == "failing"
    assert (verdict.passed, verdict.failed) == (1, 1)
    assert verdict.failing_tests == [title]


def test_a_repeated_title_is_written_once_with_its_count_in_the_reason() -> None:
    title = "should convert seconds to a human-readable duration, omitting zero units"
    final = report(*(case(title, "failed", classname="") for _ in range(3)),
                   case("throws", "failed", classname=""))

    verdict = judge(rounds(final), "succeeded")

    assert verdict.failing_tests == [title, f"{title} [2]", f"{title} [3]", "throws"]
    assert verdict.reason == f"4 of 4 tests fail: {title} (3 cases), throws"


def test_a_case_without_classname_goes_by_its_name() -> None:
    assert case_id(TestCase(name="add > adds", outcome="passed")) == "add > adds"
    assert case_id(case("test_add", "passed")) == "tests.test_ops::test_add"


def test_detail_is_everything_but_the_verdict_word() -> None:
    verdict = Verdict(verdict="failing", passed=1, failed=1, failing_tests=["t"],
                      set_aside=[SetAsideTest(name="s", reason="r")], reason="1 of 2 tests fails")

    assert verdict.detail() == {"passed": 1, "failed": 1, "errors": 0, "failing_tests": ["t"],
                                "set_aside": [{"name": "s", "reason": "r"}],
                                "reason": "1 of 2 tests fails"}
