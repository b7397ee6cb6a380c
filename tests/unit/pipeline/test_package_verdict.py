"""The verdict in the deliverable: ATELIER_REPORT.json's `verdict` and the top of the .md."""

from __future__ import annotations

import json
from pathlib import Path

from atelier.domain.job import JobResult, JobStatus, TestRound
from atelier.domain.report import TestCase, TestReport
from atelier.pipeline.package import REPORT_JSON, REPORT_MD, build_report, render_report_md
from atelier.pipeline.package import write_project as write_deliverable
from atelier.pipeline.verdict_report import MAX_LISTED_FAILURES


def result_with(*cases: TestCase, status: JobStatus = "succeeded") -> JobResult:
    report = TestReport(
        passed=sum(c.outcome == "passed" for c in cases),
        failed=sum(c.outcome == "failed" for c in cases),
        errors=sum(c.outcome == "error" for c in cases),
        cases=list(cases),
    )
    return JobResult(job_id="job-1", status=status,
                     files={"calc/ops.py": "def add(a, b):\n    return a - b\n"},
                     rounds=[TestRound(round=0, report=report, strategy="initial")])


FAILING = result_with(
    TestCase(name="test_add", classname="tests.test_ops", outcome="failed",
             message="assert -1 == 5\n +  where -1 = add(2, 3)"),
    TestCase(name="test_mul", classname="tests.test_ops", outcome="passed"),
    TestCase(name="test_neg", classname="tests.test_ops", outcome="error",
             message="fixture 'numbers' not found"),
)


def body_lines(md: str) -> list[str]:
    """The report's lines after the title and the blank line under it."""
    lines = md.splitlines()
    assert lines[0].startswith("# Atelier report") and lines[1] == ""
    return lines[2:]


def test_the_json_report_carries_the_verdict_object() -> None:
    verdict = build_report(FAILING)["verdict"]

    assert verdict == {
        "verdict": "failing", "passed": 1, "failed": 1, "errors": 1,
        "failing_tests": ["tests.test_ops::test_add", "tests.test_ops::test_neg"],
        "set_aside": [],
        "reason": "2 of 3 tests fail: tests.test_ops::test_add, tests.test_ops::test_neg",
    }


def test_a_failing_report_opens_with_the_verdict_and_what_does_not_work() -> None:
    lines = body_lines(render_report_md(FAILING))

    assert lines[0] == ("**Verdict: FAILING** — 2 of 3 tests fail: tests.test_ops::test_add, "
                        "tests.test_ops::test_neg")
    assert lines[2] == "What does not work:"
    assert lines[4] == "- `tests.test_ops::test_add` (failed): assert -1 == 5"
    assert lines[5] == "- `tests.test_ops::test_neg` (error): fixture 'numbers' not found"
    assert "test_mul" not in "\n".join(lines[:7])


def test_a_verified_report_says_so_first_and_lists_nothing_failing() -> None:
    passing = result_with(TestCase(name="test_add", classname="t", outcome="passed"),
                          TestCase(name="test_mul", classname="t", outcome="passed"))

    md = render_report_md(passing)

    assert body_lines(md)[0] == "**Verdict: VERIFIED** — all 2 tests pass"
    assert "What does not work" not in md


def test_an_untested_report_says_why_first() -> None:
    no_run = result_with(TestCase(name="test run", outcome="error",
                                  message="no junit.xml was written (exit code 4)"))

    lines = body_lines(render_report_md(no_run))

    assert lines[0] == ("**Verdict: UNTESTED** — no test case ran: test run: no junit.xml "
                        "was written (exit code 4)")
    assert build_report(no_run)["verdict"]["verdict"] == "untested"


def test_a_job_without_rounds_is_reported_untested() -> None:
    result = JobResult(job_id="j", status="succeeded", files={"a.py": "x = 1\n"})

    assert body_lines(render_report_md(result))[0] == "**Verdict: UNTESTED** — no tests were run"


def test_a_long_list_of_failures_is_cut_in_the_markdown() -> None:
    many = result_with(*(TestCase(name=f"test_{i}", outcome="failed", message=f"m{i}")
                         for i in range(MAX_LISTED_FAILURES + 3)))

    md = render_report_md(many)

    assert "- `test_19` (failed): m19" in md and "test_20`" not in md
    assert "- … and 3 more (all of them are in ATELIER_REPORT.json)" in md
    assert len(build_report(many)["verdict"]["failing_tests"]) == MAX_LISTED_FAILURES + 3


def test_both_reports_written_to_disk_carry_the_verdict(tmp_path: Path) -> None:
    write_deliverable(FAILING, tmp_path)

    assert json.loads((tmp_path / REPORT_JSON).read_text())["verdict"]["verdict"] == "failing"
    assert (tmp_path / REPORT_MD).read_text().splitlines()[2].startswith("**Verdict: FAILING**")
