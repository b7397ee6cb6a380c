"""Soak: `atelier serve` under a steady request rate for a long time, jobs running all
along, 1,000 WebSocket clients connecting and dropping at random meanwhile — then the
books: 0 errors, every job finished once (none stuck, lost or paid twice), memory and
open file descriptors of the server at the end against the start (the database's own
descriptors apart: its connection pool opens lazily up to a fixed size and stays).

    python -m bench.soak [--duration 600] [--rate 25] [--job-every 4] [--ws-clients 1000]
    python -m bench.soak --quick          # 30 s, for `make bench`
    python -m bench.soak --duration 180 --tracemalloc DIR   # heap snapshots: bench.memtrace

The server's RSS and open descriptors are sampled every `--sample-every` seconds of the
load. Memory is called flat when, after a warm-up (the first WARMUP_SHARE of the run:
pools, caches and the allocator's arenas fill up to their working size), it grows by
less than FLAT_SLOPE_MB_PER_MIN over the second half of the run (least-squares slope of
the samples) and by less than FLAT_GROWTH_PCT from the end of the warm-up to the end.
A leak shows as a slope that does not level off; warm-up as a step in the first minutes.

Loopback only, one server process (SQLite, scripted provider, the real sandbox).
Numbers go to bench/results/soak.json (soak-quick.json for --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import connect

from atelier.store.db import SQLITE_POOL_SIZE
from bench import memtrace
from bench.api_load import (
    Server,
    bearer_token,
    start_service,
    stop,
    wait_status,
    workdir,
    write_script,
)
from bench.bare_app import raise_nofile_limit
from bench.common import table, write_result

CALLS_PER_JOB = 5  # planner, coder, tester, reviewer, documenter (bench.api_load's script)
TERMINAL = ("succeeded", "failed", "cancelled")
QUICK_DURATION_S = 30.0
WS_PARALLEL = 100  # WebSocket clients open at once, at most
DRAIN_TIMEOUT_S = 300.0
SETTLE_S = 20.0  # how long the server gets to close what the last clients left
SAMPLE_EVERY_S = 10.0
WARMUP_SHARE = 0.25
# 1 MB/min would be 1.4 GB a day: small enough to tell from noise in a 5-minute window
# (the allocator moves RSS by a few MB at a time), large enough to matter in production.
FLAT_SLOPE_MB_PER_MIN = 1.0
FLAT_GROWTH_PCT = 2.0
MIN_VERDICT_S = 120.0  # shorter runs are all warm-up: no verdict on flatness
DATABASE_FILE = "atelier.db"
# The connection pool is opened lazily and kept (atelier.store.db): up to its size in
# database files and WAL files, plus one shared-memory map. Its descriptors are working
# set, not a leak; every other descriptor must be back to its start count.
DATABASE_FDS_MAX = 2 * SQLITE_POOL_SIZE + 1


@dataclass
class Tally:
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    tried: int = 0

    def add(self, route: str, status: int, ms: float) -> None:
        self.latencies_ms.setdefault(route, []).append(ms)
        self.statuses[status] += 1


@dataclass
class WsTally:
    tried: int = 0
    subscribed: int = 0
    refused: int = 0
    failed: int = 0
    aborted: int = 0  # dropped without a close handshake
    messages: int = 0


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))], 2)


def server_stats(pid: int) -> dict[str, Any]:
    proc = psutil.Process(pid)
    return {"rss_bytes": proc.memory_info().rss, "fds": proc.num_fds(),
            "sockets": len(proc.net_connections(kind="inet")), "fd_kinds": fd_kinds(pid)}


def database_fds(kinds: dict[str, int]) -> int:
    """Descriptors of the SQLite database (its file, WAL and shared memory)."""
    return sum(n for kind, n in kinds.items() if kind.startswith(DATABASE_FILE))


def fd_kinds(pid: int) -> dict[str, int]:
    """The server's open descriptors by kind (socket, pipe, anon_inode, the files by name)."""
    kinds: Counter[str] = Counter()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        kind = target.split(":", 1)[0] if ":" in target and not target.startswith("/") else (
            Path(target).name)
        kinds[kind] += 1
    return dict(sorted(kinds.items()))


async def sample_server(pid: int, every_s: float, began: float, series: list[dict[str, Any]],
                        stop_sampling: asyncio.Event) -> None:
    """Append the server's RSS and open descriptors every `every_s` seconds until told."""
    proc = psutil.Process(pid)
    while True:
        series.append({"t_s": round(time.monotonic() - began, 1),
                       "rss_mb": round(proc.memory_info().rss / 2**20, 1),
                       "fds": proc.num_fds(), "threads": proc.num_threads()})
        try:
            await asyncio.wait_for(stop_sampling.wait(), every_s)
            return
        except TimeoutError:
            continue


def slope_per_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return round(cov / var * 60, 3)


def memory_verdict(series: list[dict[str, Any]], duration_s: float,
                   rss_end_mb: float) -> dict[str, Any]:
    """RSS after the warm-up vs the end, the second half's slope, and whether that is flat."""
    warm_t = duration_s * WARMUP_SHARE
    after_warmup = next((s for s in series if s["t_s"] >= warm_t), series[-1] if series else None)
    second_half = [(s["t_s"], s["rss_mb"]) for s in series if s["t_s"] >= duration_s / 2]
    second_fds = [(s["t_s"], float(s["fds"])) for s in series if s["t_s"] >= duration_s / 2]
    warm_mb = after_warmup["rss_mb"] if after_warmup else None
    slope = slope_per_min(second_half)
    growth = round((rss_end_mb - warm_mb) / warm_mb * 100, 2) if warm_mb else None
    flat: bool | None = None
    if duration_s >= MIN_VERDICT_S and slope is not None and growth is not None:
        flat = slope < FLAT_SLOPE_MB_PER_MIN and growth < FLAT_GROWTH_PCT
    return {
        "rss_after_warmup_mb": warm_mb,
        "after_warmup_at_s": after_warmup["t_s"] if after_warmup else None,
        "growth_after_warmup_pct": growth,
        "rss_slope_second_half_mb_per_min": slope,
        "fds_slope_second_half_per_min": slope_per_min(second_fds),
        "rss_peak_mb": max((s["rss_mb"] for s in series), default=None),
        "thresholds": {"warmup_share": WARMUP_SHARE,
                       "slope_mb_per_min": FLAT_SLOPE_MB_PER_MIN,
                       "growth_pct": FLAT_GROWTH_PCT, "min_duration_s": MIN_VERDICT_S},
        "flat": flat,
    }


async def _request(client: httpx.AsyncClient, tally: Tally, route: str, method: str,
                   url: str, **kwargs: Any) -> httpx.Response | None:
    tally.tried += 1
    began = time.perf_counter()
    try:
        r = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        tally.errors.append(f"{route}: {type(exc).__name__}: {exc}")
        return None
    ms = (time.perf_counter() - began) * 1000
    tally.add(route, r.status_code, ms)
    if r.status_code >= 400:
        tally.errors.append(f"{route}: HTTP {r.status_code} {r.text[:200]}")
    return r


async def steady_load(client: httpx.AsyncClient, key: str, duration_s: float, rate: float,
                      job_every_s: float, jobs: list[str], tally: Tally,
                      rng: random.Random, done: set[str] | None = None) -> None:
    """Open-loop requests at `rate` per second (a slow answer does not slow the rate),
    a new job every `job_every_s`."""
    headers = {"X-API-Key": key}
    tasks: set[asyncio.Task[Any]] = set()
    finished: set[str] = done if done is not None else set()

    async def job_view(job: str) -> None:
        r = await _request(client, tally, "GET /api/jobs/{id}", "GET", f"/api/jobs/{job}",
                           headers=headers)
        if r is not None and r.status_code == 200 and r.json()["status"] in TERMINAL:
            finished.add(job)

    async def submit() -> None:
        r = await _request(client, tally, "POST /api/jobs", "POST", "/api/jobs",
                           headers=headers, json={"prompt": "A calculator module."})
        if r is not None and r.status_code == 202:
            jobs.append(r.json()["job_id"])

    def one() -> Any:
        job = rng.choice(jobs) if jobs else None
        roll = rng.random()
        if job is None or roll < 0.10:
            return _request(client, tally, "GET /health/ready", "GET", "/health/ready")
        if roll < 0.50:
            return job_view(job)
        if roll < 0.65:
            return _request(client, tally, "GET /api/jobs", "GET", "/api/jobs?limit=20",
                            headers=headers)
        if roll < 0.80:
            return _request(client, tally, "GET /api/jobs/{id}/events", "GET",
                            f"/api/jobs/{job}/events?since={rng.randrange(0, 20)}",
                            headers=headers)
        if roll < 0.90 and finished:
            # A job's files exist once it has a version (404 before: not an error here).
            return _request(client, tally, "GET /api/jobs/{id}/files", "GET",
                            f"/api/jobs/{rng.choice(sorted(finished))}/files", headers=headers)
        return _request(client, tally, "GET /api/usage", "GET", "/api/usage", headers=headers)

    def launch(coro: Any) -> None:
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    start = time.monotonic()
    next_job = start
    n = 0
    while (now := time.monotonic()) - start < duration_s:
        if now >= next_job:
            launch(submit())
            next_job += job_every_s
        launch(one())
        n += 1
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
    if tasks:
        await asyncio.gather(*tasks)


async def ws_churn(ws_url: str, job_ids: list[str], clients: int, spread_s: float,
                   tally: WsTally, rng: random.Random) -> None:
    """`clients` WebSocket clients over `spread_s` seconds, at most WS_PARALLEL open:
    each subscribes to a running job, listens a random while, then closes or just drops."""
    gate = asyncio.Semaphore(WS_PARALLEL)

    async def client(delay: float) -> None:
        await asyncio.sleep(delay)
        async with gate:
            tally.tried += 1
            try:
                ws = await connect(ws_url, open_timeout=30, close_timeout=2)
            except (OSError, TimeoutError) as exc:
                tally.failed += 1
                print(f"ws connect failed: {exc}")
                return
            except Exception as exc:  # the server refused the handshake (limit, auth)
                tally.refused += 1
                print(f"ws refused: {type(exc).__name__}: {exc}")
                return
            try:
                await asyncio.wait_for(ws.recv(), 30)  # the welcome
                job = job_ids[-1] if job_ids else None
                if job is not None:
                    await ws.send(json.dumps({"action": "subscribe", "job_id": job,
                                              "since": rng.randrange(0, 5)}))
                    tally.subscribed += 1
                listen_until = time.monotonic() + rng.uniform(0.0, 1.5)
                while (left := listen_until - time.monotonic()) > 0:
                    try:
                        await asyncio.wait_for(ws.recv(), left)
                        tally.messages += 1
                    except TimeoutError:
                        break
            except Exception as exc:  # a client edge: count it, never stop the soak
                tally.failed += 1
                print(f"ws client failed: {type(exc).__name__}: {exc}")
            finally:
                if rng.random() < 0.5:
                    ws.transport.abort()  # dropped: no close frame, no FIN handshake
                    tally.aborted += 1
                else:
                    await ws.close()

    await asyncio.gather(*(client(rng.uniform(0.0, spread_s)) for _ in range(clients)))


def _recorded_calls(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT job_id, count(*) FROM llm_calls GROUP BY job_id"))


async def _settle_fds(pid: int, target: int) -> int:
    deadline = time.monotonic() + SETTLE_S
    fds = psutil.Process(pid).num_fds()
    while fds > target and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        fds = psutil.Process(pid).num_fds()
    return fds


async def soak(server: Server, duration_s: float, rate: float, job_every_s: float,
               ws_clients: int, seed: int,
               sample_every_s: float = SAMPLE_EVERY_S) -> dict[str, Any]:
    rng = random.Random(seed)
    key = server.admin_key
    assert key is not None, "the service printed no admin key"
    token = await asyncio.to_thread(bearer_token, server, key)
    ws_url = server.base_url.replace("http://", "ws://") + f"/ws?token={token}"
    jobs: list[str] = []
    tally, ws_tally = Tally(), WsTally()
    # Idle connections are dropped by the client before the server's idle timeout
    # (header_timeout_s, 10 s) could close one under a request being sent.
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=3.0)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits) as client:
        # Warm up: one job through every step, so the first-use costs are behind us.
        warm = (await client.post("/api/jobs", headers={"X-API-Key": key},
                                  json={"prompt": "A calculator module."})).json()["job_id"]
        await asyncio.to_thread(wait_status, server, key, warm, TERMINAL)
        # …and a few seconds of the same load, so the connection pools have grown to
        # their working size before the first count of file descriptors.
        warm_jobs = [warm]
        await steady_load(client, key, 5.0, rate, job_every_s, warm_jobs, Tally(), rng)
        for job_id in warm_jobs:
            await asyncio.to_thread(wait_status, server, key, job_id, TERMINAL)
        await asyncio.sleep(2.0)
        start = server_stats(server.pid)
        began = time.monotonic()
        series: list[dict[str, Any]] = []
        stop_sampling = asyncio.Event()
        sampler = asyncio.create_task(
            sample_server(server.pid, sample_every_s, began, series, stop_sampling))
        await asyncio.gather(
            steady_load(client, key, duration_s, rate, job_every_s, jobs, tally, rng),
            ws_churn(ws_url, jobs, ws_clients, max(1.0, duration_s * 0.8), ws_tally, rng),
        )
        load_s = time.monotonic() - began
        stop_sampling.set()
        await sampler
        # Drain: every job submitted must finish.
        bodies: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        pending = list(jobs)
        while pending and time.monotonic() < deadline:
            still = []
            for job_id in pending:
                r = await client.get(f"/api/jobs/{job_id}", headers={"X-API-Key": key})
                body = r.json() if r.status_code == 200 else {"status": f"http-{r.status_code}"}
                bodies[job_id] = body
                if body["status"] not in TERMINAL:
                    still.append(job_id)
            pending = still
            if pending:
                await asyncio.sleep(1.0)
    await _settle_fds(server.pid, start["fds"])
    end = server_stats(server.pid)
    rss_end_mb = round(end["rss_bytes"] / 2**20, 1)
    series.append({"t_s": round(time.monotonic() - began, 1), "rss_mb": rss_end_mb,
                   "fds": end["fds"], "threads": psutil.Process(server.pid).num_threads(),
                   "after_drain": True})
    recorded = _recorded_calls(Path(server.env["ATELIER_DATA_DIR"]) / "atelier.db")
    statuses = Counter(b.get("status") for b in bodies.values())
    double_paid = sum(
        1 for j, b in bodies.items()
        if recorded.get(j, 0) > CALLS_PER_JOB or b.get("usage", {}).get("calls", 0) > CALLS_PER_JOB
        or b.get("usage", {}).get("calls", 0) != recorded.get(j, 0)
    )
    all_ms = [ms for values in tally.latencies_ms.values() for ms in values]
    per_route = {route: {"n": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99),
                         "max_ms": round(max(v), 2)}
                 for route, v in sorted(tally.latencies_ms.items())}
    return {
        "settings": {"duration_s": duration_s, "rate_per_s": rate, "job_every_s": job_every_s,
                     "ws_clients": ws_clients, "seed": seed},
        "load_s": round(load_s, 1),
        "requests": {
            "tried": tally.tried,
            "answered": sum(tally.statuses.values()),
            "errors": len(tally.errors),
            "5xx": sum(n for s, n in tally.statuses.items() if s >= 500),
            "statuses": {str(s): n for s, n in sorted(tally.statuses.items())},
            "first_errors": tally.errors[:10],
            "p50_ms": pct(all_ms, 50), "p99_ms": pct(all_ms, 99),
            "slowest_route_p99_ms": max((r["p99_ms"] for r in per_route.values()), default=0),
            "per_route": per_route,
        },
        "jobs": {
            "submitted": len(jobs),
            "statuses": dict(statuses),
            "stuck": sum(1 for b in bodies.values() if b.get("status") == "running"),
            "lost": len(jobs) - sum(statuses.get(s, 0) for s in (*TERMINAL, "running")),
            "double_paid": double_paid,
        },
        "websocket": vars(ws_tally),
        "server": {"rss_start_mb": round(start["rss_bytes"] / 2**20, 1),
                   "rss_end_mb": rss_end_mb,
                   "fds_start": start["fds"], "fds_end": end["fds"],
                   "sockets_start": start["sockets"], "sockets_end": end["sockets"],
                   "fd_kinds_start": start["fd_kinds"], "fd_kinds_end": end["fd_kinds"],
                   "other_fds_start": start["fds"] - database_fds(start["fd_kinds"]),
                   "other_fds_end": end["fds"] - database_fds(end["fd_kinds"]),
                   "database_fds_end": database_fds(end["fd_kinds"]),
                   "memory": memory_verdict([s for s in series if "after_drain" not in s],
                                            load_s, rss_end_mb),
                   "sample_every_s": sample_every_s,
                   "series": series},
    }


def print_report(result: dict[str, Any]) -> None:
    req, jobs, srv, ws = result["requests"], result["jobs"], result["server"], result["websocket"]
    mem = srv["memory"]
    series = " ".join(f"{s['t_s']:g}s:{s['rss_mb']}MB/{s['fds']}fd" for s in srv["series"])
    print(f"server samples: {series}")
    rows = [
        ["requests tried / errors / 5xx", f"{req['tried']} / {req['errors']} / {req['5xx']}"],
        ["latency p50 / p99 (all)", f"{req['p50_ms']} ms / {req['p99_ms']} ms"],
        ["slowest route p99", f"{req['slowest_route_p99_ms']} ms"],
        ["jobs submitted", jobs["submitted"]],
        ["jobs statuses", jobs["statuses"]],
        ["jobs stuck / lost / double-paid", f"{jobs['stuck']} / {jobs['lost']} / "
                                            f"{jobs['double_paid']}"],
        ["WebSocket clients (subscribed, dropped, failed)",
         f"{ws['tried']} ({ws['subscribed']}, {ws['aborted']}, {ws['failed'] + ws['refused']})"],
        ["server RSS start / end", f"{srv['rss_start_mb']} MB / {srv['rss_end_mb']} MB"],
        ["server RSS after warm-up (t s) / peak",
         f"{mem['rss_after_warmup_mb']} MB ({mem['after_warmup_at_s']}) / {mem['rss_peak_mb']} MB"],
        ["RSS growth after warm-up / slope, 2nd half",
         f"{mem['growth_after_warmup_pct']} % / {mem['rss_slope_second_half_mb_per_min']} MB/min"],
        ["memory flat (< {slope_mb_per_min:g} MB/min and < {growth_pct:g} %)".format(
            **mem["thresholds"]), "n/a (too short)" if mem["flat"] is None else mem["flat"]],
        ["server open fds start / end", f"{srv['fds_start']} / {srv['fds_end']}"],
        ["server sockets start / end", f"{srv['sockets_start']} / {srv['sockets_end']}"],
        ["fds other than the database's, start / end",
         f"{srv['other_fds_start']} / {srv['other_fds_end']}"],
        [f"database fds at the end (pool: at most {DATABASE_FDS_MAX})",
         srv["database_fds_end"]],
    ]
    print(table(["soak", "figure"], rows))


def passed(result: dict[str, Any]) -> bool:
    req, jobs, srv = result["requests"], result["jobs"], result["server"]
    return bool(req["errors"] == 0 and req["5xx"] == 0 and jobs["stuck"] == 0
                and jobs["lost"] == 0 and jobs["double_paid"] == 0
                and srv["other_fds_end"] <= srv["other_fds_start"]
                and srv["database_fds_end"] <= DATABASE_FDS_MAX
                and srv["memory"]["flat"] is not False)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DURATION_S:g} s")
    parser.add_argument("--rate", type=float, default=25.0, help="requests per second")
    parser.add_argument("--job-every", type=float, default=4.0, help="seconds between jobs")
    parser.add_argument("--ws-clients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--sample-every", type=float, default=SAMPLE_EVERY_S,
                        help="seconds between samples of the server's RSS and descriptors")
    parser.add_argument("--tracemalloc", type=Path, metavar="DIR",
                        help="run the server under tracemalloc, snapshots into DIR "
                             "(slower; read them with `python -m bench.memtrace diff DIR`)")
    parser.add_argument("--result", help="name of the result file (default: soak, "
                                         "soak-quick, soak-tracemalloc)")
    parser.add_argument("--tracemalloc-every", type=float, default=20.0,
                        help="seconds between snapshots")
    args = parser.parse_args(argv)
    duration = QUICK_DURATION_S if args.quick else args.duration
    raise_nofile_limit()
    with workdir(args.keep) as work:
        write_script(work / "script.json")
        env = {
            "ATELIER_MAX_CONCURRENT_JOBS": "2",
            "ATELIER_WS_MAX_PER_USER": str(WS_PARALLEL + 50),
            "ATELIER_LOG_LEVEL": "WARNING",
        }
        module = "atelier.cli"
        if args.tracemalloc is not None:
            module = "bench.memtrace"
            env |= {memtrace.ENV_DIR: str(args.tracemalloc.resolve()),
                    memtrace.ENV_EVERY: str(args.tracemalloc_every),
                    # The server runs in the work directory: bench must be importable.
                    "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        server = start_service(work, env, module=module)
        try:
            result = asyncio.run(soak(server, duration, args.rate, args.job_every,
                                      args.ws_clients, args.seed, args.sample_every))
        finally:
            stop(server)
    result["passed"] = passed(result)
    name = args.result or ("soak-quick" if args.quick else
                           "soak-tracemalloc" if args.tracemalloc else "soak")
    write_result(name, result)
    print_report(result)
    return result


if __name__ == "__main__":
    main()
