"""The workflow: plan → code → test → fix → review → docs → package.

Each step is checkpointed, so a job whose process died resumes after its last
completed step (and the call record replays the model calls of the step in flight).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Collection, Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any

from atelier.agents.coder import write_file
from atelier.agents.documenter import fallback_readme, write_docs
from atelier.agents.planner import plan_named_file, plan_project
from atelier.agents.reviewer import review_project
from atelier.agents.single import write_project_single
from atelier.agents.tester import write_tests
from atelier.domain.environment import EnvironmentReport
from atelier.domain.errors import (
    AtelierError,
    BudgetExceeded,
    Cancelled,
    LLMError,
    LLMOutputInvalid,
    LLMTimeout,
)
from atelier.domain.events import Event, EventType
from atelier.domain.job import STEPS, Checkpoint, JobResult, JobStatus, TestRound
from atelier.domain.paths import is_test_path
from atelier.domain.plan import FileSpec, Plan
from atelier.domain.report import TestReport
from atelier.domain.spec import Role, Spec
from atelier.llm.base import LLM
from atelier.pipeline.config import RunConfig
from atelier.pipeline.dependencies import ProjectEnvironments, with_dependency_findings
from atelier.pipeline.fixing import FixLoop
from atelier.pipeline.js_test_mending import JS_SUFFIXES, mend_javascript_test
from atelier.pipeline.metering import JobMeter, MeteredLLM
from atelier.pipeline.ports import CheckpointStore, EventSink
from atelier.pipeline.project_files import (
    is_test_module,
    plan_from_files,
    smoke_test,
    source_paths,
)
from atelier.pipeline.source_mending import mend_source, names_required_from
from atelier.pipeline.static_check import (
    check_sources,
    with_static_issues,
)
from atelier.pipeline.test_mending import mend_python_test
from atelier.pipeline.test_weighing import code_version, outcomes, suspect_tests
from atelier.sandbox import run_tests
from atelier.sandbox.env_policy import DependencyPolicy
from atelier.settings import Settings
from atelier.spec.examples import parse_examples, planned_examples_test, spec_examples_test
from atelier.spec.request_sections import file_section, request_for_file

# Share of the progress bar each step represents once done.
_STEP_WEIGHT = {"plan": 0.1, "code": 0.3, "test": 0.15, "fix": 0.2, "review": 0.1, "docs": 0.1,
                "package": 0.05}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PipelineRun:
    """One execution of the pipeline for one job (a fresh run, a resume, or a revision)."""

    def __init__(
        self,
        job_id: str,
        spec: Spec,
        *,
        llms: Mapping[Role, LLM],
        settings: Settings,
        checkpoints: CheckpointStore,
        emit: EventSink,
        cancel_event: asyncio.Event | None,
        base_files: dict[str, str] | None,
        instructions: str | None,
    ) -> None:
        self.job_id = job_id
        self.spec = spec
        self.settings = settings
        self.config = RunConfig.from_spec(spec, settings)
        self.checkpoints = checkpoints
        self._emit = emit
        self.base_files = base_files
        self.instructions = instructions
        self.meter = JobMeter(job_id, self.config.budgets, emit, cancel_event=cancel_event)
        self.llms: dict[Role, LLM] = {
            role: MeteredLLM(llm, self.meter) for role, llm in llms.items()
        }
        self.state = Checkpoint()
        self.environments = ProjectEnvironments(DependencyPolicy.from_settings(settings),
                                                on_prepared=self.dependencies_installed,
                                                request=self.spec_prompt)

    # --- events -----------------------------------------------------------------
    async def emit(self, type_: EventType, step: str | None = None, **data: Any) -> None:
        await self._emit(Event(job_id=self.job_id, type=type_, step=step, data=data))

    def _progress(self) -> float:
        return round(sum(_STEP_WEIGHT[s] for s in self.state.completed_steps), 3)

    async def file_written(self, path: str, content: str, by: str) -> None:
        await self.emit("file_written", self.meter.current_step, path=path, by=by,
                        sha256=sha256_text(content), size=len(content.encode()))

    async def test_ran(self, round_: TestRound) -> None:
        r = round_.report
        await self.emit("test_run", self.meter.current_step, round=round_.round,
                        strategy=round_.strategy, passed=r.passed, failed=r.failed,
                        errors=r.errors, skipped=r.skipped, timed_out=r.timed_out,
                        duration_s=round(r.duration_s, 3), isolation=r.isolation,
                        # What the job has spent by the end of this round: the cost of
                        # each fix strategy is visible live (and to the benchmarks).
                        completion_tokens=self.meter.usage.completion_tokens,
                        # Which tests fail and why, for the live view (bounded in size).
                        failing=[{"name": f"{c.classname}::{c.name}" if c.classname else c.name,
                                  "outcome": c.outcome, "message": c.message[:2000]}
                                 for c in r.cases if c.outcome in ("failed", "error")][:20],
                        output_tail=r.output_tail[-3000:] if r.failed or r.errors else "")

    async def dependencies_installed(self, report: EnvironmentReport) -> None:
        await self.emit("dependencies_installed", self.meter.current_step,
                        language=report.language, index=report.index, reused=report.reused,
                        installed=[p.model_dump() for p in report.installed],
                        findings=[f.model_dump() for f in report.findings])

    # --- helpers used by the steps and the fix loop -------------------------------
    @property
    def plan(self) -> Plan:
        assert self.state.plan is not None, "plan step has not run"
        return self.state.plan

    @property
    def spec_prompt(self) -> str:
        if self.instructions:
            return f"{self.spec.prompt}\n\nRevision instructions:\n{self.instructions}"
        return self.spec.prompt

    def all_files(self, sources: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**(sources if sources is not None else self.state.files),
                **self.state.test_files}

    async def run_sandbox(self, sources: Mapping[str, str]) -> TestReport:
        self.meter.check()
        limits = self.config.sandbox_limits
        remaining = self.meter.remaining_wall_s()
        if remaining is not None and remaining < limits.wall_time_s:
            limits = replace(limits, wall_time_s=max(1.0, remaining))
        files = self.all_files(sources)
        # Installed outside the sandbox (it downloads); the tests then run without network.
        environment = await self.environments.for_files(
            self.plan.language, self.plan.dependencies, files, project_name=self.plan.name)
        report = await run_tests(files, self.plan.language, limits,
                                 test_command=self.plan.test_command,
                                 backend=self.config.sandbox_backend, environment=environment)
        report = with_dependency_findings(report, environment.report)
        report = with_static_issues(report, check_sources(sources, self.plan.language))
        self.state.test_outcomes[code_version(files)] = outcomes(report)
        return report

    async def weigh_tests(self) -> None:
        """Set aside the generated tests the runs so far say are wrong (see test_weighing)."""
        suspects = suspect_tests(self.state.test_outcomes)
        if [s.name for s in suspects] != [s.name for s in self.state.set_aside]:
            self.state.set_aside = suspects
            await self.emit("log", self.meter.current_step, message="tests set aside",
                            set_aside=[s.model_dump() for s in suspects])

    @cached_property
    def spec_has_examples(self) -> bool:
        """Whether the request shows examples (inputs with their results). The cases it
        only states in words (errors, empty input) are tested too, but alone they are
        too few to stand in for the Tester's tests or to call code good enough."""
        return bool(parse_examples(self.spec.prompt))

    @property
    def one_named_file(self) -> bool:
        """A new project whose request names its single file (no planner was asked)."""
        return (self.base_files is None and len(self.plan.files) == 1
                and plan_named_file(self.spec) is not None)

    async def generate_file(
        self, spec: FileSpec, context: Mapping[str, str], *, temperature: float,
        feedback: str | None = None, previous: str | None = None, seed: int | None = None,
    ) -> str:
        content: str | None = None
        if self.one_named_file and feedback is None and previous is None:
            # Draft (and redraw) it exactly as the `single` baseline would: the fix loop
            # then starts from the baseline's own answer and only ever adopts a
            # candidate that tests better, so the pipeline cannot draft worse than it.
            # Measured: the Coder's project-shaped prompt drafted HumanEval/11 wrong
            # where the plain prompt was right.
            drafted = await write_project_single(self.spec, self.llms["coder"],
                                                 language=self.plan.language,
                                                 temperature=temperature, seed=seed)
            content = drafted.get(spec.path) or (
                next(iter(drafted.values())) if len(drafted) == 1 else None)
        paths = [f.path for f in self.plan.files]
        if not content:
            request = request_for_file(self.spec_prompt, spec.path, paths)
            content = await write_file(self.plan, spec, context, self.llms["coder"],
                                       spec_prompt=request, feedback=feedback,
                                       previous=previous, temperature=temperature, seed=seed)
        mended, notes = mend_source(spec.path, content, self.request_for_mending(spec.path),
                                    wanted=names_required_from(spec.path, self.state.test_files))
        if notes:
            await self.emit("log", self.meter.current_step, message="mended", path=spec.path,
                            changes=notes)
        return mended

    async def generate_sources(
        self, *, temperature: float, seed: int | None = None,
        only: Collection[str] | None = None,
    ) -> dict[str, str]:
        """The planned files, in dependency waves, independent files concurrently.

        With `only`, the other files keep their current content (and serve as context).
        """
        files: dict[str, str] = {}
        semaphore = asyncio.Semaphore(self.config.coder_concurrency)

        async def one(spec: FileSpec) -> tuple[str, str]:
            if only is not None and spec.path not in only and spec.path in self.state.files:
                return spec.path, self.state.files[spec.path]
            async with semaphore:
                context = {d: files[d] for d in spec.depends_on if d in files}
                return spec.path, await self.generate_file(
                    spec, context, temperature=temperature, seed=seed)

        for wave in self.plan.generation_order():
            for path, content in await asyncio.gather(*(one(f) for f in wave)):
                files[path] = content
        return files

    # --- steps ------------------------------------------------------------------
    async def step_plan(self) -> None:
        if self.base_files is not None:
            self.state.plan = plan_from_files(
                self.base_files, name=self.spec.prompt[:60].strip() or "project",
                summary=self.spec.prompt[:200], language=self.spec.language,
            )
            self.state.files = {p: self.base_files[p] for p in source_paths(self.base_files)}
            self.state.test_files = {p: c for p, c in self.base_files.items() if is_test_path(p)}
        elif self.config.strategy == "single":
            language = self.spec.language or "python"
            files = await write_project_single(self.spec, self.llms["coder"], language=language,
                                               temperature=self.config.coder_temperature)
            if not files:
                # An empty or garbage reply: say so, instead of a crash on an empty Plan.
                raise LLMOutputInvalid("the model's reply held no code to make a project of")
            self.state.plan = plan_from_files(files, name="project", summary=self.spec.prompt[:200],
                                              language=self.spec.language)
            self.state.files = files
        elif (named := plan_named_file(self.spec)) is not None:
            self.state.plan = named
            await self.emit("log", "plan", message="the request names its one file; "
                            "no planner call needed")
        else:
            self.state.plan = await plan_project(self.spec, self.llms["planner"],
                                                 template_hint=self.spec.template)
        await self.emit("log", "plan", message="plan ready",
                        plan=self.plan.model_dump(mode="json"))

    async def step_code(self) -> None:
        if self.base_files is not None:
            revised: dict[str, str] = {}
            for spec in self.plan.files:
                current = self.state.files.get(spec.path, "")
                context = {p: c for p, c in self.all_files().items() if p != spec.path}
                revised[spec.path] = await self.generate_file(
                    spec, context, temperature=self.config.coder_temperature,
                    feedback=self.instructions, previous=current)
            self.state.files = revised
        elif self.config.strategy != "single":
            self.state.files = await self.generate_sources(
                temperature=self.config.coder_temperature)
        for path, content in self.state.files.items():
            await self.file_written(path, content, "coder")

    async def step_test(self) -> None:
        if self.config.strategy == "single":
            return
        examples = spec_examples_test(self.spec.prompt, self.state.files, self.plan.language)
        if not examples and self.plan.examples:
            examples = planned_examples_test(self.plan.examples, self.state.files,
                                             self.plan.language)
        if self.spec_has_examples and self.one_named_file:
            # The request's own examples are the tests of a one-file request: measured
            # on HumanEval, generated tests beside them cost 1.5-2.5x the draft's tokens
            # and only ever changed the outcome for the worse (a wrong expectation
            # steering the choice of candidate).
            await self.emit("log", "test", message="the request's examples are the tests; "
                            "no generated tests needed")
            tests = dict(examples)
        else:
            tests = await self.generated_tests(examples=(
                len(parse_examples(self.spec.prompt) or self.plan.examples) if examples else 0))
            tests.update(examples)
        if tests or not self.state.test_files:
            self.state.test_files = {p: c for p, c in tests.items() if p not in self.state.files}
        for path, content in self.state.test_files.items():
            await self.file_written(path, content, "tester")
        await self.export_what_the_tests_require()
        round_ = TestRound(round=0, report=await self.run_sandbox(self.state.files),
                           strategy="initial")
        self.state.rounds.append(round_)
        await self.test_ran(round_)

    def request_for_mending(self, path: str) -> str:
        """What the request asks of this file: its own section, when it has one."""
        paths = [f.path for f in self.plan.files]
        return file_section(self.spec_prompt, path, paths) or self.spec_prompt

    async def export_what_the_tests_require(self) -> None:
        """A CommonJS module that exports nothing gets `module.exports` for the names
        its tests take from it and it defines (a plain request names none, so the
        Coder's mending had nothing to go by); without it every test fails alike."""
        for path, content in list(self.state.files.items()):
            wanted = names_required_from(path, self.state.test_files)
            if not wanted:
                continue
            mended, notes = mend_source(path, content, self.request_for_mending(path),
                                        wanted=wanted)
            if mended != content:
                self.state.files[path] = mended
                await self.emit("log", "test", message="mended", path=path, changes=notes)
                await self.file_written(path, mended, "coder")

    async def generated_tests(self, *, examples: int = 0) -> dict[str, str]:
        """The Tester's files, keeping only those that compile; one retry when none do.

        A broken test file cannot be fixed by changing the code, so it must never reach
        the fix loop. When no test survives, an import smoke test stands in.
        """
        for temperature in (0.0, 0.4):
            try:
                tests = await write_tests(self.plan, self.state.files, self.llms["tester"],
                                          spec_prompt=self.spec_prompt, temperature=temperature,
                                          examples=examples)
            except LLMError as exc:  # unusable reply, runaway, timeout: fall back, don't fail
                await self.emit("log", "test", message="tester reply unusable",
                                detail=str(exc.detail))
                continue
            if self.plan.language != "python":
                # A file that cannot load runs nothing: mend what commonly stops it.
                return {p: mend_javascript_test(p, c, {**self.state.files, **tests})
                        if p.endswith(JS_SUFFIXES) else c for p, c in tests.items()}
            mended = {p: mend_python_test(c, self.state.files) if p.endswith(".py") else c
                      for p, c in tests.items()}
            valid = {p: c for p, c in mended.items() if c is not None}
            if any(is_test_module(p) for p in valid):
                return valid
            await self.emit("log", "test", message="generated tests do not compile; retrying",
                            dropped=sorted(set(tests) - set(valid)))
        return smoke_test(self.state.files)

    async def step_fix(self) -> None:
        if self.config.strategy == "single":
            return
        await FixLoop(self).run()

    async def step_review(self) -> None:
        if not self.config.review or self.config.strategy == "single":
            return
        report = self.state.rounds[-1].report if self.state.rounds else None
        try:
            findings = await review_project(self.plan, self.all_files(), report,
                                            self.llms["reviewer"])
            self.state.findings = findings
            for finding in findings:
                await self.emit("finding", "review", **finding.model_dump(mode="json"))
            await FixLoop(self).fix_findings()
        except (LLMTimeout, LLMOutputInvalid) as exc:
            # The code is written and tested; an advisory step that the model botches
            # must not fail the job (an unreachable provider still does).
            await self.emit("log", "review", message="review skipped: the model did not "
                            "answer usably", detail=str(exc.detail))

    async def step_docs(self) -> None:
        if not self.config.docs or self.config.strategy == "single":
            return
        report = self.state.rounds[-1].report if self.state.rounds else None
        try:
            readme = await write_docs(self.plan, self.all_files(), report,
                                      self.llms["documenter"], spec_prompt=self.spec_prompt)
        except (LLMTimeout, LLMOutputInvalid) as exc:
            await self.emit("log", "docs", message="README written from the code: the model "
                            "did not answer usably", detail=str(exc.detail))
            readme = fallback_readme(self.plan, self.all_files(), report)
        self.state.files["README.md"] = readme
        await self.file_written("README.md", readme, "documenter")

    async def step_package(self) -> None:
        """Record the environment of the files as delivered and write its pinned manifests
        (requirements.txt + pylock.toml, package.json + package-lock.json) into the project;
        the rest is assembled from the state, and writing is the caller's."""
        if self.state.plan is None or self.config.strategy == "single":
            return
        prepared = await self.environments.for_files(
            self.plan.language, self.plan.dependencies, self.all_files(),
            project_name=self.plan.name)
        self.state.environment = prepared.report
        for path, content in prepared.report.manifests.items():
            self.state.files[path] = content
            await self.file_written(path, content, "installer")

    # --- driver -----------------------------------------------------------------
    async def execute(self) -> JobResult:
        started = time.monotonic()
        loaded = await self.checkpoints.load_checkpoint(self.job_id)
        if loaded is not None:
            self.state = loaded
            self.meter.usage = loaded.usage.model_copy()
        resumed = loaded is not None and bool(loaded.completed_steps)
        await self.emit("job_started", None, resumed=resumed,
                        completed_steps=list(self.state.completed_steps))
        status: JobStatus = "succeeded"
        reason: str | None = None
        try:
            for step in STEPS:
                if step in self.state.completed_steps:
                    continue
                await self._run_step(step)
        except BudgetExceeded as exc:
            reason = f"stopped early: {exc.detail}"
            await self.emit("budget_exhausted", self.meter.current_step, budget=exc.budget,
                            detail=str(exc.detail))
            if not self.state.files:
                status = "failed"
        except Cancelled:
            status, reason = "cancelled", "cancelled by request"
        except AtelierError as exc:
            status, reason = "failed", f"{exc.code}: {exc.detail}"
        self.state.usage = self.meter.usage.model_copy()
        self.state.stop_reason = reason
        await self.checkpoints.save_checkpoint(self.job_id, self.state)
        result = JobResult(
            job_id=self.job_id, status=status, reason=reason, plan=self.state.plan,
            files=self.all_files(), rounds=self.state.rounds, findings=self.state.findings,
            fix_rounds=self.state.fix_rounds, usage=self.meter.usage.model_copy(),
            step_durations_s=dict(self.state.step_durations_s),
            duration_s=round(time.monotonic() - started, 3),
            environment=self._final_environment(), set_aside=list(self.state.set_aside),
        )
        verdict = result.verdict
        await self.emit("job_finished", None, status=status, reason=reason,
                        usage=result.usage.model_dump(), fix_rounds=result.fix_rounds,
                        verdict=verdict.verdict, verdict_detail=verdict.detail())
        return result

    def _final_environment(self) -> EnvironmentReport | None:
        """The environment of the delivered files: recorded by the package step, or (for a
        job cut short) the one its last test run had, when its files have not changed since."""
        if self.state.environment is not None or self.state.plan is None:
            return self.state.environment
        known = self.environments.known(self.plan.language, self.plan.dependencies,
                                        self.all_files())
        return known.report if known is not None else None

    async def _run_step(self, step: str) -> None:
        self.meter.check()
        self.meter.current_step = step
        await self.emit("step_started", step, progress=self._progress())
        began = time.monotonic()
        await getattr(self, f"step_{step}")()
        self.state.step_durations_s[step] = round(time.monotonic() - began, 4)
        self.state.completed_steps.append(step)
        self.state.usage = self.meter.usage.model_copy()
        await self.checkpoints.save_checkpoint(self.job_id, self.state)
        await self.emit("step_finished", step, progress=self._progress(),
                        duration_s=self.state.step_durations_s[step],
                        usage=self.meter.usage.model_dump())


async def run_pipeline(
    job_id: str,
    spec: Spec,
    *,
    llms: Mapping[Role, LLM],
    settings: Settings,
    checkpoints: CheckpointStore,
    emit: EventSink,
    cancel_event: asyncio.Event | None = None,
    base_files: dict[str, str] | None = None,
    instructions: str | None = None,
) -> JobResult:
    """Run (or resume) a job to its end and return what it produced.

    Never raises for a job-level failure: a failed, cancelled or budget-cut job comes
    back as a JobResult with its status and reason. asyncio cancellation of the
    calling task propagates as usual.
    """
    run = PipelineRun(job_id, spec, llms=llms, settings=settings, checkpoints=checkpoints,
                      emit=emit, cancel_event=cancel_event, base_files=base_files,
                      instructions=instructions)
    return await run.execute()
