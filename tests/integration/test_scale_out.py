"""Scale-out (issue 17): two `atelier serve` and two `atelier worker` processes on one
PostgreSQL database, Redis for events, rate limits and revocations, and a Celery
broker — Redis, then RabbitMQ. Jobs use the scripted provider; a per-call delay
makes a job slow enough to kill its worker, or cancel it, in the middle."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from api_scripts import CALLS_PER_JOB, script
from bench.cluster import (
    RABBITMQ_URL,
    REDIS_URL,
    Cluster,
    log_lines,
    start_cluster,
    step_workers,
)
from tests.pg import PG_HOST, find_admin_dsn, throwaway_database

from atelier.store import CallRecordRepo, create_engine, create_sessionmaker, session_scope

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def pg_admin() -> str:
    admin = asyncio.run(find_admin_dsn())
    if admin is None:
        pytest.fail(f"PostgreSQL is not reachable at {PG_HOST}")
    return admin


@pytest.fixture(scope="module")
def redis_db(pg_admin: str) -> Iterator[str]:
    with throwaway_database(pg_admin, "atelier_scale", migrated=True) as url:
        yield url


@pytest.fixture(scope="module")
def rabbit_db(pg_admin: str) -> Iterator[str]:
    # A database of its own: the Redis cluster's workers would otherwise (rightly) take
    # over this cluster's orphaned jobs.
    with throwaway_database(pg_admin, "atelier_scale", migrated=True) as url:
        yield url


@pytest.fixture(scope="module")
def redis_cluster(redis_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = start_cluster(
        tmp_path_factory.mktemp("redis-cluster"), redis_db, REDIS_URL, script=script()
    )
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def rabbit_cluster(rabbit_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = start_cluster(
        tmp_path_factory.mktemp("rabbit-cluster"), rabbit_db, RABBITMQ_URL, script=script()
    )
    try:
        yield cluster
    finally:
        cluster.stop()


def _recorded_calls(db_url: str, job_id: str) -> int:
    async def count() -> int:
        engine = create_engine(db_url)
        try:
            async with session_scope(create_sessionmaker(engine)) as session:
                return await CallRecordRepo(session).count(job_id)
        finally:
            await engine.dispose()

    return asyncio.run(count())


# --- the checks, run against either broker --------------------------------------------


def _twenty_jobs_spread(cluster: Cluster, n: int = 20) -> None:
    (_, base_a), (_, base_b) = cluster.apis
    worker_pids = {w.pid for w in cluster.workers}
    slowish = cluster.script("slowish", delay_s=0.05)
    with (
        httpx.Client(base_url=base_a, timeout=30) as a,
        httpx.Client(base_url=base_b, timeout=30) as b,
    ):
        ids = [cluster.submit(a if i % 2 else b, script=slowish) for i in range(n)]
        bodies = [cluster.wait(a, job_id) for job_id in ids]
    assert [body["status"] for body in bodies] == ["succeeded"] * n, [
        (body["status"], body["reason"]) for body in bodies
    ]
    ran_on = [step_workers(body) for body in bodies]
    # Every step of a job ran on one worker (nothing was interrupted) …
    assert all(len(pids) == 1 for pids in ran_on), ran_on
    # … and both workers took jobs.
    assert set().union(*ran_on) == worker_pids, ran_on
    for body in bodies:
        assert body["usage"]["calls"] == CALLS_PER_JOB


def _killed_worker_job_completes_elsewhere(cluster: Cluster, db_url: str) -> None:
    (_, base_a), _ = cluster.apis
    slow = cluster.script("slow", delay_s=0.6)
    with httpx.Client(base_url=base_a, timeout=30) as client:
        job_id = cluster.submit(client, script=slow)
        # Kill while the test step runs: its tester call is recorded, the step's
        # checkpoint is not written yet.
        deadline = time.monotonic() + 60
        while True:
            events = cluster.events(client, job_id)
            agents = [e["data"].get("agent") for e in events if e["type"] == "agent_call"]
            if "tester" in agents:
                break
            assert time.monotonic() < deadline, events
            time.sleep(0.02)
        body = cluster.wait(client, job_id, until=lambda b: True)
        (victim_pid,) = step_workers(body)
        victim = next(w for w in cluster.workers if w.pid == victim_pid)
        killed_at = time.time()
        victim.kill()
        cluster.workers.remove(victim)
        survivor = cluster.workers[0]

        done = cluster.wait(client, job_id)
        events = cluster.events(client, job_id)
        # An undisturbed run of the same job, for comparison.
        reference = cluster.wait(client, cluster.submit(client, script=slow))
    # Keep two workers for whatever runs next.
    cluster.start_worker()

    assert done["status"] == "succeeded", done
    assert reference["status"] == "succeeded", reference
    # Exactly the calls of an undisturbed run: the tester's was replayed, not re-sent.
    assert done["usage"]["calls"] == reference["usage"]["calls"] == CALLS_PER_JOB
    assert _recorded_calls(db_url, job_id) == CALLS_PER_JOB
    # No event lost: the log is 1..n without a gap.
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    starts = [e for e in events if e["type"] == "job_started"]
    assert len(starts) == 2 and starts[1]["data"]["resumed"] is True, starts
    assert starts[1]["data"]["completed_steps"] == ["plan", "code"]
    replayed = [
        e["data"]["agent"] for e in events if e["type"] == "agent_call" and e["data"]["replayed"]
    ]
    assert replayed == ["tester"]
    # No step ran twice at once: the survivor resumed only after the victim was dead,
    # and ran everything from the resumed start on.
    resumed_at = starts[1]["ts"]
    assert resumed_at > killed_at
    later_starts = [e for e in events if e["type"] == "step_started" and e["ts"] >= resumed_at]
    assert later_starts and {e["data"]["worker"]["pid"] for e in later_starts} == {survivor.pid}
    assert step_workers(done) == {victim_pid, survivor.pid} or step_workers(done) == {survivor.pid}
    assert done["steps"]["test"]["worker"]["pid"] == survivor.pid
    assert done["steps"]["plan"]["worker"]["pid"] == victim_pid


# --- Redis broker ----------------------------------------------------------------------


def test_twenty_jobs_through_both_apis_run_on_both_workers(redis_cluster: Cluster) -> None:
    _twenty_jobs_spread(redis_cluster)


def test_websocket_on_api_a_sees_every_event_of_a_job_submitted_through_api_b(
    redis_cluster: Cluster,
) -> None:
    (_, base_a), (_, base_b) = redis_cluster.apis
    slow = redis_cluster.script("ws", delay_s=0.2)
    ws_url = base_a.replace("http://", "ws://") + f"/ws?token={redis_cluster.admin_key}"

    async def watch() -> tuple[str, list[dict[str, Any]]]:
        async with websockets.connect(ws_url) as ws:
            assert json.loads(await ws.recv())["type"] == "welcome"
            async with httpx.AsyncClient(base_url=base_b, timeout=30) as b:
                r = await b.post(
                    "/api/jobs",
                    headers=redis_cluster.headers,
                    json={"prompt": "A calculator module.", "options": {"script": slow}},
                )
                assert r.status_code == 202, r.text
                job_id: str = r.json()["job_id"]
            await ws.send(json.dumps({"action": "subscribe", "job_id": job_id, "since": 0}))
            seen: list[dict[str, Any]] = []
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "event":
                    seen.append(message["event"])
                    if message["event"]["type"] == "job_finished":
                        return job_id, seen

    job_id, seen = asyncio.run(watch())
    with httpx.Client(base_url=base_b, timeout=30) as b:
        logged = redis_cluster.events(b, job_id)
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    assert [(e["seq"], e["type"]) for e in seen] == [(e["seq"], e["type"]) for e in logged]
    assert seen[-1]["data"]["status"] == "succeeded"
    # Run by a worker, not by either API process.
    api_pids = {proc.pid for proc, _ in redis_cluster.apis}
    assert {e["data"]["worker"]["pid"] for e in seen if e["type"] == "step_started"} <= {
        w.pid for w in redis_cluster.workers
    }
    assert not api_pids & {e["data"]["worker"]["pid"] for e in seen if e["type"] == "step_started"}


def test_cancel_through_api_a_stops_the_job_on_its_worker_within_5s(
    redis_cluster: Cluster,
) -> None:
    (_, base_a), (_, base_b) = redis_cluster.apis
    slow = redis_cluster.script("cancel", delay_s=1.0)
    with (
        httpx.Client(base_url=base_a, timeout=30) as a,
        httpx.Client(base_url=base_b, timeout=30) as b,
    ):
        job_id = redis_cluster.submit(b, script=slow)
        running = redis_cluster.wait(
            b, job_id, until=lambda body: body["steps"]["code"].get("status") == "running"
        )
        (worker_pid,) = step_workers(running)
        worker = next(w for w in redis_cluster.workers if w.pid == worker_pid)
        asked_at = time.time()
        r = a.post(f"/api/jobs/{job_id}/cancel", headers=redis_cluster.headers)
        assert r.status_code in (200, 202), r.text
        assert redis_cluster.wait(a, job_id, timeout_s=5)["status"] == "cancelled"
        # The worker lets go of the job within 5 s of the request.
        deadline = time.monotonic() + 5
        released: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not released:
            released = [
                line for line in log_lines(worker, "job_released") if line.get("job_id") == job_id
            ]
            time.sleep(0.05)
        assert released, worker.output()[-3000:]
        stopped_at = _timestamp(released[0]["timestamp"])
        assert stopped_at - asked_at < 5.0
        calls = _recorded_calls_via_events(redis_cluster, b, job_id)
        events = redis_cluster.events(b, job_id)
        time.sleep(1.5)
        # Nothing more happens: no call paid, no event after the job ended.
        assert _recorded_calls_via_events(redis_cluster, b, job_id) == calls
        assert redis_cluster.events(b, job_id) == events
        assert events[-1]["type"] == "job_finished" and events[-1]["data"]["status"] == "cancelled"


def test_a_key_revoked_through_api_a_is_refused_by_api_b_within_1s(
    redis_cluster: Cluster,
) -> None:
    (_, base_a), (_, base_b) = redis_cluster.apis
    with (
        httpx.Client(base_url=base_a, timeout=30) as a,
        httpx.Client(base_url=base_b, timeout=30) as b,
    ):
        r = a.post("/admin/users", headers=redis_cluster.headers, json={"name": "carol"})
        assert r.status_code in (200, 201), r.text
        user = r.json()
        key = user["api_key"]
        # B has seen (and cached) the key.
        assert b.get("/api/jobs", headers={"X-API-Key": key}).status_code == 200
        (key_row,) = a.get(f"/admin/users/{user['id']}/keys", headers=redis_cluster.headers).json()
        r = a.post(f"/admin/keys/{key_row['id']}/revoke", headers=redis_cluster.headers)
        assert r.status_code == 200, r.text
        revoked_at = time.monotonic()
        while b.get("/api/jobs", headers={"X-API-Key": key}).status_code != 401:
            assert time.monotonic() - revoked_at < 1.0, "B still accepts the revoked key"
            time.sleep(0.02)
        assert time.monotonic() - revoked_at < 1.0


def test_a_killed_worker_s_job_completes_on_the_other_worker(
    redis_cluster: Cluster, redis_db: str
) -> None:
    _killed_worker_job_completes_elsewhere(redis_cluster, redis_db)


# --- RabbitMQ broker -------------------------------------------------------------------


def test_rabbitmq_jobs_through_both_apis_run_on_both_workers(rabbit_cluster: Cluster) -> None:
    _twenty_jobs_spread(rabbit_cluster, n=10)


def test_rabbitmq_a_killed_worker_s_job_completes_on_the_other_worker(
    rabbit_cluster: Cluster, rabbit_db: str
) -> None:
    _killed_worker_job_completes_elsewhere(rabbit_cluster, rabbit_db)


# --- helpers ---------------------------------------------------------------------------


def _timestamp(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _recorded_calls_via_events(cluster: Cluster, client: httpx.Client, job_id: str) -> int:
    return sum(
        1
        for e in cluster.events(client, job_id)
        if e["type"] == "agent_call" and not e["data"].get("replayed")
    )
