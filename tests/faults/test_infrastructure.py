"""The service's own infrastructure failing under it: PostgreSQL restarted mid-job,
Redis restarted under the event bus. Each runs against a private server this test
starts, stops and removes (never the machine's shared ones)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_scripts import CALLS_PER_JOB, write_script
from infra import PrivatePostgres, PrivateRedis, free_port
from test_resume_after_kill import Server, _admin_key, _get, _recorded_calls, _wait_status
from websockets.asyncio.client import connect

from atelier.store import migrate

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    try:
        yield redis
    finally:
        redis.remove()


def serve_env(tmp_path: Path, db_url: str, **extra: str) -> dict[str, str]:
    script = write_script(tmp_path / "slow-script.json", delay_s=0.5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(
        ATELIER_DATA_DIR=extra.pop("ATELIER_DATA_DIR", str(tmp_path / "data")),
        ATELIER_DATABASE_URL=db_url,
        ATELIER_LLM_PROVIDER="scripted",
        ATELIER_LLM_SCRIPT=str(script),
        ATELIER_PORT=str(free_port()),
        ATELIER_CODER_CONCURRENCY="1",
        ATELIER_SANDBOX_TIMEOUT_S="60",
        ATELIER_RATE_LIMIT="100000/minute",
        ATELIER_LOG_FORMAT="json",
        # A job whose worker lost the database is taken over once its lease expires.
        ATELIER_JOB_LEASE_S="6",
        ATELIER_CANCEL_POLL_S="1",
        **extra,
    )
    return env


def _wait_step(client: httpx.Client, job_id: str, key: str, step: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        events = _get(client, f"/api/jobs/{job_id}/events", key)["events"]
        if any(e["type"] == "step_started" and e["step"] == step for e in events):
            return
        assert time.monotonic() < deadline, events[-3:]
        time.sleep(0.05)


def test_postgresql_restarted_mid_job(private_pg: PrivatePostgres, tmp_path: Path) -> None:
    """While PostgreSQL is down the API answers 503 (readiness and request paths, never
    500); once it is back the API recovers by itself and the job ends — resumed or
    failed cleanly, not stuck in `running`, no call paid twice."""
    asyncio.run(migrate(private_pg.url))
    env = serve_env(tmp_path, private_pg.url)
    server = Server(env, tmp_path, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{env['ATELIER_PORT']}"
    try:
        server.wait_listening(1)
        key = _admin_key(server.output())
        headers = {"X-API-Key": key}
        with httpx.Client(base_url=base, timeout=30) as client:
            r = client.post("/api/jobs", headers=headers, json={"prompt": "A calculator module."})
            assert r.status_code == 202, r.text
            job_id = r.json()["job_id"]
            _wait_step(client, job_id, key, "code")

            private_pg.stop()
            down: dict[str, list[int]] = {"ready": [], "list": [], "submit": [], "usage": []}
            deadline = time.monotonic() + 4.0
            while time.monotonic() < deadline:
                down["ready"].append(client.get("/health/ready").status_code)
                down["list"].append(client.get("/api/jobs?limit=5", headers=headers).status_code)
                down["usage"].append(client.get("/api/usage", headers=headers).status_code)
                r = client.post("/api/jobs", headers=headers, json={"prompt": "x"})
                down["submit"].append(r.status_code)
                if r.status_code == 503:
                    body = r.json()
                    assert body["error"] == "unavailable" and "detail" in body
                    assert r.headers.get("retry-after")
                time.sleep(0.2)
            # Authentication itself needs the database: a cached key may get further,
            # but every answer is 503 (or served from a cache), never a 500.
            for name, statuses in down.items():
                assert 500 not in statuses, (name, statuses)
                assert set(statuses) <= {200, 503}, (name, statuses)
            assert down["ready"][-1] == 503
            assert 503 in down["list"] and 503 in down["submit"]

            private_pg.start()
            deadline = time.monotonic() + 60
            while client.get("/health/ready").status_code != 200:
                assert time.monotonic() < deadline, "the API did not recover by itself"
                time.sleep(0.2)
            assert client.get("/api/jobs?limit=5", headers=headers).status_code == 200

            body = _wait_status(client, job_id, key, timeout_s=120)
            assert body["status"] in ("succeeded", "failed"), body
            if body["status"] == "failed":
                assert body.get("error") or body.get("reason"), body
            else:
                assert body["usage"]["calls"] == CALLS_PER_JOB
            # A job submitted after the recovery runs as usual.
            r = client.post("/api/jobs", headers=headers, json={"prompt": "A calculator module."})
            assert r.status_code == 202, r.text
            after = _wait_status(client, r.json()["job_id"], key)
            assert after["status"] == "succeeded", after
    finally:
        server.stop()
    assert _recorded_calls(private_pg.url, job_id) <= CALLS_PER_JOB


async def _follow(ws_url: str, job_id: str, received: list[dict[str, Any]]) -> None:
    async with connect(ws_url, open_timeout=30) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "welcome"
        await ws.send(json.dumps({"action": "subscribe", "job_id": job_id, "since": 0}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 90))
            if message.get("type") != "event":
                continue
            received.append(message["event"])
            if message["event"]["type"] == "job_finished":
                return


def test_redis_restarted_under_the_event_bus(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    """Redis killed and started again while a job runs and a WebSocket client follows
    it: the job goes on, and the client gets every event, in order, up to
    `job_finished` — what the bus lost is caught up from the event log."""
    db = tmp_path / "atelier.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{db}"))
    env = serve_env(tmp_path, f"sqlite+aiosqlite:///{db}", ATELIER_EVENT_BUS="redis",
                    ATELIER_REDIS_URL=private_redis.url)
    server = Server(env, tmp_path, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{env['ATELIER_PORT']}"
    received: list[dict[str, Any]] = []
    try:
        server.wait_listening(1)
        key = _admin_key(server.output())
        with httpx.Client(base_url=base, timeout=30) as client:
            token = client.post("/api/validate-key", json={"api_key": key}).json()["access_token"]
            r = client.post("/api/jobs", headers={"X-API-Key": key},
                            json={"prompt": "A calculator module."})
            job_id = r.json()["job_id"]
            ws_url = base.replace("http://", "ws://") + f"/ws?token={token}"

            async def scenario() -> None:
                follower = asyncio.create_task(_follow(ws_url, job_id, received))
                await asyncio.to_thread(_wait_step, client, job_id, key, "code")
                await asyncio.to_thread(private_redis.stop)
                await asyncio.sleep(2.0)  # events of the job go to the log only
                await asyncio.to_thread(private_redis.start)
                await asyncio.wait_for(follower, 120)

            asyncio.run(scenario())
            body = _wait_status(client, job_id, key)
            stored = _get(client, f"/api/jobs/{job_id}/events", key)["events"]
    finally:
        server.stop()
    assert body["status"] == "succeeded", body
    assert "redis_bus_publish_failed" in server.output() or "redis_bus_read_failed" in (
        server.output()
    ), "Redis was not noticed down: the test proved nothing"
    seqs = [m["seq"] for m in received]
    assert seqs == [e["seq"] for e in stored], "the client missed or repeated events"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs for the data dir (the SQLite database included), unmounted after."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _fill(disk: Path) -> Path:
    """Fill `disk` to its last byte; returns the filler file to delete later."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 4096)
    return filler


def _poll(check: Any, timeout_s: float, what: str) -> Any:
    """`check()`'s first truthy answer, polled until `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = check()
        if answer:
            return answer
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _job_if_finished(client: httpx.Client, job_id: str, headers: dict[str, str]) -> Any:
    r = client.get(f"/api/jobs/{job_id}", headers=headers)
    assert r.status_code in (200, 503), r.text  # a read may meet the full disk: never 500
    if r.status_code == 200 and r.json()["status"] in ("succeeded", "failed", "cancelled"):
        return r.json()
    return None


def test_the_data_dir_disk_full(small_disk: Path, tmp_path: Path) -> None:
    """With the data dir's disk full, a job caught by it ends `failed` with a clear
    `disk_full` error while the disk is still full (the reserve file gave it the room to
    say so), keeping no half-made version; requests that must write answer 507
    `disk_full` (never 500); reads still serve only complete versions. Once space is
    back, new jobs and the failed job's retry succeed without a restart."""
    db_url = f"sqlite+aiosqlite:///{small_disk / 'atelier.db'}"
    asyncio.run(migrate(db_url))
    data_dir = small_disk / "data"
    reserve = data_dir / ".atelier-disk-reserve"
    env = serve_env(tmp_path, db_url, ATELIER_DATA_DIR=str(data_dir),
                    ATELIER_DISK_RESERVE_MB="0.5", ATELIER_DISK_MIN_FREE_MB="0.25")
    server = Server(env, tmp_path, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{env['ATELIER_PORT']}"
    try:
        server.wait_listening(1)
        key = _admin_key(server.output())
        headers = {"X-API-Key": key}
        with httpx.Client(base_url=base, timeout=30) as client:
            r = client.post("/api/jobs", headers=headers, json={"prompt": "A calculator module."})
            done = r.json()["job_id"]
            assert _wait_status(client, done, key)["status"] == "succeeded"
            zip_before = _unzip(client.get(f"/api/download/{done}", headers=headers).content)
            assert reserve.stat().st_size == 512 * 1024, "no reserve was made at the start"

            r = client.post("/api/jobs", headers=headers, json={"prompt": "A calculator module."})
            caught = r.json()["job_id"]
            _wait_step(client, caught, key, "code")
            filler = _fill(small_disk)

            # The caught job ends while the disk is still full (the filler stays): a
            # heartbeat or its next write notices within seconds.
            final = _poll(lambda: _job_if_finished(client, caught, headers), 30,
                          "the caught job did not end while the disk was full")
            assert final["status"] == "failed", final
            error = final["error"]
            assert error.startswith("disk_full: no space left on the disk holding "), error
            assert str(data_dir) in error and "MB free" in error, error
            assert error.endswith("free space on that disk, then retry the job"), error
            assert final["versions"] == [], final  # nothing half-made is kept
            assert final["verdict"] == "untested", final
            assert not reserve.exists(), "the reserve was not given up to record the failure"

            # Writes are refused clearly while the disk is full.
            refused = [
                client.post("/api/jobs", headers=headers, json={"prompt": "A calculator."}),
                client.post(f"/api/jobs/{done}/revise", headers=headers,
                            json={"instructions": "add a docstring"}),
                client.post(f"/admin/jobs/{caught}/retry", headers=headers),
            ]
            for r in refused:
                assert r.status_code == 507, (r.request.url, r.status_code, r.text)
                assert r.json()["error"] == "disk_full" and "space" in r.json()["detail"]
                assert r.headers.get("retry-after")
            # Reads go on, and serve only what was completely written.
            download = client.get(f"/api/download/{done}", headers=headers)
            assert download.status_code == 200, download.text
            assert _unzip(download.content) == zip_before
            files = client.get(f"/api/jobs/{caught}/files", headers=headers)
            assert files.status_code == 404, files.text  # no version: nothing to serve
            assert client.get(f"/api/download/{caught}", headers=headers).status_code == 404

            filler.unlink()
            # Space is back: a new job and the failed job's retry run, no restart needed,
            # and the reserve is made again.
            r = client.post("/api/jobs", headers=headers, json={"prompt": "A calculator module."})
            assert r.status_code == 202, r.text
            assert _wait_status(client, r.json()["job_id"], key)["status"] == "succeeded"
            r = client.post(f"/admin/jobs/{caught}/retry", headers=headers)
            assert r.status_code == 202, r.text
            retried = _wait_status(client, r.json()["job_id"], key)
            assert retried["status"] == "succeeded", retried
            assert [v["number"] for v in retried["versions"]] == [1]
            listed = _get(client, f"/api/jobs/{retried['job_id']}/files", key)
            assert {f["path"] for f in listed["files"]} >= {"calc.py", "README.md"}
            assert reserve.stat().st_size == 512 * 1024, "the reserve was not made again"
    finally:
        server.stop()
    output = server.output()
    assert "unhandled_error" not in output and "job_crashed" not in output
    for event in ("disk_reserve_created", "disk_reserve_released", "job_failed_disk_full"):
        assert event in output, event
