"""Time series of jobs for the admin dashboard's charts, aggregated in SQL.

Days are UTC calendar days, computed by the database (``strftime`` on SQLite, whose
datetimes are stored as naive UTC text; ``to_char`` of the UTC timestamp on
PostgreSQL), so only one row per day, status, bucket or model leaves the database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from atelier.domain.job import TERMINAL_STATUSES
from atelier.store.jobs import JOB_STATUSES
from atelier.store.models import JobRow, LlmCallRow
from atelier.store.types import utcnow

_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")

# Upper bounds (seconds) of the duration histogram's buckets; the last is open-ended.
DURATION_BUCKETS_S = (5, 10, 30, 60, 120, 300, 600, 1800)


def _bucket_label(index: int) -> str:
    if index == len(DURATION_BUCKETS_S):
        return f">{DURATION_BUCKETS_S[-1]}s"
    low = 0 if index == 0 else DURATION_BUCKETS_S[index - 1]
    return f"{low}-{DURATION_BUCKETS_S[index]}s"


class JobStatsRepo:
    """Per-day and per-model aggregates over the last N days, for everyone or one user."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _day(self, column: InstrumentedAttribute[datetime]) -> ColumnElement[str]:
        if self.session.get_bind().dialect.name == "postgresql":
            return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
        return func.strftime("%Y-%m-%d", column)

    async def series(
        self, days: int = 30, user_id: str | None = None, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """``{"days": [...], "jobs_per_day", "duration_histogram", "usage_per_day",
        "usage_per_model", "verdicts"}`` over jobs created in the last `days` UTC days
        (today included); days without jobs are present with zeros.

        Raises ValueError when `days` is not positive.
        """
        if days < 1:
            raise ValueError("days must be positive")
        today = (now or utcnow()).astimezone(UTC).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        day_names = [(first + timedelta(days=i)).isoformat() for i in range(days)]
        return {
            "days": day_names,
            "jobs_per_day": await self._jobs_per_day(since, user_id, day_names),
            "duration_histogram": await self._durations(since, user_id),
            "usage_per_day": await self._usage_per_day(since, user_id, day_names),
            "usage_per_model": await self._usage_per_model(since, user_id),
            "verdicts": await self._verdicts(since, user_id),
        }

    @staticmethod
    def _own_jobs(stmt: _S, since: datetime, user_id: str | None) -> _S:
        stmt = stmt.where(JobRow.created_at >= since)
        return stmt if user_id is None else stmt.where(JobRow.user_id == user_id)

    async def _jobs_per_day(
        self, since: datetime, user_id: str | None, day_names: list[str]
    ) -> list[dict[str, Any]]:
        day = self._day(JobRow.created_at).label("day")
        stmt = self._own_jobs(select(day, JobRow.status, func.count()), since, user_id)
        per_day = {d: {"day": d, **dict.fromkeys(JOB_STATUSES, 0)} for d in day_names}
        for name, status, n in (
            await self.session.execute(stmt.group_by(day, JobRow.status))
        ).all():
            if str(name) in per_day:
                per_day[str(name)][status] = int(n)
        return list(per_day.values())

    async def _durations(self, since: datetime, user_id: str | None) -> list[dict[str, Any]]:
        bucket = case(
            *[(JobRow.duration_s < bound, i) for i, bound in enumerate(DURATION_BUCKETS_S)],
            else_=len(DURATION_BUCKETS_S),
        ).label("bucket")
        stmt = self._own_jobs(select(bucket, func.count()), since, user_id).where(
            JobRow.duration_s.is_not(None), JobRow.status.in_(TERMINAL_STATUSES)
        )
        counts = {int(b): int(n) for b, n in (await self.session.execute(stmt.group_by(bucket)))}
        return [
            {"bucket": _bucket_label(i), "le_s": bound, "count": counts.get(i, 0)}
            for i, bound in enumerate([*DURATION_BUCKETS_S, None])
        ]

    def _usage_columns(self) -> list[ColumnElement[Any]]:
        return [
            func.count().label("calls"),
            func.coalesce(func.sum(LlmCallRow.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(LlmCallRow.completion_tokens), 0).label("completion_tokens"),
            func.coalesce(func.sum(LlmCallRow.cost_usd), 0.0).label("cost_usd"),
        ]

    def _calls(
        self, *columns: ColumnElement[Any], since: datetime, user_id: str | None
    ) -> Select[Any]:
        stmt = select(*columns, *self._usage_columns()).where(LlmCallRow.created_at >= since)
        if user_id is not None:
            stmt = stmt.join(JobRow, JobRow.id == LlmCallRow.job_id).where(
                JobRow.user_id == user_id
            )
        return stmt

    @staticmethod
    def _usage(row: Any) -> dict[str, Any]:
        return {
            "calls": int(row.calls),
            "prompt_tokens": int(row.prompt_tokens),
            "completion_tokens": int(row.completion_tokens),
            "tokens": int(row.prompt_tokens) + int(row.completion_tokens),
            "cost_usd": round(float(row.cost_usd), 8),
        }

    async def _usage_per_day(
        self, since: datetime, user_id: str | None, day_names: list[str]
    ) -> list[dict[str, Any]]:
        day = self._day(LlmCallRow.created_at).label("day")
        stmt = self._calls(day, since=since, user_id=user_id).group_by(day)
        zero = {
            "calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "tokens": 0,
            "cost_usd": 0.0,
        }
        per_day = {d: {"day": d, **zero} for d in day_names}
        for row in (await self.session.execute(stmt)).all():
            if str(row.day) in per_day:
                per_day[str(row.day)].update(self._usage(row))
        return list(per_day.values())

    async def _usage_per_model(self, since: datetime, user_id: str | None) -> list[dict[str, Any]]:
        model = LlmCallRow.model.label("model")
        stmt = self._calls(model, since=since, user_id=user_id).group_by(LlmCallRow.model)
        rows = [
            {"model": row.model or "unknown", **self._usage(row)}
            for row in (await self.session.execute(stmt)).all()
        ]
        return sorted(rows, key=lambda r: (-r["tokens"], r["model"]))

    async def _verdicts(self, since: datetime, user_id: str | None) -> dict[str, int]:
        stmt = self._own_jobs(select(JobRow.verdict, func.count()), since, user_id).where(
            JobRow.verdict.is_not(None)
        )
        counts = {"verified": 0, "failing": 0, "untested": 0}
        for verdict, n in (await self.session.execute(stmt.group_by(JobRow.verdict))).all():
            counts[str(verdict)] = int(n)
        return counts
