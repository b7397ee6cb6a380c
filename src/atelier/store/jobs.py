"""Jobs: creation, ownership, progress, outcome, leases, and the numbers the stats page shows."""

from __future__ import annotations

import builtins
import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.domain.errors import InvalidSpec, NotFound
from atelier.domain.job import STEPS, TERMINAL_STATUSES
from atelier.domain.spec import Spec
from atelier.domain.verdict import Verdict
from atelier.store.blobs import BlobStore
from atelier.store.models import JobRow, VersionFileRow, VersionRow, new_id
from atelier.store.types import utcnow

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_STATUSES = ("queued", "running")


class Requester(Protocol):
    """Who asks: `Principal` of the auth layer and `UserRow` both fit."""

    @property
    def user_id(self) -> str: ...

    @property
    def role(self) -> str: ...


JsonLike = BaseModel | dict[str, Any]


def _as_json(value: JsonLike) -> dict[str, Any]:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else dict(value)


def _tests_json(value: JsonLike) -> dict[str, Any]:
    data = _as_json(value)
    # A full TestReport is more than the job row needs: keep the totals only.
    return {k: int(data.get(k, 0)) for k in ("passed", "failed", "errors", "skipped")}


class JobRepo:
    """Jobs. Methods flush; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        user_id: str,
        spec: Spec,
        parent_job_id: str | None = None,
        *,
        parent_version: int | None = None,
        instructions: str | None = None,
    ) -> JobRow:
        """A new queued job. `parent_*` and `instructions` describe a revise run.

        Raises NotFound when the user or `parent_job_id` does not exist.
        """
        if parent_job_id is not None:
            await self.get(parent_job_id)
        row = JobRow(
            id=new_id(),
            user_id=user_id,
            status="queued",
            spec=spec.model_dump(mode="json"),
            steps={step: {"status": "pending"} for step in STEPS},
            usage={},
            tests={},
            parent_job_id=parent_job_id,
            parent_version=parent_version,
            instructions=instructions,
        )
        self.session.add(row)
        try:
            await self.session.flush()
        except IntegrityError as err:
            raise NotFound(f"user {user_id} not found") from err
        return row

    async def insert_queued(self, jobs: Sequence[tuple[str, Spec]]) -> builtins.list[str]:
        """Many new queued jobs, (user id, spec) each, in one executemany statement —
        no ORM unit of work, which costs more than the insert itself. Returns their
        ids in order. A missing user raises IntegrityError."""
        now = utcnow()
        # One steps value for the whole batch: the statement serializes it per row.
        steps = {step: {"status": "pending"} for step in STEPS}
        rows = [
            {
                "id": new_id(),
                "user_id": user_id,
                "status": "queued",
                "spec": spec.model_dump(mode="json"),
                "steps": steps,
                "usage": {},
                "tests": {},
                "created_at": now,
            }
            for user_id, spec in jobs
        ]
        # Core, not ORM, insert: the ORM bulk path costs more than the statement here.
        await self.session.execute(insert(cast(Table, JobRow.__table__)), rows)
        return [str(row["id"]) for row in rows]

    async def get(self, job_id: str, *, lock: bool = False) -> JobRow:
        """The job with this id; `lock` holds its row until the transaction ends
        (PostgreSQL; SQLite serialises writers anyway). Raises NotFound."""
        row = await self.session.get(JobRow, job_id, with_for_update=lock or None)
        if row is None:
            raise NotFound(f"job {job_id} not found")
        return row

    async def get_for_user(self, job_id: str, user: Requester) -> JobRow:
        """The job if `user` owns it or is an admin.

        Raises NotFound otherwise, so other users' job ids are not revealed.
        """
        row = await self.get(job_id)
        if row.user_id != user.user_id and user.role != "admin":
            raise NotFound(f"job {job_id} not found")
        return row

    async def list(
        self,
        user_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
        q: str | None = None,
    ) -> tuple[builtins.list[JobRow], int]:
        """One page of jobs, newest first, and the total matching the filters; `q`
        matches prompts (and revise instructions) containing it, case-insensitively.

        Raises InvalidSpec for an unknown status or a negative limit/offset.
        """
        if status is not None and status not in JOB_STATUSES:
            raise InvalidSpec(f"unknown status {status!r}")
        if limit < 0 or offset < 0:
            raise InvalidSpec("limit and offset must not be negative")
        stmt = select(JobRow)
        count = select(func.count()).select_from(JobRow)
        if user_id is not None:
            stmt = stmt.where(JobRow.user_id == user_id)
            count = count.where(JobRow.user_id == user_id)
        if status is not None:
            stmt = stmt.where(JobRow.status == status)
            count = count.where(JobRow.status == status)
        if q:
            stmt, count = stmt.where(text_matches(q)), count.where(text_matches(q))
        stmt = stmt.order_by(JobRow.created_at.desc(), JobRow.id).limit(limit).offset(offset)
        rows = builtins.list((await self.session.execute(stmt)).scalars().all())
        total = int((await self.session.execute(count)).scalar_one())
        return rows, total

    async def mark_running(
        self, job_id: str, *, worker_id: str | None = None, lease_s: float | None = None
    ) -> JobRow:
        """Start (or resume) a job: status running, one more attempt, the worker's lease.

        `started_at` keeps the first start. Raises NotFound.
        """
        row = await self.get(job_id)
        now = utcnow()
        row.status = "running"
        row.started_at = row.started_at or now
        row.attempts += 1
        row.worker_id = worker_id
        row.lease_expires_at = now + timedelta(seconds=lease_s) if lease_s is not None else None
        await self.session.flush()
        return row

    async def take(self, job_id: str, worker_id: str, lease_s: float) -> JobRow | None:
        """Start (or resume) an active job under `worker_id`, atomically: only when no
        other worker holds a live lease on it. Returns the row as `mark_running` leaves
        it, or None when the job is finished, gone, or held elsewhere.

        One UPDATE … WHERE … RETURNING: of two workers handed the same job at once
        (a duplicated or re-delivered queue message), exactly one gets it.
        """
        now = utcnow()
        free = or_(
            JobRow.worker_id.is_(None),
            JobRow.worker_id == worker_id,
            JobRow.lease_expires_at.is_(None),
            JobRow.lease_expires_at < now,
        )
        result = await self.session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status.in_(ACTIVE_STATUSES), free)
            .values(
                status="running",
                started_at=func.coalesce(JobRow.started_at, now),
                attempts=JobRow.attempts + 1,
                worker_id=worker_id,
                lease_expires_at=now + timedelta(seconds=lease_s),
            )
            .returning(JobRow.id)
            .execution_options(synchronize_session=False)
        )
        if result.first() is None:
            return None
        row = await self.get(job_id)
        await self.session.refresh(row)
        return row

    async def holds(self, job_id: str, worker_id: str) -> bool:
        """True while the job is running under `worker_id` (a read: no write lock)."""
        found = await self.session.execute(
            select(JobRow.id).where(
                JobRow.id == job_id, JobRow.status == "running", JobRow.worker_id == worker_id
            )
        )
        return found.first() is not None

    async def heartbeat(self, job_id: str, worker_id: str | None, lease_s: float) -> bool:
        """Extend the worker's lease on a running job.

        Returns False when the job is no longer running under this worker (finished,
        or claimed by another process after the lease ran out).
        """
        owner = JobRow.worker_id.is_(None) if worker_id is None else JobRow.worker_id == worker_id
        result = await self.session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "running", owner)
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
            .returning(JobRow.id)
        )
        return result.first() is not None

    async def update_progress(
        self,
        job_id: str,
        progress: float | None = None,
        current_step: str | None = None,
        steps: dict[str, Any] | None = None,
        usage: JsonLike | None = None,
        tests: JsonLike | None = None,
    ) -> JobRow:
        """Record live progress; arguments left None keep their stored value.

        `progress` is clamped to 0..1; `steps` is merged into the stored per-step state;
        `tests` keeps only the totals (passed/failed/errors/skipped). Raises NotFound.
        """
        row = await self.get(job_id)
        if progress is not None:
            row.progress = min(1.0, max(0.0, float(progress)))
        if current_step is not None:
            row.current_step = current_step
        if steps is not None:
            row.steps = {**row.steps, **steps}
        if usage is not None:
            row.usage = _as_json(usage)
        if tests is not None:
            row.tests = _tests_json(tests)
        await self.session.flush()
        return row

    async def finish(
        self,
        job_id: str,
        status: str,
        reason: str | None = None,
        usage: JsonLike | None = None,
        tests: JsonLike | None = None,
        duration: float | None = None,
        verdict: Verdict | None = None,
    ) -> JobRow:
        """End a job with a terminal status; releases its lease.

        `duration` defaults to the wall time since it started; `verdict` is stored as
        its word and its detail. Raises InvalidSpec for a non-terminal status and
        NotFound for an unknown job.
        """
        if status not in TERMINAL_STATUSES:
            raise InvalidSpec(f"{status!r} is not a terminal status")
        row = await self.get(job_id)
        now = utcnow()
        row.status = status
        row.reason = reason
        row.finished_at = now
        if status == "succeeded":
            row.progress = 1.0
        if usage is not None:
            row.usage = _as_json(usage)
        if tests is not None:
            row.tests = _tests_json(tests)
        if duration is None and row.started_at is not None:
            duration = (now - row.started_at).total_seconds()
        row.duration_s = duration
        if verdict is not None:
            row.verdict = verdict.verdict
            row.verdict_detail = verdict.detail()
        row.worker_id = None
        row.lease_expires_at = None
        await self.session.flush()
        return row

    async def claim_interrupted(
        self,
        worker_id: str | None = None,
        *,
        lease_s: float = 300.0,
        force: bool = False,
        running_only: bool = False,
    ) -> builtins.list[str]:
        """Claim the queued or running jobs nobody holds a live lease on; return their ids.

        A claimed job gets `worker_id` and a fresh lease, so two processes starting at
        once never both claim it (one UPDATE … RETURNING; PostgreSQL row locks decide).
        Jobs whose lease has not expired are left alone unless `force` — for a
        single-process deployment that knows every earlier worker is dead.
        `running_only` leaves queued jobs to the queue (Celery workers): only jobs a
        dead worker had started are taken over.
        The caller resumes each job (its checkpoint says where) and calls `mark_running`.
        """
        now = utcnow()
        statuses = ("running",) if running_only else ACTIVE_STATUSES
        stmt = update(JobRow).where(JobRow.status.in_(statuses))
        if not force:
            stmt = stmt.where(or_(JobRow.lease_expires_at.is_(None), JobRow.lease_expires_at < now))
        result = await self.session.execute(
            stmt.values(worker_id=worker_id, lease_expires_at=now + timedelta(seconds=lease_s))
            .returning(JobRow.id, JobRow.created_at)
            .execution_options(synchronize_session=False)
        )
        claimed = sorted(result.all(), key=lambda r: (r.created_at, r.id))
        # Rows already in the session would otherwise show the old lease.
        for job_id, _ in claimed:
            cached = self.session.identity_map.get(self.session.identity_key(JobRow, job_id))
            if cached is not None:
                await self.session.refresh(cached)
        return [job_id for job_id, _ in claimed]

    async def delete(self, job_id: str) -> int:
        """Delete a job and everything hanging off it (events, checkpoint, calls,
        versions), and the content blobs no other version shares. Returns how many
        blobs went. Raises NotFound.
        """
        row = await self.get(job_id)
        contents = await self.session.scalars(
            select(VersionFileRow.sha256)
            .join(VersionRow, VersionRow.id == VersionFileRow.version_id)
            .where(VersionRow.job_id == job_id)
        )
        shas = set(contents)
        await self.session.execute(
            update(JobRow).where(JobRow.parent_job_id == job_id).values(parent_job_id=None)
        )
        await self.session.delete(row)
        await self.session.flush()
        return await BlobStore(self.session).delete_unreferenced(shas)

    # --- stats

    async def counts_by_status(self, user_id: str | None = None) -> dict[str, int]:
        """Number of jobs per status; every status is present, zero when none."""
        stmt = select(JobRow.status, func.count()).group_by(JobRow.status)
        if user_id is not None:
            stmt = stmt.where(JobRow.user_id == user_id)
        counts = dict.fromkeys(JOB_STATUSES, 0)
        for status, n in (await self.session.execute(stmt)).all():
            counts[status] = int(n)
        return counts

    async def durations(
        self, user_id: str | None = None, since: datetime | None = None
    ) -> builtins.list[float]:
        """Durations in seconds of finished jobs (optionally since a time), ascending."""
        stmt = select(JobRow.duration_s).where(
            JobRow.duration_s.is_not(None), JobRow.status.in_(TERMINAL_STATUSES)
        )
        if user_id is not None:
            stmt = stmt.where(JobRow.user_id == user_id)
        if since is not None:
            stmt = stmt.where(JobRow.finished_at >= since)
        values = (await self.session.execute(stmt.order_by(JobRow.duration_s))).scalars().all()
        return [float(v) for v in values if v is not None]

    async def duration_summary(
        self, user_id: str | None = None, since: datetime | None = None
    ) -> dict[str, float | int | None]:
        """``{"count", "mean_s", "p95_s"}`` over `durations`; means are None without data."""
        values = await self.durations(user_id, since)
        return {
            "count": len(values),
            "mean_s": sum(values) / len(values) if values else None,
            "p95_s": percentile(values, 0.95),
        }

    async def failures_by_reason(self, user_id: str | None = None) -> dict[str, int]:
        """Failed jobs per reason (``"unknown"`` when none was recorded), most common first."""
        stmt = (
            select(JobRow.reason, func.count())
            .where(JobRow.status == "failed")
            .group_by(JobRow.reason)
        )
        if user_id is not None:
            stmt = stmt.where(JobRow.user_id == user_id)
        counts: Counter[str] = Counter()
        for reason, n in (await self.session.execute(stmt)).all():
            counts[reason or "unknown"] += int(n)
        return dict(counts.most_common())

    async def usage_per_day(
        self, days: int = 30, user_id: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Per UTC day (oldest first, days without jobs omitted) over the last `days` days:
        ``{"day": "YYYY-MM-DD", "jobs", "calls", "prompt_tokens", "completion_tokens",
        "cost_usd"}`` summed from the jobs' usage.
        """
        since = utcnow() - timedelta(days=days)
        stmt = select(JobRow.created_at, JobRow.usage).where(JobRow.created_at >= since)
        if user_id is not None:
            stmt = stmt.where(JobRow.user_id == user_id)
        per_day: dict[str, dict[str, Any]] = {}
        for created_at, usage in (await self.session.execute(stmt)).all():
            day = created_at.date().isoformat()
            bucket = per_day.setdefault(
                day,
                {
                    "day": day,
                    "jobs": 0,
                    "calls": 0,
                    "prompt_tokens": 0,
                    "completion_tokens": 0,
                    "cost_usd": 0.0,
                },
            )
            bucket["jobs"] += 1
            usage = usage or {}
            for field in ("calls", "prompt_tokens", "completion_tokens"):
                bucket[field] += int(usage.get(field, 0) or 0)
            bucket["cost_usd"] = round(bucket["cost_usd"] + float(usage.get("cost_usd", 0) or 0), 8)
        return [per_day[day] for day in sorted(per_day)]


def text_matches(q: str) -> ColumnElement[bool]:
    """Prompt or instructions contain `q` (case-insensitive; `%` and `_` match themselves)."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    prompt = JobRow.spec["prompt"].as_string()
    return or_(prompt.ilike(pattern, escape="\\"), JobRow.instructions.ilike(pattern, escape="\\"))


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) of ascending values, nearest-rank; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return float(sorted_values[rank - 1])
