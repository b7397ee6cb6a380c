"""HTTP load on the running service: GET /api/jobs/{id} against a bare FastAPI endpoint,
and POST /api/jobs — issue #3's service benchmarks 1 and 2.

    python -m bench.api_load [--duration 10] [--connections 50] [--threads 1]

What it does, in one run:
- starts the real service (``python -m atelier.cli serve``) on a free port with a
  temporary data dir (SQLite), the scripted LLM provider, one job slot
  (``ATELIER_MAX_CONCURRENT_JOBS=1``) and the rate limit raised to
  ``ATELIER_RATE_LIMIT=1000000/minute`` so the limiter counts but never refuses;
- creates a user ``bench`` (``atelier keys create``), runs one real job to the end and
  starts ``bench.bare_app`` returning that job's exact JSON body, served the same way;
- drives each target with ``wrk`` (separate process, 127.0.0.1 only), a warm-up run
  then a measured run: bare app; GET with ``X-API-Key``; GET with a Bearer JWT (from
  POST /api/validate-key); POST /api/jobs while the job slot is held by a sleeping
  job (the created jobs only queue); POST /api/jobs while the runner executes the
  queued jobs one after another (full scripted pipeline, sandboxed pytest included).

Numbers are printed and written to ``bench/results/api_load.json``; nothing is asserted.
The load generator shares the machine's cores with the server: read the CPU columns.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.bare_app import raise_nofile_limit
from bench.common import table, write_result

BENCH_RATE_LIMIT = "1000000/minute"
TERMINAL = ("succeeded", "failed", "cancelled")
READY_TIMEOUT_S = 60.0
TARGET_GET_P99_MS = 25.0
TARGET_RATIO = 0.5
TARGET_POST_P99_MS = 50.0
KEY_LINE = re.compile(r"^(atl_\S+)$", re.MULTILINE)

# The scripted replies of a complete, passing one-file job (the API test suite's script).
PLAN = {
    "name": "calc",
    "summary": "A tiny calculator module.",
    "language": "python",
    "files": [{"path": "calc.py", "purpose": "add and mul", "depends_on": []}],
    "dependencies": [],
    "test_command": None,
}
CODE = "```python\ndef add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n```"
TESTS = {
    "files": [
        {
            "path": "tests/test_calc.py",
            "content": (
                "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
                "def test_mul():\n    assert mul(2, 3) == 6\n"
            ),
        }
    ]
}


def write_script(path: Path, delay_s: float = 0.0) -> Path:
    """A scripted-provider file; `delay_s` makes every LLM call sleep that long."""
    data: dict[str, Any] = {
        "planner": [PLAN],
        "coder": [CODE],
        "tester": [TESTS],
        "reviewer": [{"findings": []}],
        "documenter": ["# calc\n\nAdds and multiplies.\n"],
    }
    if delay_s:
        data["delay_s"] = delay_s
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- servers ---------------------------------------------------------------------------
@dataclass
class Server:
    """A server process of the bench, its address and its log file."""

    name: str
    proc: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    admin_key: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid


def service_env(data_dir: Path, port: int, script: Path, **extra: str) -> dict[str, str]:
    """The environment of the service: this process's, minus any ATELIER_* of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(
        {
            "ATELIER_DATA_DIR": str(data_dir),
            "ATELIER_HOST": "127.0.0.1",
            "ATELIER_PORT": str(port),
            "ATELIER_LLM_PROVIDER": "scripted",
            "ATELIER_LLM_SCRIPT": str(script),
            "ATELIER_RATE_LIMIT": BENCH_RATE_LIMIT,
            "ATELIER_MAX_CONCURRENT_JOBS": "1",
            "ATELIER_CODER_CONCURRENCY": "1",
            **extra,
        }
    )
    return env


def _wait_ready(server: Server, marker: str | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(
                f"{server.name} exited with {server.proc.returncode}:\n"
                + server.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            )
        text = server.log_path.read_text(encoding="utf-8", errors="replace")
        if marker is None or marker in text:
            try:
                if httpx.get(server.base_url + "/health", timeout=2).status_code == 200:
                    found = KEY_LINE.search(text)
                    server.admin_key = found.group(1) if found else None
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    stop(server)
    raise SystemExit(f"{server.name} did not become ready in {READY_TIMEOUT_S:.0f}s")


def start_service(
    work: Path, extra_env: dict[str, str] | None = None, module: str = "atelier.cli"
) -> Server:
    """`atelier serve` on a free port with a fresh SQLite data dir under `work`
    (`module`: what runs `serve`, e.g. bench.memtrace's wrapper)."""
    port = free_port()
    script = write_script(work / "script.json")
    env = service_env(work / "data", port, script, **(extra_env or {}))
    log_path = work / "service.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, "serve", "--port", str(port)],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server("service", proc, f"http://127.0.0.1:{port}", log_path, env=env)
    _wait_ready(server, "Atelier listening on")
    return server


def start_bare(work: Path, payload: Path | None) -> Server:
    port = free_port()
    log_path = work / "bare.log"
    cmd = [sys.executable, "-m", "bench.bare_app", "--port", str(port)]
    if payload is not None:
        cmd += ["--payload", str(payload)]
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=Path(__file__).resolve().parent.parent, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server("bare", proc, f"http://127.0.0.1:{port}", log_path)
    _wait_ready(server, None)
    return server


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)
        try:
            server.proc.wait(30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(10)


def create_user_key(server: Server, name: str) -> str:
    """`atelier keys create --name NAME` against the service's database; the new key."""
    out = subprocess.run(
        [sys.executable, "-m", "atelier.cli", "keys", "create", "--name", name],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1].strip()


def bearer_token(server: Server, api_key: str) -> str:
    r = httpx.post(server.base_url + "/api/validate-key", json={"api_key": api_key}, timeout=10)
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


def submit_job(server: Server, key: str, options: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"prompt": "A calculator module."}
    if options:
        body["options"] = options
    r = httpx.post(server.base_url + "/api/jobs", headers={"X-API-Key": key}, json=body, timeout=30)
    if r.status_code != 202:
        raise SystemExit(f"POST /api/jobs answered {r.status_code}: {r.text}")
    job_id: str = r.json()["job_id"]
    return job_id


def job_body(server: Server, key: str, job_id: str) -> dict[str, Any]:
    r = httpx.get(f"{server.base_url}/api/jobs/{job_id}", headers={"X-API-Key": key}, timeout=30)
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    return body


def wait_status(
    server: Server, key: str, job_id: str, statuses: tuple[str, ...], timeout_s: float = 180.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = job_body(server, key, job_id)
        if body["status"] in statuses:
            return body
        if time.monotonic() > deadline:
            raise SystemExit(f"job {job_id} still {body['status']} after {timeout_s:.0f}s")
        time.sleep(0.2)


def count_jobs(server: Server, key: str, status: str | None = None) -> int:
    params: dict[str, str | int] = {"limit": 1}
    if status:
        params["status"] = status
    r = httpx.get(
        server.base_url + "/api/jobs", headers={"X-API-Key": key}, params=params, timeout=60
    )
    r.raise_for_status()
    total: int = r.json()["total"]
    return total


# --- wrk -------------------------------------------------------------------------------
_DONE = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"err_connect\":%d," ..
    "\"err_read\":%d,\"err_write\":%d,\"err_status\":%d,\"err_timeout\":%d," ..
    "\"mean_us\":%.1f,\"max_us\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d," ..
    "\"p999_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_script(
    path: Path, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None
) -> Path:
    lines = [f'wrk.method = "{method}"']
    for name, value in (headers or {}).items():
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append(f"wrk.body = {_lua_string(body)}")
    path.write_text("\n".join(lines) + "\n" + _DONE, encoding="utf-8")
    return path


@dataclass
class LoadSpec:
    seconds: float
    connections: int
    threads: int
    warmup_s: float


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wrk(url: str, script: Path, seconds: float, spec: LoadSpec) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{spec.threads}",
        f"-c{spec.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    found = re.search(r"^WRKJSON (\{.*\})$", out.stdout, re.MULTILINE)
    if out.returncode != 0 or found is None:
        raise SystemExit(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def measure(name: str, server: Server, url: str, script: Path, spec: LoadSpec) -> dict[str, Any]:
    """A warm-up wrk run, then a measured one; latencies in ms, the server's CPU use."""
    if spec.warmup_s > 0:
        _wrk(url, script, spec.warmup_s, spec)
    proc = psutil.Process(server.pid)
    cpu0 = sum(proc.cpu_times()[:2])
    client0 = _children_cpu_s()
    psutil.cpu_percent(None)
    wall0 = time.monotonic()
    raw = _wrk(url, script, spec.seconds, spec)
    wall = time.monotonic() - wall0
    machine_pct = psutil.cpu_percent(None) * (psutil.cpu_count() or 1)
    cpu = sum(proc.cpu_times()[:2]) - cpu0
    client = _children_cpu_s() - client0
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in raw if k.startswith("err_"))
    result = {
        "name": name,
        "url": url.replace(server.base_url, ""),
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "p999_ms": raw["p999_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "mean_ms": round(raw["mean_us"] / 1000, 3),
        "errors": errors,
        "errors_detail": {k: v for k, v in raw.items() if k.startswith("err_")},
        "server_cpu_pct": round(100 * cpu / wall, 1),
        "wrk_cpu_pct": round(100 * client / wall, 1),
        # all cores, 100 per core: what the server, wrk and everything else used together
        "machine_cpu_pct": round(machine_pct, 1),
        "bytes_per_response": round(raw["bytes"] / raw["requests"]) if raw["requests"] else 0,
    }
    print(
        f"  {name}: {result['rps']} req/s  p50 {result['p50_ms']:.2f} ms  "
        f"p99 {result['p99_ms']:.2f} ms  errors {errors}",
        flush=True,
    )
    return result


@contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="atelier-bench-api-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


# --- the benchmark ---------------------------------------------------------------------
def run(spec: LoadSpec, keep: bool, log_level: str | None = None) -> dict[str, Any]:
    nofile = raise_nofile_limit()  # children (servers, wrk) inherit it
    runs: list[dict[str, Any]] = []
    notes: dict[str, Any] = {}
    with workdir(keep) as work:
        extra = {"ATELIER_LOG_LEVEL": log_level} if log_level else {}
        service = start_service(work, extra)
        bare: Server | None = None
        try:
            key = create_user_key(service, "bench")
            token = bearer_token(service, key)
            t0 = time.monotonic()
            job_id = submit_job(service, key)
            body = wait_status(service, key, job_id, TERMINAL)
            notes["job"] = {
                "id": job_id,
                "status": body["status"],
                "seconds_to_finish": round(time.monotonic() - t0, 2),
            }
            if body["status"] != "succeeded":
                print(f"warning: the bench job ended {body['status']}: {body.get('error')}")
            payload = work / "payload.json"
            payload.write_text(json.dumps(body), encoding="utf-8")
            bare = start_bare(work, payload)

            print(
                f"GET: {spec.connections} connections, {spec.threads} wrk thread(s), "
                f"{spec.seconds:g}s (+{spec.warmup_s:g}s warm-up) each",
                flush=True,
            )
            plain = wrk_script(work / "get_bare.lua")
            runs.append(
                measure("bare FastAPI GET", bare, f"{bare.base_url}/bare/{job_id}", plain, spec)
            )
            job_url = f"{service.base_url}/api/jobs/{job_id}"
            by_key = wrk_script(work / "get_key.lua", headers={"X-API-Key": key})
            runs.append(measure("GET /api/jobs/{id} X-API-Key", service, job_url, by_key, spec))
            by_jwt = wrk_script(work / "get_jwt.lua", headers={"Authorization": f"Bearer {token}"})
            runs.append(measure("GET /api/jobs/{id} Bearer JWT", service, job_url, by_jwt, spec))

            # POST 1: a sleeping job holds the only slot, so the created jobs just queue.
            blocker_script = write_script(work / "blocker.json", delay_s=600.0)
            blocker = submit_job(service, key, {"script": str(blocker_script)})
            wait_status(service, key, blocker, ("running",), 60)
            post_body = json.dumps({"prompt": "A calculator module."})
            post = wrk_script(
                work / "post.lua", method="POST", headers={"X-API-Key": key}, body=post_body
            )
            jobs_url = f"{service.base_url}/api/jobs"
            before = count_jobs(service, key)
            idle = measure("POST /api/jobs (runner idle)", service, jobs_url, post, spec)
            idle["jobs_created"] = count_jobs(service, key) - before
            runs.append(idle)

            # POST 2: release the slot; the runner works through the queue meanwhile.
            r = httpx.post(
                f"{service.base_url}/api/jobs/{blocker}/cancel",
                headers={"X-API-Key": key},
                timeout=30,
            )
            r.raise_for_status()
            wait_status(service, key, blocker, TERMINAL, 60)
            time.sleep(1.0)
            done0 = count_jobs(service, key, "succeeded") + count_jobs(service, key, "failed")
            before = count_jobs(service, key)
            busy = measure("POST /api/jobs (runner busy)", service, jobs_url, post, spec)
            busy["jobs_created"] = count_jobs(service, key) - before
            done1 = count_jobs(service, key, "succeeded") + count_jobs(service, key, "failed")
            busy["jobs_finished_during_run"] = done1 - done0
            runs.append(busy)
            notes["queued_at_end"] = count_jobs(service, key, "queued")
        finally:
            if bare is not None:
                stop(bare)
            stop(service)
            if keep:
                print(f"service log: {service.log_path}")
    notes["log_level"] = log_level or "INFO (service default: one JSON log line per request)"
    return _summarise(runs, spec, nofile, notes)


def _summarise(
    runs: list[dict[str, Any]], spec: LoadSpec, nofile: int, notes: dict[str, Any]
) -> dict[str, Any]:
    by_name = {r["name"]: r for r in runs}
    bare = by_name["bare FastAPI GET"]
    checks: list[dict[str, Any]] = []
    for name in ("GET /api/jobs/{id} X-API-Key", "GET /api/jobs/{id} Bearer JWT"):
        r = by_name[name]
        ratio = round(r["rps"] / bare["rps"], 3) if bare["rps"] else None
        r["ratio_to_bare"] = ratio
        checks.append(
            {
                "what": f"{name} p99 < {TARGET_GET_P99_MS:g} ms",
                "value": r["p99_ms"],
                "met": r["p99_ms"] < TARGET_GET_P99_MS,
            }
        )
        checks.append(
            {
                "what": f"{name} req/s ratio to bare >= {TARGET_RATIO:g}",
                "value": ratio,
                "met": ratio is not None and ratio >= TARGET_RATIO,
            }
        )
    for name in ("POST /api/jobs (runner idle)", "POST /api/jobs (runner busy)"):
        r = by_name[name]
        checks.append(
            {
                "what": f"{name} p99 < {TARGET_POST_P99_MS:g} ms",
                "value": r["p99_ms"],
                "met": r["p99_ms"] < TARGET_POST_P99_MS,
            }
        )
    return {
        "settings": {
            "duration_s": spec.seconds,
            "warmup_s": spec.warmup_s,
            "connections": spec.connections,
            "wrk_threads": spec.threads,
            "rate_limit": BENCH_RATE_LIMIT,
            "max_concurrent_jobs": 1,
            "database": "sqlite (temporary data dir)",
            "llm_provider": "scripted",
            "server": "python -m atelier.cli serve (uvicorn, 1 worker, auto http = httptools "
            "when installed, ATELIER_EVENT_LOOP=auto = uvloop when installed); bare: python -m "
            "bench.bare_app, same uvicorn.Config and loop",
            "load_generator": "wrk (same machine, shares the CPU cores with the servers)",
            "nofile_limit": nofile,
        },
        "runs": runs,
        "targets": checks,
        "notes": notes,
    }


def print_report(result: dict[str, Any]) -> None:
    rows = [
        [
            r["name"],
            r["rps"],
            r["p50_ms"],
            r["p99_ms"],
            r["max_ms"],
            r["errors"],
            r["server_cpu_pct"],
            r["wrk_cpu_pct"],
            r["machine_cpu_pct"],
            r.get("ratio_to_bare", ""),
        ]
        for r in result["runs"]
    ]
    print()
    print(
        table(
            [
                "run",
                "req/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "errors",
                "server CPU%",
                "wrk CPU%",
                "machine CPU%",
                "ratio",
            ],
            rows,
        )
    )
    print()
    for check in result["targets"]:
        print(f"  [{'met' if check['met'] else 'MISSED'}] {check['what']}: {check['value']}")
    notes = result["notes"]
    for r in result["runs"]:
        if "jobs_created" in r:
            extra = (
                f", {r['jobs_finished_during_run']} jobs finished meanwhile"
                if "jobs_finished_during_run" in r
                else ""
            )
            print(f"  {r['name']}: {r['jobs_created']} jobs created{extra}")
    print(
        f"  queued at the end: {notes.get('queued_at_end')}; the bench job took "
        f"{notes['job']['seconds_to_finish']}s ({notes['job']['status']})"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse `argv` (default: the command line), run, print, write; the result dict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--log-level", default=None, help="ATELIER_LOG_LEVEL of the service")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and logs")
    parser.add_argument("--name", default="api_load", help="results file bench/results/NAME.json")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    spec = LoadSpec(args.duration, args.connections, args.threads, args.warmup)
    result = run(spec, args.keep, args.log_level)
    print_report(result)
    path = write_result(args.name, result)
    print(f"\nwrote {path}")
    return result


if __name__ == "__main__":
    main()
