"""The verdict on a finished job: does the code it delivers pass its tests?

`status` says how the job's lifecycle ended; a job can succeed and still deliver code
whose tests fail, or none that ran at all. The verdict says that plainly:

- ``verified``: the final round ran tests and all of them passed;
- ``failing``: tests ran and some failed (which, and how many);
- ``untested``: nothing could be run, so nothing is claimed (no round, only a runner
  or collection error, every test skipped or set aside).

The final round is judged because it is the one run on the files the job delivers:
the fix loop only records a new round for code it adopts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from atelier.domain.report import TestCase, TestReport

VerdictKind = Literal["verified", "failing", "untested"]
VERDICTS: tuple[VerdictKind, ...] = ("verified", "failing", "untested")

# How many failing names a one-line reason lists before "and N more".
_NAMES_IN_REASON = 5
_MESSAGE_CHARS = 160


class _Round(Protocol):
    """What the verdict reads of a test round (the domain `TestRound` fits)."""

    @property
    def report(self) -> TestReport: ...


class SetAsideTest(BaseModel):
    """A test the pipeline judged wrong and left out of the verdict, and why."""

    __test__ = False

    name: str = Field(description="the test's id, as `named_cases` gives it")
    reason: str


class Verdict(BaseModel):
    """Whether the delivered code passes its tests; `reason` is one line for people."""

    verdict: VerdictKind
    passed: int = 0
    failed: int = 0
    errors: int = 0
    failing_tests: list[str] = Field(default_factory=list)
    set_aside: list[SetAsideTest] = Field(default_factory=list)
    reason: str = ""

    def detail(self) -> dict[str, Any]:
        """Everything but the verdict word, as JSON: what the API and the final event
        carry beside ``verdict``."""
        return self.model_dump(mode="json", exclude={"verdict"})

    @property
    def headline(self) -> str:
        """``FAILING: 1 of 2 tests fail: …`` — the verdict and its reason in one line."""
        return f"{self.verdict.upper()}: {self.reason}" if self.reason else self.verdict.upper()


def case_id(case: TestCase) -> str:
    """The name a test goes by in a verdict: ``classname::name``, or the name alone."""
    return f"{case.classname}::{case.name}" if case.classname else case.name


def named_cases(cases: Sequence[TestCase]) -> list[tuple[str, TestCase]]:
    """Each case with its `case_id` made unique: a name that repeats gets " [2]", " [3]"…

    Why: node:test runs two tests with one title as two cases under one name (a small
    model wrote four tests titled alike). Under one name they counted as one test when
    the weighing checked that at most half of the tests are set aside, and all four
    were dropped by setting "one" aside.
    """
    seen: dict[str, int] = {}
    named = []
    for case in cases:
        base = case_id(case)
        seen[base] = seen.get(base, 0) + 1
        named.append((base if seen[base] == 1 else f"{base} [{seen[base]}]", case))
    return named


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= _MESSAGE_CHARS else line[: _MESSAGE_CHARS - 1] + "…"


_REPEAT_SUFFIX = re.compile(r" \[\d+\]$")


def _names(names: Sequence[str]) -> str:
    """Names for a one-line reason: a title that repeats (`named_cases`) is written once
    with its count — "x (3 cases)" — rather than three times in full."""
    counts: dict[str, int] = {}
    for name in names:
        base = _REPEAT_SUFFIX.sub("", name)
        counts[base] = counts.get(base, 0) + 1
    titles = [base if n == 1 else f"{base} ({n} cases)" for base, n in counts.items()]
    shown = ", ".join(titles[:_NAMES_IN_REASON])
    more = len(titles) - _NAMES_IN_REASON
    return f"{shown} and {more} more" if more > 0 else shown


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _without_rounds(status: str, reason: str | None) -> Verdict:
    if status == "failed":
        why = "the job failed before any test ran" + (f": {reason}" if reason else "")
    elif status == "cancelled":
        why = "the job was cancelled before any test ran"
    else:
        why = "no tests were run" + (f" ({reason})" if reason else "")
    return Verdict(verdict="untested", reason=why)


def _nothing_ran(
    report: TestReport, kept: list[TestCase], set_aside: Sequence[SetAsideTest]
) -> str:
    """Why no test case of the final round counts as having run."""
    if report.timed_out:
        return "the test run timed out before any test reported a result"
    errored = [c for c in kept if c.outcome == "error"]
    if errored:
        # A runner that could not start, a test module that could not be imported: the
        # code was never exercised, so this is no evidence either way.
        details = "; ".join(
            f"{case_id(c)}: {_first_line(c.message)}" if c.message.strip() else case_id(c)
            for c in errored[:3]
        )
        more = f" (and {len(errored) - 3} more)" if len(errored) > 3 else ""
        return f"no test case ran: {details}{more}"
    if set_aside and not kept:
        return "every test was set aside"
    skipped = sum(1 for c in kept if c.outcome == "skipped")
    if skipped:
        return f"all {_plural(skipped, 'test')} were skipped"
    return "no tests were collected"


def judge(
    rounds: Sequence[_Round],
    status: str,
    *,
    reason: str | None = None,
    set_aside: Sequence[SetAsideTest] = (),
) -> Verdict:
    """The verdict on a job from its test rounds (the last one counts) and its status.

    `reason` is the job's stop reason, quoted when no test ran. Tests named in
    `set_aside` (by `named_cases`) count neither as passing nor as failing. Never raises.
    """
    if not rounds:
        return _without_rounds(status, reason)
    report = rounds[-1].report
    aside_names = {s.name for s in set_aside}
    named = named_cases(report.cases)
    kept = [c for name, c in named if name not in aside_names]
    dropped = [c for name, c in named if name in aside_names]

    def count(outcome: str, total: int) -> int:
        # Totals come from the report (a report may carry totals without cases).
        return max(0, total - sum(1 for c in dropped if c.outcome == outcome))

    passed = count("passed", report.passed)
    failed = count("failed", report.failed)
    errors = count("error", report.errors)
    failing = [name for name, c in named
               if name not in aside_names and c.outcome in ("failed", "error")]
    if passed == 0 and failed == 0:
        kind: VerdictKind = "untested"
        why = _nothing_ran(report, kept, set_aside)
    elif failed == 0 and errors == 0 and not report.timed_out:
        kind = "verified"
        why = "the only test passes" if passed == 1 else f"all {passed} tests pass"
    elif failed or errors:
        kind = "failing"
        bad = failed + errors
        why = f"{bad} of {_plural(passed + bad, 'test')} {'fails' if bad == 1 else 'fail'}"
        why += f": {_names(failing)}" if failing else ""
        why += " (the run timed out)" if report.timed_out else ""
    else:
        kind = "failing"
        why = f"the test run timed out ({passed} passed before it was stopped)"
    return Verdict(verdict=kind, passed=passed, failed=failed, errors=errors,
                   failing_tests=failing, set_aside=list(set_aside), reason=why)
