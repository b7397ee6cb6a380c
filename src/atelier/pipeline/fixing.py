"""Turning failing code green: repair (failures go back to the Coder) and resample
(fresh candidates at a higher temperature, the one passing most tests is kept).

Selection favours the spec's own examples over the generated tests: a small model's
tests can be wrong, the examples the user wrote are not. For the same reason, when the
spec gives examples, code that passes all of them is good enough to stop fixing: a
failing generated test next to passing examples is more often a wrong test than wrong
code (measured on HumanEval with qwen2.5-coder-0.5b: chasing such tests cost up to 11×
the tokens of one draft and can only swap right code for code that fits a wrong test).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atelier.domain.job import TestRound
from atelier.domain.report import TestReport
from atelier.pipeline.function_merge import merge_by_function
from atelier.pipeline.project_files import (
    implicated_sources,
    spec_example_counts,
)
from atelier.pipeline.test_weighing import without_set_aside
from atelier.spec.examples import EXAMPLES_TEST_PATH, example_functions
from atelier.spec.examples_js import JS_EXAMPLES_TEST_PATH, javascript_example_functions
from atelier.spec.inline_examples import SPEC_EXAMPLES_NAME

if TYPE_CHECKING:
    from atelier.pipeline.run import PipelineRun

_FEEDBACK_CHARS = 3500


def candidate_score(report: TestReport) -> tuple[int, int, int, int]:
    """Sort key: spec examples passed, tests passed, tests that ran at all, fewest failures.

    "Ran at all" keeps code that cannot even be imported (one collection error) from
    beating code whose tests run and fail.
    """
    examples_passed, _ = spec_example_counts(report.cases)
    return (examples_passed, report.passed, report.passed + report.failed,
            -(report.failed + report.errors))


def acceptable(report: TestReport, *, has_examples: bool) -> bool:
    """Good enough to stop fixing: every test passes, or every spec example does."""
    if report.green:
        return True
    if not has_examples or report.timed_out:
        return False
    passed, total = spec_example_counts(report.cases)
    return total > 0 and passed == total


def failure_feedback(report: TestReport) -> str:
    """What the Coder sees of a failing run: the failing cases, then the output tail."""
    lines = [f"{report.passed} passed, {report.failed} failed, {report.errors} errors"
             + (" (timed out)" if report.timed_out else "")]
    for case in report.cases:
        if case.outcome in ("failed", "error"):
            lines.append(f"- {case.classname}::{case.name} {case.outcome}: {case.message[:300]}")
    lines.append("Output:")
    lines.append(report.output_tail[-_FEEDBACK_CHARS:])
    return "\n".join(lines)[: _FEEDBACK_CHARS + 2000]


class FixLoop:
    """The fix rounds of one pipeline run; reads and updates the run's state."""

    def __init__(self, run: PipelineRun) -> None:
        self.job = run
        self._merges_tried: set[str] = set()

    @property
    def current(self) -> TestReport:
        return self.job.state.rounds[-1].report

    def acceptable(self, report: TestReport) -> bool:
        has_examples = self.job.spec_has_examples and any(
            SPEC_EXAMPLES_NAME in p for p in self.job.state.test_files)
        return acceptable(without_set_aside(report, self.job.state.set_aside),
                          has_examples=has_examples)

    def _strategy_for_round(self, round_number: int) -> str | None:
        """The round's strategy, or None when another round is not worth its tokens."""
        strategy = self.job.config.strategy
        if strategy == "resample+repair":
            if round_number == 1:
                return "resample"
            if self.job.one_named_file:
                # Measured on HumanEval (qwen2.5-coder-0.5b, 164 one-file requests): a
                # repair after resampling never made a failing file pass, whether the
                # tests were the request's examples or the Tester's, and it cost up to
                # a tenth of the tokens. In a project of several files a failure is
                # often an interface between them, which the error message names.
                return None
            return "repair"
        return strategy

    async def run(self) -> None:
        state = self.job.state
        budgets = self.job.config.budgets
        while (
            state.rounds
            and not self.acceptable(self.current)
            and state.fix_rounds < budgets.max_fix_rounds
        ):
            round_number = state.fix_rounds + 1
            strategy = self._strategy_for_round(round_number)
            if strategy is None:
                await self.job.emit("log", "fix", message="resampling found nothing that "
                                    "passes; a repair would not do better, so fixing stops")
                break
            if strategy == "resample" and self.job.config.resample_k > 0:
                files, report = await self._resample(round_number)
            else:
                strategy = "repair"
                files, report = await self._repair(self.current, feedback=None)
            # Keep the better of the current and the new code: a fix may regress, and
            # on a tie the code that has been tested longest stays.
            adopted = candidate_score(report) > candidate_score(self.current)
            if adopted:
                state.files = files
                for path in files:
                    await self.job.file_written(path, files[path], f"fix:{strategy}")
            else:
                report = self.current
            state.fix_rounds = round_number
            round_ = TestRound(round=round_number, report=report, strategy=strategy)
            state.rounds.append(round_)
            await self.job.test_ran(round_)
            await self.job.weigh_tests()
            await self.job.checkpoints.save_checkpoint(self.job.job_id, state)
            if strategy == "repair" and not adopted and self.job.config.coder_temperature == 0:
                # Nothing changed, so the next repair would send the very same request
                # to a greedy model and pay for the very same rejected answer.
                await self.job.emit("log", "fix", message="repair made no progress; "
                                    "repeating it would give the same answer, so fixing stops")
                break

    async def _repair(
        self, report: TestReport, *, feedback: str | None
    ) -> tuple[dict[str, str], TestReport]:
        run = self.job
        sources = dict(run.state.files)
        text = feedback or failure_feedback(report)
        targets = implicated_sources(report.output_tail + text, sources,
                                     run.config.max_repair_files)
        for path in targets:
            context = {p: c for p, c in run.all_files(sources).items() if p != path}
            sources[path] = await run.generate_file(
                run.plan.file(path), context, temperature=run.config.coder_temperature,
                feedback=text, previous=sources[path])
        return sources, await run.run_sandbox(sources)

    async def _resample(self, round_number: int) -> tuple[dict[str, str], TestReport]:
        """Up to k fresh candidates; stop at the first that is acceptable.

        In a project of several files only the files the failures point at are drawn
        again: the others passed their part, and redrawing them too could only lose it.
        """
        run = self.job
        best_files, best_report = dict(run.state.files), self.current
        drawn: list[tuple[dict[str, str], TestReport]] = [(best_files, best_report)]
        only = set(implicated_sources(failure_feedback(self.current), run.state.files,
                                      len(run.state.files)))
        for index in range(run.config.resample_k):
            files = await run.generate_sources(temperature=run.config.resample_temperature,
                                               seed=round_number * 1000 + index, only=only)
            report = await run.run_sandbox(files)
            await run.emit("log", run.meter.current_step, message="resample candidate",
                           candidate=index, passed=report.passed, failed=report.failed,
                           errors=report.errors, acceptable=self.acceptable(report),
                           completion_tokens=run.meter.usage.completion_tokens)
            drawn.append((files, report))
            if candidate_score(report) > candidate_score(best_report):
                best_files, best_report = files, report
            await run.weigh_tests()
            if not self.acceptable(best_report):
                merged = await self._merge(best_files, best_report, drawn)
                if merged is not None:
                    best_files, best_report = merged
            if self.acceptable(best_report):
                break
        return best_files, best_report

    async def _merge(
        self, best_files: dict[str, str], best_report: TestReport,
        drawn: list[tuple[dict[str, str], TestReport]],
    ) -> tuple[dict[str, str], TestReport] | None:
        """The best candidate with functions it fails taken from the others (by the
        spec's examples), when that tests better; None otherwise."""
        run = self.job
        tests = run.state.test_files
        tested = {**example_functions(tests.get(EXAMPLES_TEST_PATH, "")),
                  **javascript_example_functions(tests.get(JS_EXAMPLES_TEST_PATH, ""))}
        others = [c for c in drawn if c[0] is not best_files]
        merged = merge_by_function([(best_files, best_report), *others], tested)
        if merged is None:
            return None
        files, taken = merged
        key = "\0".join(f"{p}\0{files[p]}" for p in sorted(files))
        if key in self._merges_tried:
            return None  # the same merge as after an earlier draw: nothing new to learn
        self._merges_tried.add(key)
        report = await run.run_sandbox(files)
        better = candidate_score(report) > candidate_score(best_report)
        await run.emit("log", run.meter.current_step, message="merged candidates",
                       functions=taken, passed=report.passed, failed=report.failed,
                       errors=report.errors, kept=better)
        return (files, report) if better else None

    async def fix_findings(self) -> None:
        """One re-tested fix of the files with high-severity review findings."""
        run = self.job
        state = run.state
        high = [f for f in state.findings if f.severity == "high" and f.path in state.files]
        if not high or not state.rounds:
            return
        feedback = "Fix these review findings:\n" + "\n".join(
            f"- {f.path}:{f.line or '?'} {f.message}"
            + (f" (suggestion: {f.suggestion})" if f.suggestion else "")
            for f in high
        )
        baseline = self.current
        sources = dict(state.files)
        for path in dict.fromkeys(f.path for f in high):
            context = {p: c for p, c in run.all_files(sources).items() if p != path}
            sources[path] = await run.generate_file(
                run.plan.file(path), context, temperature=run.config.coder_temperature,
                feedback=feedback, previous=sources[path])
        report = await run.run_sandbox(sources)
        kept = candidate_score(report) >= candidate_score(baseline)
        if kept:
            state.files = sources
            for path in sources:
                await run.file_written(path, sources[path], "fix:review")
        round_ = TestRound(round=len(state.rounds), report=report if kept else baseline,
                           strategy="review-fix" if kept else "review-fix-rejected")
        state.rounds.append(round_)
        await run.test_ran(round_)
