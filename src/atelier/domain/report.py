"""Results of running a project's tests in the sandbox."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["passed", "failed", "error", "skipped"]


class TestCase(BaseModel):
    """One test and what happened to it."""

    __test__ = False  # not a pytest class

    name: str
    classname: str = ""
    outcome: Outcome
    message: str = ""
    duration_s: float = 0.0


class SandboxPolicy(BaseModel):
    """What the code of one test run could reach and use: the isolation backend's
    guarantees on this host, the limits it ran under, and the dependencies it saw."""

    backend: str
    network: Literal["none", "host"]
    filesystem: str
    processes: str
    limits: dict[str, float] = Field(default_factory=dict)
    environment: str = ""


class TestReport(BaseModel):
    """Totals and per-test cases of one sandboxed test run, plus the output tail."""

    __test__ = False

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    cases: list[TestCase] = Field(default_factory=list)
    exit_code: int | None = None
    timed_out: bool = False
    duration_s: float = 0.0
    output_tail: str = ""
    command: str = ""
    isolation: str = ""
    policy: SandboxPolicy | None = None

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    @property
    def green(self) -> bool:
        """True when at least one test ran and none failed or errored."""
        return self.passed > 0 and self.failed == 0 and self.errors == 0 and not self.timed_out

    def score(self) -> tuple[int, int]:
        """Sort key for choosing between candidates: more passes, fewer failures."""
        return (self.passed, -(self.failed + self.errors))
