"""WebSocket fan-out: N subscribers on one job, event delivery latency — issue #3's
service benchmark 3.

    python -m bench.ws_fanout [--sizes 1,100,1000] [--delay 0.25] [--client-procs K]

The service runs as ``python -m atelier.cli serve`` in its own process (temporary
SQLite data dir, scripted LLM provider, one job slot, rate limit raised), exactly as in
``bench.api_load``. The subscribers live in K separate client processes (``python -m
bench.ws_fanout --client-worker``, asyncio + the ``websockets`` library; by default
K = min(4, ceil(N / 250))), so that one client event loop does not serve 1,000 sockets
and its own lag does not dominate the latency. For each size N this process then:

1. submits a *blocker* job whose scripted LLM sleeps for minutes, so it holds the only
   job slot, and the *target* job, which therefore stays queued;
2. starts the client processes; each opens its share of the N WebSocket connections to
   ``/ws?token=<JWT>``, subscribes each to the target job (the replayed ``job_queued``
   event is not counted), waits for every ``subscribed`` and reports ready;
3. once all are ready, cancels the blocker: the target job runs (every scripted LLM
   call sleeps ``--delay`` s, so events arrive over several seconds, in bursts as in a
   real job);
4. every client stamps each live event on receipt (``time.time()``) before parsing it;
   the latency is that stamp minus the event's server-side ``ts`` (set when the event
   is created, before it is stored and published). Server and clients share the clock.
   When the job has finished, the clients send their stamps to this process.

It reports p50/p90/p99/max latency over all (subscriber, event) pairs, the fan-out
spread (last minus first receipt of one event across subscribers), whether every
subscriber got every event, the clients' own event-loop lag (a ticker in each client
process; the worst process is reported, to show how much of the latency the clients
add) and the server's CPU use. Numbers go to ``bench/results/ws_fanout.json``; nothing
is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

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
from bench.common import REPO_ROOT, table, write_result

CONNECT_PARALLEL = 100  # handshakes in flight at once, over all client processes
RUN_TIMEOUT_S = 180.0
SUBSCRIBERS_PER_PROC = 250  # the automatic client-process count: one per 250 subscribers…
MAX_CLIENT_PROCS = 4  # …up to this many
CLIENT_WORKER_FLAG = "--client-worker"  # `python -m bench.ws_fanout --client-worker`
RESULT_LINE_LIMIT = 2**27  # bytes: one client's result line holds all its receipt stamps


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def default_client_procs(n: int) -> int:
    """Client processes for `n` subscribers when not given: min(4, ceil(n / 250)), >= 1."""
    return max(1, min(MAX_CLIENT_PROCS, math.ceil(n / SUBSCRIBERS_PER_PROC)))


def split_subscribers(n: int, procs: int) -> list[int]:
    """How many of `n` subscribers each client process opens: as even as possible, the
    larger shares first, and no process without subscribers (so at most `n` of them)."""
    procs = max(1, min(procs, n))
    base, extra = divmod(n, procs)
    return [base + (1 if i < extra else 0) for i in range(procs)]


@dataclass
class Received:
    """What one subscriber got; a client process sends these to the parent."""

    index: int
    # (seq, event type, receive time, server ts) of live events
    received: list[tuple[int, str, float, float]] = field(default_factory=list)
    replayed: int = 0
    error: str | None = None

    def to_json(self) -> list[Any]:
        return [self.index, self.received, self.replayed, self.error]

    @classmethod
    def from_json(cls, item: Sequence[Any]) -> Received:
        index, received, replayed, error = item
        events = [(int(q), str(t), float(r), float(ts)) for q, t, r, ts in received]
        return cls(int(index), events, int(replayed), error)


@dataclass
class Subscriber(Received):
    """A subscriber inside a client process, with its progress flags."""

    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


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


# --- a client process ------------------------------------------------------------------
async def _client(config: dict[str, Any], commands: asyncio.StreamReader, out: TextIO) -> None:
    """One client process: open, subscribe, report ready, stamp events, report finished;
    on the parent's ``stop`` (or end of input) send every stamp and the loop lag."""

    def send(msg: dict[str, Any]) -> None:
        out.write(json.dumps(msg) + "\n")
        out.flush()

    first, count = int(config["first_index"]), int(config["count"])
    gate = asyncio.Semaphore(int(config["connect_parallel"]))
    stop_all = asyncio.Event()
    first_live = asyncio.Event()
    subs = [Subscriber(first + i) for i in range(count)]
    t0 = time.monotonic()
    tasks = [
        asyncio.create_task(
            subscriber(config["url"], config["job_id"], s, gate, stop_all, first_live)
        )
        for s in subs
    ]
    await asyncio.gather(*(s.subscribed.wait() for s in subs))
    lag: list[float] = []
    lag_task = asyncio.create_task(loop_lag(lag, stop_all))
    send(
        {
            "type": "ready",
            "connect_s": time.monotonic() - t0,
            "errors": sum(1 for s in subs if s.error),
        }
    )

    async def report_first_live() -> None:
        await first_live.wait()
        send({"type": "first_live"})

    async def report_finished() -> None:
        await asyncio.gather(*(s.finished.wait() for s in subs))
        send({"type": "finished"})

    reporters = [
        asyncio.create_task(report_first_live()),
        asyncio.create_task(report_finished()),
    ]
    await commands.readline()  # "stop", or b"" when the parent went away
    stop_all.set()
    for task in reporters:
        task.cancel()
    await asyncio.gather(*tasks, lag_task, *reporters, return_exceptions=True)
    send({"type": "result", "subscribers": [s.to_json() for s in subs], "lag": lag})


async def _client_main(out: TextIO) -> None:
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    config = json.loads(await commands.readline())
    await _client(config, commands, out)


def client_worker() -> None:
    """Entry point of a client process: its settings come as one JSON line on stdin,
    its reports go as JSON lines to stdout (anything else printed goes to stderr)."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    try:
        asyncio.run(_client_main(out))
    finally:
        out.close()


# --- the parent's side of a client process ----------------------------------------------
@dataclass
class ClientProc:
    """A running client process, as the parent sees it."""

    proc: asyncio.subprocess.Process
    first_index: int
    count: int
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    info: dict[str, Any] = field(default_factory=dict)  # its "ready" report
    result: dict[str, Any] | None = None  # its "result" report
    pump: asyncio.Task[None] | None = None

    @property
    def failed_to_subscribe(self) -> int:
        return int(self.info.get("errors", self.count))

    def received(self) -> list[Received]:
        if self.result is None:
            error = f"client process ended ({self.proc.returncode}) without a result"
            return [Received(self.first_index + i, error=error) for i in range(self.count)]
        return [Received.from_json(item) for item in self.result["subscribers"]]


async def _pump(client: ClientProc, first_live: asyncio.Event) -> None:
    """Read a client's reports until it exits; an early exit counts as ready and finished."""
    assert client.proc.stdout is not None
    try:
        while line := await client.proc.stdout.readline():
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            kind = msg.get("type")
            if kind == "ready":
                client.info = msg
                client.ready.set()
            elif kind == "first_live":
                first_live.set()
            elif kind == "finished":
                client.finished.set()
            elif kind == "result":
                client.result = msg
    finally:
        client.ready.set()
        client.finished.set()


async def start_client(
    url: str, job_id: str, first_index: int, count: int, parallel: int, first_live: asyncio.Event
) -> ClientProc:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.ws_fanout",
        CLIENT_WORKER_FLAG,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
        limit=RESULT_LINE_LIMIT,
    )
    assert proc.stdin is not None
    config = {
        "url": url,
        "job_id": job_id,
        "first_index": first_index,
        "count": count,
        "connect_parallel": parallel,
    }
    proc.stdin.write(json.dumps(config).encode() + b"\n")
    await proc.stdin.drain()
    client = ClientProc(proc, first_index, count)
    client.pump = asyncio.create_task(_pump(client, first_live))
    return client


async def stop_client(client: ClientProc) -> None:
    """Tell the client to stop, collect its result, and make sure the process is gone."""
    proc = client.proc
    if proc.stdin is not None and not proc.stdin.is_closing():
        try:
            proc.stdin.write(b"stop\n")
            await proc.stdin.drain()
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass
    if client.pump is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.pump, 60)
    if proc.returncode is None:
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# --- one size ----------------------------------------------------------------------------
async def run_size(
    service: Server,
    key: str,
    token: str,
    n: int,
    work: Path,
    delay_s: float,
    client_procs: int | None = None,
) -> dict[str, Any]:
    blocker_script = write_script(work / "blocker.json", delay_s=600.0)
    target_script = write_script(work / f"target-{n}.json", delay_s=delay_s)
    blocker = await asyncio.to_thread(submit_job, service, key, {"script": str(blocker_script)})
    await asyncio.to_thread(wait_status, service, key, blocker, ("running",), 60)
    target = await asyncio.to_thread(submit_job, service, key, {"script": str(target_script)})

    ws_url = service.base_url.replace("http://", "ws://") + f"/ws?token={token}"
    shares = split_subscribers(n, client_procs or default_client_procs(n))
    parallel = max(1, CONNECT_PARALLEL // len(shares))
    first_live = asyncio.Event()
    clients: list[ClientProc] = []
    timed_out = False
    try:
        first = 0
        for count in shares:
            clients.append(await start_client(ws_url, target, first, count, parallel, first_live))
            first += count
        await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), RUN_TIMEOUT_S)
        connect_s = max(float(c.info.get("connect_s", 0.0)) for c in clients)
        failed_subscribe = sum(c.failed_to_subscribe for c in clients)
        print(
            f"  {n} subscribed in {connect_s:.1f}s by {len(clients)} client process(es) "
            f"({failed_subscribe} failed)",
            flush=True,
        )
        if n and failed_subscribe == n:
            raise SystemExit(f"none of the {n} subscribers subscribed (client errors above)")

        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            r = await client.post(f"/api/jobs/{blocker}/cancel", headers={"X-API-Key": key})
            r.raise_for_status()
        # The blocker stops within the runner's cancel grace; measure from the first live event.
        proc = psutil.Process(service.pid)
        await asyncio.wait_for(first_live.wait(), RUN_TIMEOUT_S)
        cpu0, wall0 = sum(proc.cpu_times()[:2]), time.monotonic()
        try:
            await asyncio.wait_for(
                asyncio.gather(*(c.finished.wait() for c in clients)), RUN_TIMEOUT_S
            )
        except TimeoutError:
            timed_out = True
        wall = time.monotonic() - wall0
        cpu = sum(proc.cpu_times()[:2]) - cpu0
    finally:
        await asyncio.gather(*(stop_client(c) for c in clients))
    subs = [r for c in clients for r in c.received()]
    lags = [list(c.result["lag"]) for c in clients if c.result is not None]
    body = await asyncio.to_thread(
        wait_status, service, key, target, ("succeeded", "failed", "cancelled"), 60
    )
    return summarise(n, subs, lags, connect_s, wall, cpu, timed_out, body["status"])


def summarise(
    n: int,
    subs: Sequence[Received],
    lags: Sequence[Sequence[float]],
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
        "client_procs": len(lags),
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
    # One ticker per client process: report the worst process.
    ticked = [lag for lag in lags if lag]
    if ticked:
        result["client_loop_lag_p99_ms"] = ms(max(percentile(list(lag), 99) for lag in ticked))
        result["client_loop_lag_max_ms"] = ms(max(max(lag) for lag in ticked))
    return result


async def run(
    sizes: list[int], delay_s: float, keep: bool, client_procs: int | None = None
) -> dict[str, Any]:
    nofile = raise_nofile_limit()  # the service process inherits it
    results: list[dict[str, Any]] = []
    with workdir(keep) as work:
        # Every subscriber is the one bench user: lift the per-user WebSocket cap.
        service = await asyncio.to_thread(
            start_service, work, {"ATELIER_WS_MAX_PER_USER": "100000"}
        )
        try:
            key = await asyncio.to_thread(create_user_key, service, "bench")
            token = await asyncio.to_thread(bearer_token, service, key)
            for n in sizes:
                result = await run_size(service, key, token, n, work, delay_s, client_procs)
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
            "client_procs": client_procs
            or f"auto: min({MAX_CLIENT_PROCS}, ceil(N / {SUBSCRIBERS_PER_PROC}))",
            "client": "separate client processes (python -m bench.ws_fanout --client-worker), "
            "asyncio + websockets library each, same machine (cores shared with the server "
            "and anything else running)",
            "nofile_limit": nofile,
        },
        "runs": results,
    }


def print_report(result: dict[str, Any]) -> None:
    rows = [
        [
            r["subscribers"],
            r.get("client_procs"),
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
                "client procs",
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse `argv` (default: the command line), run, print, write; the result dict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000", help="subscriber counts, comma-separated")
    parser.add_argument("--delay", type=float, default=0.25, help="seconds per scripted LLM call")
    parser.add_argument(
        "--client-procs",
        type=int,
        default=None,
        help=f"client processes per size (default min({MAX_CLIENT_PROCS}, "
        f"ceil(N/{SUBSCRIBERS_PER_PROC})))",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and logs")
    parser.add_argument("--name", default="ws_fanout", help="results file bench/results/NAME.json")
    args = parser.parse_args(argv)
    if args.client_procs is not None and args.client_procs < 1:
        parser.error("--client-procs must be at least 1")
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    result = asyncio.run(run(sizes, args.delay, args.keep, args.client_procs))
    print_report(result)
    path = write_result(args.name, result)
    print(f"\nwrote {path}")
    return result


if __name__ == "__main__":
    if sys.argv[1:] == [CLIENT_WORKER_FLAG]:
        client_worker()
    else:
        main()
