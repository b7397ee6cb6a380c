"""Persistence: SQLAlchemy 2 async models, repositories, blobs, the event log.

The only package that imports SQLAlchemy. Repositories take an `AsyncSession` and
only flush; the edge (request, task) commits through `session_scope`. The stores
called from inside the pipeline (`DbCheckpointStore`, `DbCallRecords`) open their
own short sessions and commit.
"""

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from atelier.store.audit import AuditRepo
from atelier.store.blobs import BlobStore, content_hash
from atelier.store.calls import CallRecordRepo, DbCallRecords
from atelier.store.checkpoints import DbCheckpointStore
from atelier.store.db import (
    DATABASE_ERRORS,
    SessionMaker,
    create_engine,
    create_sessionmaker,
    database_unavailable,
    disk_full,
    session_scope,
    sqlite_file,
)
from atelier.store.events import EventLog
from atelier.store.job_stats import JobStatsRepo
from atelier.store.jobs import JobRepo, Requester, percentile
from atelier.store.migrate import migrate
from atelier.store.models import (
    ApiKeyRow,
    AuditRow,
    BlobRow,
    CheckpointRow,
    EventRow,
    JobRow,
    LlmCallRow,
    TemplateRow,
    UserRow,
    VersionFileRow,
    VersionRow,
)
from atelier.store.quotas import QuotaRepo
from atelier.store.templates import TemplateRepo
from atelier.store.users import ApiKeyRepo, UserRepo
from atelier.store.versions import VersionChanges, VersionInfo, VersionRepo

__all__ = [
    "DATABASE_ERRORS",
    "ApiKeyRepo",
    "ApiKeyRow",
    "AsyncEngine",
    "AsyncSession",
    "AuditRepo",
    "AuditRow",
    "BlobRow",
    "BlobStore",
    "CallRecordRepo",
    "CheckpointRow",
    "DbCallRecords",
    "DbCheckpointStore",
    "EventLog",
    "EventRow",
    "JobRepo",
    "JobRow",
    "JobStatsRepo",
    "LlmCallRow",
    "QuotaRepo",
    "Requester",
    "SessionMaker",
    "TemplateRepo",
    "TemplateRow",
    "UserRepo",
    "UserRow",
    "VersionChanges",
    "VersionFileRow",
    "VersionInfo",
    "VersionRepo",
    "VersionRow",
    "content_hash",
    "create_engine",
    "create_sessionmaker",
    "database_unavailable",
    "disk_full",
    "migrate",
    "percentile",
    "session_scope",
    "sqlite_file",
]
