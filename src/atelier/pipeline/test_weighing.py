"""Generated tests weighed against the code, not trusted.

A small model's test can be wrong (``cache.get('d') == 3`` for a key never put). Each
code version the job runs is evidence: when several independently drawn versions all
fail a test while each of them passes everything else — the request's own examples
included, when it has some — the test disagrees with every candidate that agrees with
the rest, and it is the test that is set aside, named in the report with the reason.
This is CodeT's dual execution agreement (Chen et al. 2022) cut to what the fix loop
already pays for: the resampled candidates and their runs, no extra model call.

Never set aside: the request's own examples (the user's word), install and static-check
errors, tests that error rather than fail (they never ran the code), and more than half
of the generated tests (when most tests fail everywhere, the code is what is wrong).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from atelier.domain.report import TestReport
from atelier.domain.verdict import SetAsideTest, named_cases
from atelier.spec.inline_examples import SPEC_EXAMPLES_NAME

# Cases that report on the project rather than test its behaviour.
_NOT_TESTS = frozenset({"dependencies", "static-check"})
# Without the request's examples to vouch for the candidates, more of them must agree.
MIN_AGREEING_WITHOUT_EXAMPLES = 3


def code_version(files: Mapping[str, str]) -> str:
    """A short id of one version of the project's files."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path].encode() + b"\0")
    return digest.hexdigest()[:16]


def outcomes(report: TestReport) -> dict[str, str]:
    """case id → outcome, for the cases that test behaviour."""
    return {name: c.outcome for name, c in named_cases(report.cases)
            if c.classname not in _NOT_TESTS}


def is_example_id(test: str) -> bool:
    """A case of the request's own examples (their test module or test names say so)."""
    return SPEC_EXAMPLES_NAME in test


def suspect_tests(evidence: Mapping[str, Mapping[str, str]]) -> list[SetAsideTest]:
    """The generated tests the evidence says are wrong, each with its reason.

    ``evidence`` maps each code version run to its tests' outcomes (:func:`outcomes`).
    """
    runs = [dict(run) for run in evidence.values() if run]
    if len(runs) < 2:
        return []
    tests = {t for run in runs for t in run}
    example_ids = {t for t in tests if is_example_id(t)}
    generated = tests - example_ids
    # A test failed by every version that ran it (at least two ran it).
    always_failed = {t for t in generated
                     if sum(t in run for run in runs) >= 2
                     and all(run[t] == "failed" for run in runs if t in run)}
    if not always_failed or len(always_failed) * 2 > len(generated):
        return []
    # Versions that pass everything but those tests (and at least one test).
    agreeing = [run for run in runs
                if any(o == "passed" for o in run.values())
                and all(o in ("passed", "skipped") or t in always_failed
                        for t, o in run.items())]
    with_examples = [run for run in agreeing if any(t in example_ids for t in run)]
    if with_examples:
        reason = ("failed by all {n} versions of the code that ran it, while {k} of them "
                  "passed every other test, the request's own examples included")
    elif len(agreeing) >= MIN_AGREEING_WITHOUT_EXAMPLES:
        reason = ("failed by all {n} versions of the code that ran it, while {k} "
                  "independently drawn versions passed every other test")
    else:
        return []
    backers = with_examples or agreeing
    return [SetAsideTest(name=t, reason=reason.format(
                n=sum(t in run for run in runs), k=sum(t in run for run in backers)))
            for t in sorted(always_failed) if any(t in run for run in backers)]


def without_set_aside(report: TestReport, set_aside: Sequence[SetAsideTest]) -> TestReport:
    """The report as if the set-aside tests had not run (what "good enough" is judged on)."""
    names = {s.name for s in set_aside}
    named = named_cases(report.cases)
    dropped = [c for name, c in named if name in names]
    if not dropped:
        return report

    def less(outcome: str) -> int:
        return sum(1 for c in dropped if c.outcome == outcome)

    return report.model_copy(update={
        "cases": [c for name, c in named if name not in names],
        "passed": report.passed - less("passed"),
        "failed": report.failed - less("failed"),
        "errors": report.errors - less("error"),
        "skipped": report.skipped - less("skipped"),
    })
