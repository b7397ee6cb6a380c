"""Scale-out: jobs per minute with 1, 2 and 4 Celery worker processes, and the queueing
delay from `POST /api/jobs` to the job's first step.

Real processes (`atelier serve`, `atelier worker --concurrency 1` ×N) on a throwaway
PostgreSQL database, Redis as broker and event bus. Jobs run the whole pipeline (the
sandbox included) on the scripted provider with a fixed latency per call, so a job
mostly waits, as it does on a remote model: throughput should grow with workers
until the machine's cores (the sandbox runs, the processes) are the limit.

Throughput: `--jobs-per-worker` jobs per worker submitted at once; jobs/min over the
span from the first POST to the last job's end. Scaling efficiency: the 2-worker rate
over the 1-worker rate (target ≥ 1.8×). Queueing delay: with 2 workers idle, jobs
submitted one at a time (`--probe-jobs`, spaced so a slot is always free); p50 / p95
from the POST being sent to the job's first `step_started` event.

    python -m bench.scale_out [--workers 1,2,4] [--jobs-per-worker 6] [--latency-s 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.cluster import REDIS_URL, Cluster, start_cluster
from bench.common import machine, table, write_result

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "slugify.json"
PROMPT = "A Python module slug.py with slugify(text) -> str"
TARGET_EFFICIENCY = 1.8


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


def _first_ts(cluster: Cluster, client: httpx.Client, job_id: str, kind: str) -> float:
    for event in cluster.events(client, job_id):
        if event["type"] == kind:
            return float(event["ts"])
    raise AssertionError(f"job {job_id} has no {kind} event")


def throughput(
    db_url: str, tmp: Path, workers: int, jobs: int, latency_s: float
) -> dict[str, Any]:
    """Jobs per minute of `workers` single-slot workers on a backlog of `jobs` jobs."""
    script = json.loads(SCRIPT.read_text(encoding="utf-8"))
    cluster = start_cluster(
        tmp, db_url, REDIS_URL, script=script, apis=1, workers=workers, concurrency=1
    )
    try:
        (_, base), = cluster.apis
        slow = cluster.script("latency", delay_s=latency_s)
        with httpx.Client(base_url=base, timeout=60) as client:
            started = time.time()
            ids = [cluster.submit(client, PROMPT, script=slow) for _ in range(jobs)]
            bodies = [cluster.wait(client, job_id, timeout_s=600) for job_id in ids]
            ended = time.time()
        statuses = [b["status"] for b in bodies]
        span = ended - started
        calls = sum(int(b["usage"]["calls"]) for b in bodies)
        return {
            "workers": workers,
            "jobs": jobs,
            "succeeded": statuses.count("succeeded"),
            "span_s": round(span, 2),
            "jobs_per_min": round(jobs / span * 60, 2),
            "llm_calls_per_job": round(calls / jobs, 2),
        }
    finally:
        cluster.stop()


def queueing_delay(db_url: str, tmp: Path, probes: int, spacing_s: float) -> dict[str, Any]:
    """POST → first step, with idle workers (no backlog): the cost of the queue path."""
    script = json.loads(SCRIPT.read_text(encoding="utf-8"))
    cluster = start_cluster(tmp, db_url, REDIS_URL, script=script, apis=1, workers=2)
    try:
        (_, base), = cluster.apis
        delays: list[float] = []
        # The two parts: POST → the worker's job_started (API, broker, worker taking the
        # job), and job_started → the first step (the pipeline's own start).
        to_worker: list[float] = []
        with httpx.Client(base_url=base, timeout=60) as client:
            ids: list[tuple[str, float]] = []
            for _ in range(probes):
                sent = time.time()
                ids.append((cluster.submit(client, PROMPT), sent))
                time.sleep(spacing_s)
            for job_id, sent in ids:
                cluster.wait(client, job_id, timeout_s=300)
                first_step = _first_ts(cluster, client, job_id, "step_started")
                delays.append(first_step - sent)
                to_worker.append(_first_ts(cluster, client, job_id, "job_started") - sent)
        return {
            "probes": probes,
            "spacing_s": spacing_s,
            "p50_ms": round(_percentile(delays, 0.5) * 1000, 1),
            "p95_ms": round(_percentile(delays, 0.95) * 1000, 1),
            "max_ms": round(max(delays) * 1000, 1),
            "to_job_started_p50_ms": round(_percentile(to_worker, 0.5) * 1000, 1),
            "to_job_started_p95_ms": round(_percentile(to_worker, 0.95) * 1000, 1),
        }
    finally:
        cluster.stop()


async def _find_admin() -> str | None:
    from tests.pg import find_admin_dsn

    return await find_admin_dsn()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", default="1,2,4", help="worker process counts to measure")
    p.add_argument("--jobs-per-worker", type=int, default=6)
    p.add_argument("--latency-s", type=float, default=1.0, help="scripted latency per LLM call")
    p.add_argument("--probe-jobs", type=int, default=20)
    p.add_argument("--probe-spacing-s", type=float, default=1.5)
    args = p.parse_args(argv)

    from tests.pg import throwaway_database

    admin = asyncio.run(_find_admin())
    if admin is None:
        raise SystemExit("PostgreSQL is not reachable at 127.0.0.1:5432")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="atelier-scale-") as tmp_dir:
        tmp = Path(tmp_dir)
        for n in [int(x) for x in args.workers.split(",")]:
            with throwaway_database(admin, "atelier_bench", migrated=True) as url:
                run = throughput(url, tmp / f"w{n}", n, n * args.jobs_per_worker, args.latency_s)
            print(f"{n} worker(s): {run}", flush=True)
            runs.append(run)
        with throwaway_database(admin, "atelier_bench", migrated=True) as url:
            delay = queueing_delay(url, tmp / "delay", args.probe_jobs, args.probe_spacing_s)
        print(f"queueing delay: {delay}", flush=True)

    by_workers = {r["workers"]: r for r in runs}
    base = by_workers.get(1)
    for r in runs:
        r["speedup"] = round(r["jobs_per_min"] / base["jobs_per_min"], 2) if base else None
    efficiency = by_workers[2]["speedup"] if base and 2 in by_workers else None
    rows = [
        [f"{r['workers']} worker(s)", f"{r['jobs']} jobs, {args.latency_s:g} s/call",
         f"{r['jobs_per_min']} jobs/min ({r['succeeded']}/{r['jobs']} ok)",
         f"{r['speedup']}× 1 worker"]
        for r in runs
    ]
    rows.append(["queueing delay (2 idle workers)", f"{delay['probes']} jobs",
                 f"p95 {delay['p95_ms']} ms (p50 {delay['p50_ms']} ms)",
                 f"of which POST → job_started p95 {delay['to_job_started_p95_ms']} ms"])
    print(table(["scale-out", "load", "measured", "vs 1 worker"], rows))
    if efficiency is not None:
        met = "met" if efficiency >= TARGET_EFFICIENCY else "MISSED"
        print(f"scaling 1 → 2 workers: {efficiency}× (target ≥ {TARGET_EFFICIENCY}: {met})")
    data = {
        "settings": vars(args),
        "machine": machine(),
        "runs": runs,
        "efficiency_1_to_2": efficiency,
        "target_efficiency": TARGET_EFFICIENCY,
        "queueing_delay": delay,
    }
    write_result("scale_out", data)
    return data


if __name__ == "__main__":
    main()
