"""A job's lifecycle, its checkpoint and its result."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from atelier.domain.environment import EnvironmentReport
from atelier.domain.plan import Plan
from atelier.domain.report import TestReport
from atelier.domain.review import Finding
from atelier.domain.usage import Usage
from atelier.domain.verdict import SetAsideTest, Verdict, judge

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})

StepName = Literal["plan", "code", "test", "fix", "review", "docs", "package"]
STEPS: tuple[StepName, ...] = ("plan", "code", "test", "fix", "review", "docs", "package")
StepStatus = Literal["pending", "running", "done", "skipped", "failed"]


class TestRound(BaseModel):
    """The test report of one round (0 = first run, 1.. = after each fix)."""

    __test__ = False

    round: int
    report: TestReport
    strategy: str = ""


class Checkpoint(BaseModel):
    """Everything needed to resume a job after its process died.

    Written after each step; `completed_steps` tells the pipeline what to skip.
    """

    completed_steps: list[str] = Field(default_factory=list)
    plan: Plan | None = None
    files: dict[str, str] = Field(default_factory=dict)
    test_files: dict[str, str] = Field(default_factory=dict)
    rounds: list[TestRound] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    fix_rounds: int = 0
    usage: Usage = Field(default_factory=Usage)
    step_durations_s: dict[str, float] = Field(default_factory=dict)
    stop_reason: str | None = None
    # The dependencies of the files as they stand (the last environment prepared for them).
    environment: EnvironmentReport | None = None
    # Evidence for weighing generated tests: code version → test id → outcome.
    test_outcomes: dict[str, dict[str, str]] = Field(default_factory=dict)
    set_aside: list[SetAsideTest] = Field(default_factory=list)


class JobResult(BaseModel):
    """What a pipeline run produced, complete or cut short by a budget."""

    job_id: str
    status: JobStatus
    reason: str | None = None
    plan: Plan | None = None
    files: dict[str, str] = Field(default_factory=dict)
    rounds: list[TestRound] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    fix_rounds: int = 0
    usage: Usage = Field(default_factory=Usage)
    step_durations_s: dict[str, float] = Field(default_factory=dict)
    duration_s: float = 0.0
    environment: EnvironmentReport | None = None
    set_aside: list[SetAsideTest] = Field(default_factory=list)

    @property
    def final_report(self) -> TestReport | None:
        return self.rounds[-1].report if self.rounds else None

    @property
    def verdict(self) -> Verdict:
        """Whether the delivered code passes its tests (`status` is only the lifecycle)."""
        return judge(self.rounds, self.status, reason=self.reason, set_aside=self.set_aside)
