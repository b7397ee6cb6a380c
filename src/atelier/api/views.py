"""Turning store rows into response bodies."""

from __future__ import annotations

from typing import Any

from atelier.api.schemas import (
    JobOut,
    JobSummary,
    Links,
    TestsOut,
    UsageOut,
    VerdictDetailOut,
    VersionOut,
)
from atelier.domain.verdict import VERDICTS, VerdictKind
from atelier.store import JobRow, VersionInfo


def job_links(job_id: str) -> Links:
    return Links(
        self=f"/api/jobs/{job_id}",
        status=f"/api/status/{job_id}",
        events=f"/api/jobs/{job_id}/events",
        files=f"/api/jobs/{job_id}/files",
        download=f"/api/download/{job_id}",
        websocket="/ws",
    )


def project_id(row: JobRow) -> str:
    """The job whose versions this job's files belong to (itself, or what it revises)."""
    return row.parent_job_id or row.id


def _prompt(row: JobRow) -> str:
    return str(row.spec.get("prompt", ""))


def _usage(data: dict[str, Any] | None) -> UsageOut:
    data = data or {}
    return UsageOut(
        calls=int(data.get("calls", 0) or 0),
        prompt_tokens=int(data.get("prompt_tokens", 0) or 0),
        completion_tokens=int(data.get("completion_tokens", 0) or 0),
        cost_usd=float(data.get("cost_usd", 0.0) or 0.0),
    )


def _tests(data: dict[str, Any] | None) -> TestsOut:
    data = data or {}
    return TestsOut(
        **{k: int(data.get(k, 0) or 0) for k in ("passed", "failed", "errors", "skipped")}
    )


def _verdict(row: JobRow) -> VerdictKind | None:
    # Only a known word: the column is text, and the schema promises the three.
    return next((v for v in VERDICTS if v == row.verdict), None)


def _verdict_detail(row: JobRow) -> VerdictDetailOut | None:
    if _verdict(row) is None or not isinstance(row.verdict_detail, dict):
        return None
    return VerdictDetailOut.model_validate(row.verdict_detail)


def version_out(info: VersionInfo, job_id: str) -> VersionOut:
    tests = info.report.get("tests") if isinstance(info.report, dict) else None
    return VersionOut(
        number=info.number,
        created_at=info.created_at,
        instructions=info.instructions,
        job_id=job_id,
        files=info.file_count,
        tests=_tests(tests) if isinstance(tests, dict) else None,
    )


def job_out(row: JobRow, versions: list[VersionInfo]) -> JobOut:
    project = project_id(row)
    return JobOut(
        job_id=row.id,
        user_id=row.user_id,
        status=row.status,
        progress=row.progress,
        current_step=row.current_step,
        steps=row.steps or {},
        tests=_tests(row.tests),
        usage=_usage(row.usage),
        error=row.reason if row.status in ("failed", "cancelled") else None,
        verdict=_verdict(row),
        verdict_detail=_verdict_detail(row),
        prompt=_prompt(row),
        template=row.spec.get("template"),
        language=row.spec.get("language"),
        parent_job_id=row.parent_job_id,
        instructions=row.instructions,
        versions=[version_out(v, project) for v in versions],
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_s=row.duration_s,
        links=job_links(row.id),
    )


def job_summary(row: JobRow) -> JobSummary:
    return JobSummary(
        job_id=row.id,
        user_id=row.user_id,
        status=row.status,
        progress=row.progress,
        current_step=row.current_step,
        prompt=_prompt(row)[:200],
        error=row.reason if row.status in ("failed", "cancelled") else None,
        verdict=_verdict(row),
        parent_job_id=row.parent_job_id,
        created_at=row.created_at,
        finished_at=row.finished_at,
        duration_s=row.duration_s,
        usage=_usage(row.usage),
    )
