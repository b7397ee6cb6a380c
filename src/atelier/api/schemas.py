"""Request and response bodies of the HTTP API (Pydantic models at the edge)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from atelier.domain.job import JobStatus
from atelier.domain.spec import Budgets, JobOptions, ModelChoice, Role, Spec, Strategy
from atelier.domain.verdict import VerdictKind

# Integers a query may carry: beyond this the databases' integer columns overflow.
MAX_INT = 2**31 - 1


def reject_unstorable(value: Any, where: str = "body") -> None:
    """Raise ValueError for input no database can store: NUL characters in text and
    non-finite numbers (Python's JSON parser accepts ``NaN`` and ``Infinity``)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where}: NUL characters are not allowed")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_unstorable(key, where)
            reject_unstorable(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for item in value:
            reject_unstorable(item, where)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        reject_unstorable(data)
        return data


# --- auth ---------------------------------------------------------------------------
class ValidateKeyIn(_In):
    api_key: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    id: str
    name: str
    role: str
    active: bool = True
    created_at: datetime | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserOut


# --- jobs ---------------------------------------------------------------------------
class JobOptionsIn(_In):
    """Options of a job. Budgets may be given flat (``max_fix_rounds``) or nested."""

    provider: str | None = Field(default=None, max_length=32)
    model: str | None = Field(default=None, max_length=500)
    base_url: str | None = Field(default=None, max_length=500)
    script: str | None = Field(default=None, max_length=1000)
    roles: dict[Role, ModelChoice] = Field(default_factory=dict)
    strategy: Strategy | None = None
    resample_k: int | None = Field(default=None, ge=0, le=16)
    resample_temperature: float | None = Field(default=None, ge=0, le=2)
    budgets: Budgets | None = None
    max_fix_rounds: int | None = Field(default=None, ge=0, le=20)
    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_wall_time_s: float | None = Field(default=None, gt=0)
    review: bool = True
    docs: bool = True
    sandbox_timeout_s: float | None = Field(default=None, gt=0, le=3600)

    def to_domain(self) -> JobOptions:
        # Only what the caller set: an unset max_fix_rounds must stay unset so the
        # service's setting applies.
        budgets = self.budgets.model_dump(exclude_unset=True) if self.budgets else {}
        for name in ("max_fix_rounds", "max_tokens", "max_cost_usd", "max_wall_time_s"):
            value = getattr(self, name)
            if value is not None:
                budgets[name] = value
        data = self.model_dump(
            exclude={"budgets", "max_fix_rounds", "max_tokens", "max_cost_usd", "max_wall_time_s"}
        )
        return JobOptions.model_validate({**data, "budgets": budgets})


class JobCreate(_In):
    prompt: str = Field(min_length=1, max_length=20_000)
    template: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=32)
    options: JobOptionsIn = Field(default_factory=JobOptionsIn)

    @model_validator(mode="after")
    def _prompt_not_blank(self) -> JobCreate:
        if not self.prompt.strip():
            raise ValueError("prompt must not be blank")
        return self

    def to_spec(self) -> Spec:
        return Spec(
            prompt=self.prompt,
            template=self.template,
            language=self.language,
            options=self.options.to_domain(),
        )


class ReviseIn(_In):
    instructions: str = Field(min_length=1, max_length=20_000)


class Links(BaseModel):
    self: str
    status: str
    events: str
    files: str
    download: str
    websocket: str


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus
    links: Links
    parent_job_id: str | None = None
    version: int | None = None


class UsageOut(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class TestsOut(BaseModel):
    __test__ = False
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0


class SetAsideOut(BaseModel):
    name: str
    reason: str


class VerdictDetailOut(BaseModel):
    """Why a finished job has its verdict: the final round's counts (set-aside tests
    left out), the tests that fail, and one line for people."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    failing_tests: list[str] = Field(default_factory=list)
    set_aside: list[SetAsideOut] = Field(default_factory=list)
    reason: str = ""


class VersionOut(BaseModel):
    number: int
    created_at: datetime | None = None
    instructions: str | None = None
    job_id: str | None = None
    files: int | None = None
    tests: TestsOut | None = None


class JobOut(BaseModel):
    job_id: str
    user_id: str
    status: JobStatus
    progress: float
    current_step: str | None
    steps: dict[str, Any]
    tests: TestsOut
    usage: UsageOut
    error: str | None
    verdict: VerdictKind | None = Field(
        default=None,
        description="verified | failing | untested, once the job has finished: whether "
        "its code passes its tests (`status` is only the lifecycle)",
    )
    verdict_detail: VerdictDetailOut | None = None
    prompt: str
    template: str | None = None
    language: str | None = None
    parent_job_id: str | None = None
    instructions: str | None = None
    versions: list[VersionOut] = Field(default_factory=list)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    links: Links


class JobSummary(BaseModel):
    job_id: str
    user_id: str
    status: JobStatus
    progress: float
    current_step: str | None
    prompt: str
    error: str | None
    verdict: VerdictKind | None = None
    parent_job_id: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    duration_s: float | None = None
    usage: UsageOut = Field(default_factory=UsageOut)


class Page(BaseModel):
    items: list[JobSummary]
    total: int
    limit: int
    offset: int


# --- files --------------------------------------------------------------------------
class FileEntry(BaseModel):
    path: str
    sha256: str
    size: int


class FileTree(BaseModel):
    job_id: str
    version: int
    files: list[FileEntry]
    tree: dict[str, Any]


class DiffOut(BaseModel):
    job_id: str
    from_version: int
    to_version: int
    diff: str
    changed: list[str]
    added: list[str]
    removed: list[str]


class EventOut(BaseModel):
    job_id: str
    seq: int
    type: str
    step: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    ts: float


class EventsPage(BaseModel):
    job_id: str
    events: list[EventOut]
    last_seq: int


# --- templates ----------------------------------------------------------------------
class TemplateIn(_In):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    language: str = Field(default="python", min_length=1, max_length=32)
    prompt_hint: str = Field(default="", max_length=10_000)
    suggested_files: list[str] = Field(default_factory=list, max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=20)


class TemplatePatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    language: str | None = Field(default=None, min_length=1, max_length=32)
    prompt_hint: str | None = Field(default=None, max_length=10_000)
    suggested_files: list[str] | None = Field(default=None, max_length=50)
    tags: list[str] | None = Field(default=None, max_length=20)


class TemplateOut(BaseModel):
    id: str
    name: str
    description: str
    language: str
    prompt_hint: str
    suggested_files: list[str]
    tags: list[str]
    builtin: bool


# --- admin --------------------------------------------------------------------------
class UserCreate(_In):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["user", "admin"] = "user"


class UserPatch(_In):
    """What an admin may change of a user; fields left out stay as they are."""

    active: bool | None = None
    role: Literal["user", "admin"] | None = None


class QuotaIn(_In):
    """A user's quota; null (or left out) means unlimited."""

    daily_tokens: int | None = Field(default=None, ge=0, le=2**53)
    daily_cost_usd: float | None = Field(default=None, ge=0, le=1e9)
    max_concurrent_jobs: int | None = Field(default=None, ge=0, le=10_000)


class QuotaOut(BaseModel):
    user_id: str
    daily_tokens: int | None = None
    daily_cost_usd: float | None = None
    max_concurrent_jobs: int | None = None


class AllowanceOut(BaseModel):
    """One allowance of today: used, the limit (null: unlimited) and what is left."""

    used: int | float
    limit: int | float | None = None
    remaining: int | float | None = None


class DailyUsageOut(BaseModel):
    """What the caller has used today (UTC) and what is left of their quota."""

    user_id: str
    day: str
    resets_at: datetime
    tokens: AllowanceOut
    cost_usd: AllowanceOut
    concurrent_jobs: AllowanceOut


class AuditEntryOut(BaseModel):
    id: int
    ts: datetime
    actor: str
    actor_id: str | None = None
    action: str
    target_type: str | None = None
    target_id: str | None = None
    target_label: str | None = None
    ip: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


class KeyCreate(_In):
    name: str = Field(default="", max_length=100)


class KeyOut(BaseModel):
    id: str
    user_id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class KeyCreated(KeyOut):
    api_key: str = Field(description="The key itself; shown only in this response.")


class UserCreated(UserOut):
    api_key: str | None = None
