"""The ORM models: one class per table. The Alembic migrations create the same schema.

Rows leave the store as these objects (sessions use ``expire_on_commit=False`` so
their attributes stay readable after the commit at the edge).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from atelier.domain.spec import Spec
from atelier.store.types import JSONType, UTCDateTime, utcnow

# Stable constraint names, so later migrations (batch mode on SQLite) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An integer primary key that autoincrements on both engines.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


def new_id() -> str:
    """A fresh random identifier (UUID4, as text)."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


class UserRow(Base):
    """A person or service that owns jobs and API keys. `role` is "user" or "admin"."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="user")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def user_id(self) -> str:
        """The id under the name the auth layer uses (`Principal.user_id`)."""
        return self.id

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"UserRow(id={self.id!r}, name={self.name!r}, role={self.role!r})"


class ApiKeyRow(Base):
    """An API key. Only its SHA-256 is kept; the plaintext is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def display_prefix(self) -> str:
        """What a user sees to recognise the key: ``atl_<prefix>``."""
        return f"atl_{self.prefix}"

    def __repr__(self) -> str:  # never the hash
        return (
            f"ApiKeyRow(id={self.id!r}, user_id={self.user_id!r}, name={self.name!r}, "
            f"prefix={self.prefix!r}, revoked={self.revoked_at is not None})"
        )


class JobRow(Base):
    """One pipeline run: spec, live progress, outcome, and the lease of the worker running it."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_created", "user_id", "created_at"),
        Index("ix_jobs_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    spec: Mapped[dict[str, Any]]
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    current_step: Mapped[str | None] = mapped_column(String(32), default=None)
    steps: Mapped[dict[str, Any]] = mapped_column(default=dict)
    usage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tests: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    # verified | failing | untested, set when the job finishes (None before, and for
    # jobs that finished before verdicts existed); the detail is `Verdict.detail()`.
    verdict: Mapped[str | None] = mapped_column(String(16), default=None)
    verdict_detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_s: Mapped[float | None] = mapped_column(Float, default=None)
    # A revise job runs on the files of `parent_job_id`'s version `parent_version`.
    parent_job_id: Mapped[str | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), default=None, index=True
    )
    parent_version: Mapped[int | None] = mapped_column(Integer, default=None)
    instructions: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Who runs the job and until when the claim holds; an expired lease means the
    # worker died and the job may be claimed and resumed by another process.
    worker_id: Mapped[str | None] = mapped_column(String(128), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)

    def parsed_spec(self) -> Spec:
        """The stored spec as the domain model. Raises pydantic.ValidationError if corrupt."""
        return Spec.model_validate(self.spec)

    def __repr__(self) -> str:
        return f"JobRow(id={self.id!r}, user_id={self.user_id!r}, status={self.status!r})"


class JobCounterRow(Base):
    """Per-job counters (event seq, version number), incremented atomically by upsert."""

    __tablename__ = "job_counters"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class CheckpointRow(Base):
    """The latest checkpoint of a job (domain `Checkpoint` as JSON)."""

    __tablename__ = "checkpoints"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    checkpoint: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventRow(Base):
    """One stored job event; `seq` runs 1, 2, 3 … per job without gaps."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("job_id", "seq", name="uq_events_job_id_seq"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(32), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ts: Mapped[float] = mapped_column(Float)


class LlmCallRow(Base):
    """One recorded model call, replayed instead of re-sent when a job resumes."""

    __tablename__ = "llm_calls"
    __table_args__ = (UniqueConstraint("job_id", "key", name="uq_llm_calls_job_id_key"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    agent: Mapped[str] = mapped_column(String(32), default="")
    provider: Mapped[str] = mapped_column(String(64), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    request: Mapped[dict[str, Any]]
    response: Mapped[dict[str, Any]]
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlobRow(Base):
    """File content, stored once per SHA-256."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"BlobRow(sha256={self.sha256!r}, size={self.size})"


class VersionRow(Base):
    """Version N of a job's project: a file set plus the report that went with it."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("job_id", "number", name="uq_versions_job_id_number"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    instructions: Mapped[str | None] = mapped_column(Text, default=None)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)


class VersionFileRow(Base):
    """One file of a version, pointing at its content blob."""

    __tablename__ = "version_files"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)


class TemplateRow(Base):
    """A project template: built-in (seeded from the catalog) or made by a user."""

    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(32), default="python")
    prompt_hint: Mapped[str] = mapped_column(Text, default="")
    suggested_files: Mapped[list[str]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def slug(self) -> str:
        return self.id


class AuditRow(Base):
    """One entry of the audit log: who did what to what, and when. Never updated.

    The subject is kept as an id and a short label, not a foreign key, so the entry
    outlives the job, key or user it names. No secret ever goes in (no key material,
    no tokens): keys are named by their display prefix.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_ts", "actor", "ts"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), default=None)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48), index=True)
    target_type: Mapped[str | None] = mapped_column(String(16), default=None)
    target_id: Mapped[str | None] = mapped_column(String(64), default=None)
    target_label: Mapped[str | None] = mapped_column(String(200), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class UserQuotaRow(Base):
    """A user's daily allowance; a missing row or a NULL limit means unlimited."""

    __tablename__ = "user_quotas"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    daily_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    daily_cost_usd: Mapped[float | None] = mapped_column(Float, default=None)
    max_concurrent_jobs: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
