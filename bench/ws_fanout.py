"""WebSocket fan-out: N subscribers on one job, event delivery latency — issue #3's
service benchmark 3.

    python -m bench.ws_fanout [--sizes 1,100,1000] [--delay 0.25]

The service runs as ``python -m atelier.cli serve`` in its own process (temporary
SQLite data dir, scripted LLM provider, one job slot, rate limit raised), exactly as in
``bench.api_load``. For each size N this process (the client, asyncio + the
``websockets`` library) then:

1. submits a *blocker* job whose scripted LLM sleeps for minutes, so it holds the only
   job slot, and the *target* job, which therefore stays queued;
2. opens N WebSocket connections to ``/ws?token=<JWT>``, each subscribes to the target
   job (the replayed ``job_queued`` event is not counted) and waits for ``subscribed``;
3. cancels the blocker: the target job runs (every scripted LLM call sleeps
   ``--delay`` s, so events arrive over several seconds, in bursts as in a real job);
4. every client stamps each live event on receipt (``time.time()``) before parsing it;
   the latency is that stamp minus the event's server-side ``ts`` (set when the event
   is created, before it is stored and published). Server and client share the clock.

It reports p50/p90/p99/max latency over all (subscriber, event) pairs, the fan-out
spread (last minus first receipt of one event across subscribers), whether every
subscriber got every event, the client's own event-loop lag (a ticker, to show how
much of the latency the client adds) and the server's CPU use. Numbers go to
``bench/results/ws_fanout.json``; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect

from bench.api_load import (
    BENCH_RATE_LIMIT,
    Server,
    bearer_token,
    create_user_key,
    start_service,
    stop,
    submit_job,
    wait_status,
    workdir,
    write_script,
)
from bench.bare_app import raise_nofile_limit
from bench.common import table, write_result

CONNECT_PARALLEL = 100  # handshakes in flight at once
RUN_TIMEOUT_S = 180.0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Subscriber:
    index: int
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    # (seq, event type, receive time, server ts) of live events
    received: list[tuple[int, str, float, float]] = field(default_factory=list)
    replayed: int = 0
    error: str | None = None


async def _listen(ws: ClientConnection, sub: Subscriber, first_live: asyncio.Event) -> None:
    live = False
    async for raw in ws:
        now = time.time()
        msg = json.loads(raw)
        kind = msg.get("type")
        if kind == "subscribed":
            live = True
            sub.subscribed.set()
        elif kind == "event":
            event = msg["event"]
            if not live:
                sub.replayed += 1
                continue
            sub.received.append((int(event["seq"]), str(event["type"]), now, float(event["ts"])))
            first_live.set()
            if event["type"] == "job_finished":
                sub.finished.set()
                return
        elif kind == "error":
            sub.error = f"{msg.get('error')}: {msg.get('detail')}"
            sub.subscribed.set()
            sub.finished.set()
            return


async def subscriber(
    url: str,
    job_id: str,
    sub: Subscriber,
    gate: asyncio.Semaphore,
    stop_all: asyncio.Event,
    first_live: asyncio.Event,
) -> None:
    try:
        async with gate:
            ws = await connect(
                url, open_timeout=60, close_timeout=2, ping_interval=None, max_size=2**22
            )
            welcome = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if welcome.get("type") != "welcome":
                raise RuntimeError(f"no welcome: {welcome}")
            await ws.send(json.dumps({"action": "subscribe", "job_id": job_id, "since": 0}))
        async with ws:
            listener = asyncio.create_task(_listen(ws, sub, first_live))
            stopper = asyncio.create_task(stop_all.wait())
            await asyncio.wait({listener, stopper}, return_when=asyncio.FIRST_COMPLETED)
            failure = None
            if listener.done() and not listener.cancelled():
                failure = listener.exception()
            for task in (listener, stopper):
                task.cancel()
            await asyncio.gather(listener, stopper, return_exceptions=True)
            if failure is not None:
                raise failure
    except Exception as exc:
        sub.error = sub.error or f"{type(exc).__name__}: {exc}"
    finally:
        sub.subscribed.set()
        sub.finished.set()


async def loop_lag(samples: list[float], stop_all: asyncio.Event, every_s: float = 0.01) -> None:
    """How late this (client) event loop wakes up: a measure of client-side delay."""
    loop = asyncio.get_running_loop()
    while not stop_all.is_set():
        t = loop.time()
        await asyncio.sleep(every_s)
        samples.append(loop.time() - t - every_s)


async def run_size(
    service: Server, key: str, token: str, n: int, work: Path, delay_s: float
) -> dict[str, Any]:
    blocker_script = write_script(work / "blocker.json", delay_s=600.0)
    target_script = write_script(work / f"target-{n}.json", delay_s=delay_s)
    blocker = await asyncio.to_thread(submit_job, service, key, {"script": str(blocker_script)})
    await asyncio.to_thread(wait_status, service, key, blocker, ("running",), 60)
    target = await asyncio.to_thread(submit_job, service, key, {"script": str(target_script)})

    ws_url = service.base_url.replace("http://", "ws://") + f"/ws?token={token}"
    gate = asyncio.Semaphore(CONNECT_PARALLEL)
    stop_all = asyncio.Event()
    first_live = asyncio.Event()
    subs = [Subscriber(i) for i in range(n)]
    t0 = time.monotonic()
    tasks = [
        asyncio.create_task(subscriber(ws_url, target, s, gate, stop_all, first_live)) for s in subs
    ]
    await asyncio.wait_for(asyncio.gather(*(s.subscribed.wait() for s in subs)), RUN_TIMEOUT_S)
    connect_s = time.monotonic() - t0
    failed_subscribe = [s for s in subs if s.error]
    print(f"  {n} subscribed in {connect_s:.1f}s ({len(failed_subscribe)} failed)", flush=True)

    lag: list[float] = []
    lag_task = asyncio.create_task(loop_lag(lag, stop_all))
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
        r = await client.post(f"/api/jobs/{blocker}/cancel", headers={"X-API-Key": key})
        r.raise_for_status()
    # The blocker stops within the runner's cancel grace; measure from the first live event.
    proc = psutil.Process(service.pid)
    await asyncio.wait_for(first_live.wait(), RUN_TIMEOUT_S)
    cpu0, wall0 = sum(proc.cpu_times()[:2]), time.monotonic()
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.gather(*(s.finished.wait() for s in subs)), RUN_TIMEOUT_S)
    except TimeoutError:
        timed_out = True
    wall = time.monotonic() - wall0
    cpu = sum(proc.cpu_times()[:2]) - cpu0
    stop_all.set()
    await asyncio.gather(*tasks, lag_task, return_exceptions=True)
    body = await asyncio.to_thread(
        wait_status, service, key, target, ("succeeded", "failed", "cancelled"), 60
    )
    return summarise(n, subs, lag, connect_s, wall, cpu, timed_out, body["status"])


def summarise(
    n: int,
    subs: list[Subscriber],
    lag: list[float],
    connect_s: float,
    wall: float,
    cpu: float,
    timed_out: bool,
    job_status: str,
) -> dict[str, Any]:
    latencies = [recv - ts for s in subs for (_seq, _t, recv, ts) in s.received]
    per_event: dict[int, list[float]] = {}
    first_ts: dict[int, float] = {}
    for s in subs:
        for seq, _t, recv, ts in s.received:
            per_event.setdefault(seq, []).append(recv)
            first_ts[seq] = ts
    counts = [len(s.received) for s in subs]
    events = len(per_event)
    spreads = [max(v) - min(v) for v in per_event.values() if len(v) > 1]
    first = [min(v) - first_ts[seq] for seq, v in per_event.items()]
    errors = [s.error for s in subs if s.error]

    def ms(x: float) -> float:
        return round(x * 1000, 2)

    result: dict[str, Any] = {
        "subscribers": n,
        "job_status": job_status,
        "live_events": events,
        "deliveries": len(latencies),
        "complete_subscribers": sum(1 for c in counts if c == events),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:3],
        "timed_out": timed_out,
        "connect_s": round(connect_s, 2),
        "run_s": round(wall, 2),
        "server_cpu_pct": round(100 * cpu / wall, 1) if wall else None,
    }
    if latencies:
        result.update(
            {
                "p50_ms": ms(percentile(latencies, 50)),
                "p90_ms": ms(percentile(latencies, 90)),
                "p99_ms": ms(percentile(latencies, 99)),
                "max_ms": ms(max(latencies)),
                "mean_ms": ms(statistics.fmean(latencies)),
                "first_receipt_p50_ms": ms(percentile(first, 50)),
                "first_receipt_max_ms": ms(max(first)),
                "fanout_spread_p50_ms": ms(percentile(spreads, 50)) if spreads else 0.0,
                "fanout_spread_max_ms": ms(max(spreads)) if spreads else 0.0,
            }
        )
    if lag:
        result["client_loop_lag_p99_ms"] = ms(percentile(lag, 99))
        result["client_loop_lag_max_ms"] = ms(max(lag))
    return result


async def run(sizes: list[int], delay_s: float, keep: bool) -> dict[str, Any]:
    nofile = raise_nofile_limit()  # the service process inherits it
    results: list[dict[str, Any]] = []
    with workdir(keep) as work:
        service = await asyncio.to_thread(start_service, work)
        try:
            key = await asyncio.to_thread(create_user_key, service, "bench")
            token = await asyncio.to_thread(bearer_token, service, key)
            for n in sizes:
                result = await run_size(service, key, token, n, work, delay_s)
                print(
                    f"  {n} subscribers: p50 {result.get('p50_ms')} ms  "
                    f"p99 {result.get('p99_ms')} ms  max {result.get('max_ms')} ms  "
                    f"({result['live_events']} events, {result['errors']} errors)",
                    flush=True,
                )
                results.append(result)
        finally:
            await asyncio.to_thread(stop, service)
    return {
        "settings": {
            "sizes": sizes,
            "llm_delay_s": delay_s,
            "rate_limit": BENCH_RATE_LIMIT,
            "max_concurrent_jobs": 1,
            "database": "sqlite (temporary data dir)",
            "auth": "JWT from POST /api/validate-key in ?token=",
            "client": "one asyncio process, websockets library, same machine (2 cores shared "
            "with the server and anything else running)",
            "nofile_limit": nofile,
        },
        "runs": results,
    }


def print_report(result: dict[str, Any]) -> None:
    rows = [
        [
            r["subscribers"],
            r["live_events"],
            r["deliveries"],
            r.get("p50_ms"),
            r.get("p90_ms"),
            r.get("p99_ms"),
            r.get("max_ms"),
            r.get("fanout_spread_max_ms"),
            r.get("client_loop_lag_p99_ms"),
            r["server_cpu_pct"],
            f"{r['complete_subscribers']}/{r['subscribers']}",
        ]
        for r in result["runs"]
    ]
    print()
    print(
        table(
            [
                "subscribers",
                "events",
                "deliveries",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "spread max ms",
                "client lag p99 ms",
                "server CPU%",
                "complete",
            ],
            rows,
        )
    )
    for r in result["runs"]:
        if r["subscribers"] == 1000:
            print(f"\n  WebSocket p99 delivery latency at 1,000 subscribers: {r.get('p99_ms')} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000", help="subscriber counts, comma-separated")
    parser.add_argument("--delay", type=float, default=0.25, help="seconds per scripted LLM call")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and logs")
    parser.add_argument("--name", default="ws_fanout", help="results file bench/results/NAME.json")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    result = asyncio.run(run(sizes, args.delay, args.keep))
    print_report(result)
    path = write_result(args.name, result)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
