"""Chaos jobs: scripted jobs through the in-process runner with random provider faults
on every call and the runner restarted (closed and replaced) at random moments leave
no job stuck in `running`, none lost, and no recorded call paid twice.

The issue asks for 500 jobs. On this shared 2-core machine 500 take 70 s when it is
quiet and 4-5x that when it is busy, so CI runs CHAOS_JOBS_CI of them on SQLite (zero
model latency, one-file scripts), fewer on PostgreSQL and with every step and the
sandbox; `python -m bench.chaos` runs CHAOS_JOBS_FULL with 10 restarts (see
bench/results/chaos.json). The harness no longer collects garbage after a restart:
that hid a lock SQLite kept after a cancelled statement (fixed in `store.db`), and a
restart must leave the database writable by itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bench.chaos import ChaosReport, run_chaos

CHAOS_JOBS_FULL = 500  # bench.chaos's default
CHAOS_JOBS_CI = 120  # SQLite, plan + code ("single"): ~20 s here, ~110 s on a busy machine
CHAOS_JOBS_CI_POSTGRES = 60
CHAOS_JOBS_CI_SANDBOX = 16  # every step, the tests run in the real sandbox
LLM_REASONS = {"llm_output_invalid", "llm_timeout", "llm_retryable", "llm_unavailable"}


def assert_books_balance(report: ChaosReport) -> None:
    assert report.stuck_running == 0, report
    assert report.lost == 0, report
    assert report.double_paid == 0, report
    assert report.paid_calls == report.recorded_calls, report
    assert sum(report.statuses.values()) == report.jobs, report
    # A failure is always a clear model failure, never an internal crash.
    assert set(report.failure_reasons) <= LLM_REASONS, report
    assert report.statuses.get("succeeded", 0) > 0, report
    assert sum(report.faults_injected.values()) > 0, report


@pytest.mark.slow
async def test_chaos_jobs_on_sqlite_leave_nothing_stuck_or_paid_twice(tmp_path: Path) -> None:
    report = await run_chaos(f"sqlite+aiosqlite:///{tmp_path}/chaos.db", tmp_path,
                             jobs=CHAOS_JOBS_CI, fault_rate=0.3, restarts=6, strategy="single",
                             timeout_s=240)
    assert_books_balance(report)
    assert report.restarts > 0, report


@pytest.mark.slow
@pytest.mark.integration
async def test_chaos_jobs_through_every_step_and_the_sandbox_on_sqlite(tmp_path: Path) -> None:
    # The run that once failed "database is locked" (a cancelled statement's lock).
    report = await run_chaos(f"sqlite+aiosqlite:///{tmp_path}/chaos.db", tmp_path,
                             jobs=CHAOS_JOBS_CI_SANDBOX, fault_rate=0.25, restarts=3,
                             strategy="repair", timeout_s=240)
    assert_books_balance(report)


@pytest.mark.slow
@pytest.mark.integration
def test_chaos_jobs_through_every_step_and_the_sandbox(api_postgres_url: str,
                                                       tmp_path: Path) -> None:
    # On PostgreSQL: SQLite runs the other chaos tests; this one covers the server.
    from tests.pg import empty_tables

    empty_tables(api_postgres_url)
    report = asyncio.run(run_chaos(api_postgres_url, tmp_path, jobs=CHAOS_JOBS_CI_SANDBOX,
                                   fault_rate=0.25, restarts=3, strategy="repair",
                                   timeout_s=240))
    assert_books_balance(report)


@pytest.mark.slow
@pytest.mark.integration
def test_chaos_jobs_on_postgresql(api_postgres_url: str, tmp_path: Path) -> None:
    from tests.pg import empty_tables

    empty_tables(api_postgres_url)
    report = asyncio.run(run_chaos(api_postgres_url, tmp_path, jobs=CHAOS_JOBS_CI_POSTGRES,
                                   fault_rate=0.3, restarts=4, strategy="single",
                                   timeout_s=240))
    assert_books_balance(report)
