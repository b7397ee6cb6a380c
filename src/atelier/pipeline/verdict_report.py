"""The verdict as the top of ATELIER_REPORT.md: what a reader must see before anything else.

A job can succeed and deliver code whose tests fail; the report opens by saying so,
and for failing code lists what does not work (each failing test and, briefly, why).
"""

from __future__ import annotations

from atelier.domain.job import JobResult
from atelier.domain.verdict import named_cases

# A report is read by people: past this many failing tests the rest are only counted.
MAX_LISTED_FAILURES = 20
_MESSAGE_CHARS = 200


def _brief(message: str) -> str:
    line = next((part.strip() for part in message.splitlines() if part.strip()), "")
    line = line.replace("`", "'")
    return line if len(line) <= _MESSAGE_CHARS else line[: _MESSAGE_CHARS - 1] + "…"


def verdict_md(result: JobResult) -> list[str]:
    """Markdown lines: the verdict in bold with its reason, then (when failing) the
    failing tests with the first line of their messages, then set-aside tests."""
    verdict = result.verdict
    lines = [f"**Verdict: {verdict.verdict.upper()}** — {verdict.reason}", ""]
    report = result.final_report
    if verdict.failing_tests and report is not None:
        failing = set(verdict.failing_tests)
        cases = [(name, c) for name, c in named_cases(report.cases) if name in failing]
        lines += ["What does not work:", ""]
        for name, case in cases[:MAX_LISTED_FAILURES]:
            message = _brief(case.message)
            suffix = f": {message}" if message else ""
            lines.append(f"- `{name}` ({case.outcome}){suffix}")
        if len(cases) > MAX_LISTED_FAILURES:
            lines.append(f"- … and {len(cases) - MAX_LISTED_FAILURES} more "
                         "(all of them are in ATELIER_REPORT.json)")
        lines.append("")
    if verdict.set_aside:
        lines += ["Set aside (judged wrong, not counted):", ""]
        lines += [f"- `{s.name}`: {_brief(s.reason)}" for s in verdict.set_aside]
        lines.append("")
    return lines
