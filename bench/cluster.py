"""A scaled-out Atelier on this machine: `atelier serve` and `atelier worker` as real
processes on one PostgreSQL database, Redis (events, rate limits, revocations) and a
Celery broker (Redis or RabbitMQ). Used by bench/scale_out.py and the scale-out tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ATELIER = Path(sys.executable).with_name("atelier")
REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
TERMINAL = ("succeeded", "failed", "cancelled")


class Process:
    """One `atelier …` process, in its own session (killing it kills its sandboxes)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [str(ATELIER), *args],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.log.name} exited:\n{self.output()[-4000:]}")
            time.sleep(0.05)
        tail = self.output()[-4000:]
        raise AssertionError(f"{self.log.name}: no {text!r} in {timeout_s}s:\n{tail}")

    def kill(self) -> None:
        """SIGKILL, the process and everything it started."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        """Ask to stop (SIGTERM), without waiting."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.proc.poll() is None:
            # Twice: Celery's first SIGTERM waits for running jobs, the second does not.
            for _ in range(2):
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    break
                time.sleep(0.3)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._out.close()


@dataclass
class Cluster:
    """The processes of one scaled-out deployment and an admin key."""

    tmp: Path
    env: dict[str, str]
    base_script: dict[str, Any]
    admin_key: str = ""
    apis: list[tuple[Process, str]] = field(default_factory=list)  # (process, base url)
    workers: list[Process] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.admin_key}

    def start_api(self, *, wait: bool = True) -> str:
        port = _free_port()
        env = {**self.env, "ATELIER_PORT": str(port)}
        n = len(self.apis)
        proc = Process(["serve", "--host", "127.0.0.1"], env, self.tmp / f"api{n}.log")
        base = f"http://127.0.0.1:{port}"
        self.apis.append((proc, base))
        if wait:
            proc.wait_for("Atelier listening on")
        return base

    def start_worker(self, concurrency: int = 2, *, wait: bool = True) -> Process:
        n = len(self.workers)
        proc = Process(
            ["worker", "--concurrency", str(concurrency), "--loglevel", "INFO"],
            self.env,
            self.tmp / f"worker{n}.log",
        )
        self.workers.append(proc)
        if wait:
            proc.wait_for("worker_ready", timeout_s=60)
        return proc

    def stop(self) -> None:
        procs = [*self.workers, *(proc for proc, _ in self.apis)]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.stop()

    def script(self, name: str, delay_s: float = 0.0) -> str:
        """A scripted-provider file: the base script with `delay_s` per call."""
        path = self.tmp / f"script-{name}.json"
        if not path.exists():
            data = {**self.base_script, "delay_s": delay_s}
            path.write_text(json.dumps(data), encoding="utf-8")
        return str(path)

    def submit(
        self, client: httpx.Client, prompt: str = "A calculator module.", **options: Any
    ) -> str:
        options.setdefault("script", self.script("fast"))
        r = client.post(
            "/api/jobs", headers=self.headers, json={"prompt": prompt, "options": options}
        )
        assert r.status_code == 202, r.text
        job_id: str = r.json()["job_id"]
        return job_id

    def wait(
        self,
        client: httpx.Client,
        job_id: str,
        timeout_s: float = 120.0,
        until: Callable[[dict[str, Any]], bool] = lambda body: body["status"] in TERMINAL,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            r = client.get(f"/api/jobs/{job_id}", headers=self.headers)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            if until(body):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id}: {body['status']} after {timeout_s}s: {body}")
            time.sleep(0.05)

    def events(self, client: httpx.Client, job_id: str) -> list[dict[str, Any]]:
        r = client.get(f"/api/jobs/{job_id}/events", headers=self.headers)
        assert r.status_code == 200, r.text
        events: list[dict[str, Any]] = r.json()["events"]
        return events


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cluster_env(
    tmp: Path, db_url: str, broker_url: str, *, lease_s: float = 3.0, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(
        ATELIER_DATA_DIR=str(tmp / "data"),
        ATELIER_DATABASE_URL=db_url,
        ATELIER_RUNNER="celery",
        ATELIER_BROKER_URL=broker_url,
        ATELIER_REDIS_URL=REDIS_URL,
        ATELIER_EVENT_BUS="redis",
        # A queue of this run's own: nothing left over from another run is taken.
        ATELIER_QUEUE=f"atelier-test-{uuid.uuid4().hex[:10]}",
        ATELIER_JOB_LEASE_S=str(lease_s),
        ATELIER_CANCEL_POLL_S="0.5",
        ATELIER_LLM_PROVIDER="scripted",
        ATELIER_LLM_SCRIPT=str(tmp / "script-fast.json"),
        ATELIER_CODER_CONCURRENCY="1",
        ATELIER_SANDBOX_TIMEOUT_S="60",
        ATELIER_RATE_LIMIT="1000000/minute",
        ATELIER_JWT_SECRET="scale-out-test-secret-" + "x" * 32,
        ATELIER_LOG_FORMAT="json",
        ATELIER_LOG_LEVEL="INFO",
        ATELIER_EVENT_LOOP="asyncio",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def create_admin_key(env: dict[str, str]) -> str:
    out = subprocess.run(
        [str(ATELIER), "keys", "create", "--name", "admin", "--admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1].strip()


def start_cluster(
    tmp: Path,
    db_url: str,
    broker_url: str,
    *,
    script: dict[str, Any],
    apis: int = 2,
    workers: int = 2,
    concurrency: int = 2,
    **env: str,
) -> Cluster:
    """A migrated database, an admin key, then the API and worker processes (started
    together, waited for together). Jobs use `script` (scripted provider replies)."""
    tmp.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(tmp, cluster_env(tmp, db_url, broker_url, **env), script)
    cluster.script("fast")
    cluster.admin_key = create_admin_key(cluster.env)
    try:
        for _ in range(apis):
            cluster.start_api(wait=False)
        for _ in range(workers):
            cluster.start_worker(concurrency, wait=False)
        for proc, _ in cluster.apis:
            proc.wait_for("Atelier listening on")
        for proc in cluster.workers:
            proc.wait_for("worker_ready")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def step_workers(body: dict[str, Any]) -> set[int]:
    """The pids of the workers that ran the job's steps."""
    return {
        int(state["worker"]["pid"])
        for state in body["steps"].values()
        if isinstance(state, dict) and "worker" in state
    }


def log_lines(proc: Process, event: str) -> list[dict[str, Any]]:
    lines = []
    for line in proc.output().splitlines():
        if event in line:
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines
