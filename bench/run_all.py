"""`make bench`: the quick set — local tokens/s, pipeline overhead, dependency
environments (flask and express: cold cache, warm cache, reused), the two service
benchmarks (HTTP load with wrk, WebSocket fan-out to 1, 100 and 1,000 subscribers, a 30 s
soak with 1,000 WebSocket clients coming and going, 500 chaos jobs), the
web UI's latency in headless chromium (job page first paint, step finished → shown) and a
small quality run (a few HumanEval problems and two projects, one Python and one
JavaScript) — then one summary table. Results go to bench/results/ (the quality ones
tagged `quick`, so they never overwrite a long `make bench-quality` run).

    python -m bench.run_all [--model qwen2.5-coder-0.5b] [--limit 5] [--projects 2]
                            [--skip-service] [--skip-quality]
"""

from __future__ import annotations

import argparse
import shutil
import time
from typing import Any

from atelier.settings import Settings
from bench import (
    api_load,
    chaos,
    dependency_env,
    local_tokens,
    pipeline_overhead,
    quality,
    scale_out,
    soak,
    ui_latency,
    ws_fanout,
)
from bench.common import table, write_result

WS_SIZES = "1,100,1000"
GET_RUNS = ("GET /api/jobs/{id} X-API-Key", "GET /api/jobs/{id} Bearer JWT")
POST_RUNS = ("POST /api/jobs (runner idle)", "POST /api/jobs (runner busy)")


# The product's default local model, whatever the environment overrides.
DEFAULT_MODEL: str = Settings(_env_file=None).local_default_model  # type: ignore[call-arg]

def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def api_load_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Summary rows of an api_load.main() result: GET req/s, p99 and ratio to the bare
    app, POST p99, each against its target."""
    runs = {r["name"]: r for r in result["runs"]}
    settings = result.get("settings", {})
    subject = f"wrk, {settings.get('connections')} conns, {settings.get('duration_s')}s"
    rows: list[list[Any]] = []
    bare = runs.get("bare FastAPI GET")
    for name in GET_RUNS:
        r = runs.get(name)
        if r is None:
            continue
        p99, ratio = r["p99_ms"], r.get("ratio_to_bare")
        if ratio is None and bare and bare["rps"]:
            ratio = round(r["rps"] / bare["rps"], 3)
        p99_target = f"p99 < {api_load.TARGET_GET_P99_MS:g} ms"
        ratio_target = f">= {api_load.TARGET_RATIO:g}"
        rows.append([name, subject,
                     f"{r['rps']} req/s, p99 {p99} ms ({p99_target}: "
                     f"{_met(p99 < api_load.TARGET_GET_P99_MS)})",
                     f"{ratio}× bare {bare['rps'] if bare else '?'} req/s ({ratio_target}: "
                     f"{_met(ratio is not None and ratio >= api_load.TARGET_RATIO)})"])
    for name in POST_RUNS:
        r = runs.get(name)
        if r is None:
            continue
        p99 = r["p99_ms"]
        rows.append([name, subject, f"{r['rps']} req/s, p99 {p99} ms",
                     f"p99 < {api_load.TARGET_POST_P99_MS:g} ms: "
                     f"{_met(p99 < api_load.TARGET_POST_P99_MS)}"])
    return rows


def ws_fanout_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Summary rows of a ws_fanout.main() result: p99 delivery latency at each size."""
    rows: list[list[Any]] = []
    for r in result["runs"]:
        n = r["subscribers"]
        rows.append([f"WebSocket fan-out p99 ({n} subscribers)",
                     f"{r.get('client_procs')} client process(es)",
                     f"p99 {r.get('p99_ms')} ms (p50 {r.get('p50_ms')} ms)",
                     f"{r['complete_subscribers']}/{n} complete, client loop lag p99 "
                     f"{r.get('client_loop_lag_p99_ms')} ms"])
    return rows


def ui_latency_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Summary rows of a ui_latency.main() result: job page paint, step → page latency."""
    if "skipped" in result:
        return [["web UI latency", "chromium", f"skipped: {result['skipped']}", ""]]
    paint, live = result["job_page"], result["step_finished_to_shown"]
    fcp, shown = paint["first_contentful_paint"], paint["job_shown"]
    return [
        ["job page first paint", f"headless chromium, {fcp['n']} loads",
         f"FCP p50 {fcp['p50_ms']} ms, p95 {fcp['p95_ms']} ms",
         f"job shown p50 {shown['p50_ms']} ms, p95 {shown['p95_ms']} ms"],
        ["step finished → shown in the page", f"{live['n']} steps, WebSocket",
         f"p50 {live['p50_ms']} ms, p95 {live['p95_ms']} ms", f"max {live['max_ms']} ms"],
    ]


def soak_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Summary rows of a soak.main() result: requests and errors, p99, jobs' books, RSS
    and open descriptors of the server at the start and the end."""
    req, jobs, srv = result["requests"], result["jobs"], result["server"]
    subject = (f"{result['settings']['duration_s']:g} s at {result['settings']['rate_per_s']:g} "
               f"req/s, {result['settings']['ws_clients']} WebSocket clients")
    return [
        ["soak", subject,
         f"{req['tried']} requests, {req['errors']} errors, {req['5xx']} 5xx; p99 "
         f"{req['p99_ms']} ms (slowest route {req['slowest_route_p99_ms']} ms)",
         f"jobs stuck/lost/double-paid {jobs['stuck']}/{jobs['lost']}/{jobs['double_paid']}: "
         f"{_met(result['passed'])}"],
        ["soak: server resources", "start → end",
         f"RSS {srv['rss_start_mb']} → {srv['rss_end_mb']} MB",
         f"fds {srv['fds_start']} → {srv['fds_end']} (other than the database's "
         f"{srv['other_fds_start']} → {srv['other_fds_end']}), sockets "
         f"{srv['sockets_start']} → {srv['sockets_end']}"],
    ]


def chaos_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Summary row of a chaos.main() result: the books after faults and restarts."""
    ok = result["stuck_running"] == result["lost"] == result["double_paid"] == 0
    return [["chaos jobs", f"{result['jobs']} jobs, {result['restarts']} restarts, "
             f"{sum(result['faults_injected'].values())} faults",
             f"{result['statuses']} in {result['seconds']} s",
             f"stuck/lost/double-paid {result['stuck_running']}/{result['lost']}/"
             f"{result['double_paid']}: {_met(ok)}"]]


def scale_out_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Summary rows of a scale_out.main() result: jobs/min per worker count, the 1 → 2
    scaling against its target, the queueing delay p95."""
    latency = result["settings"]["latency_s"]
    rows: list[list[Any]] = [
        [f"scale-out, {r['workers']} worker(s)", f"{r['jobs']} scripted jobs, {latency:g} s/call",
         f"{r['jobs_per_min']} jobs/min", f"{r['speedup']}× 1 worker"]
        for r in result["runs"]
    ]
    efficiency = result.get("efficiency_1_to_2")
    if efficiency is not None:
        target = result["target_efficiency"]
        rows.append(["scale-out efficiency 1 → 2 workers", "", f"{efficiency}×",
                     f">= {target:g}: {_met(efficiency >= target)}"])
    delay = result["queueing_delay"]
    rows.append(["queueing delay POST → first step", f"{delay['probes']} jobs, idle workers",
                 f"p95 {delay['p95_ms']} ms (p50 {delay['p50_ms']} ms)", ""])
    return rows


def dependency_env_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Summary rows of a dependency_env.main() result: warm and reused against cold."""
    rows: list[list[Any]] = []
    for r in result["results"]:
        target = ""
        if "warm_target_met" in r:
            target = f"; warm < {r['warm_target_s']:g} s: {_met(r['warm_target_met'])}"
        rows.append([f"dependency env ({r['language']} {r['package']})",
                     f"{r['packages_installed']} packages, median of {r['reps']}",
                     f"warm {r['warm_s']} s, reused {r['reused_s']} s",
                     f"{r['warm_ratio_to_cold']}× cold {r['cold_s']} s{target}"])
    return rows


def quality_rows(q: dict[str, Any], model: str) -> list[list[Any]]:
    """Summary rows of a quality.main() result: HumanEval and project level."""
    rows: list[list[Any]] = []
    if "humaneval" in q:
        he = q["humaneval"]["strategies"]
        single, best = he.get("single", {}), he.get("resample+repair", {})
        rows.append([f"HumanEval pass@1 ({q['humaneval']['problems']} problems)", model,
                     f"single {single.get('passed')}/{single.get('problems')}, pipeline "
                     f"{best.get('passed')}/{best.get('problems')}",
                     f"{best.get('lift_points')} pts at {best.get('token_ratio')}× tokens"])
    if "projects" in q:
        pr = q["projects"]["strategies"]
        ps, pp = pr.get("single", {}), pr.get("resample+repair", {})
        rows.append([f"projects all green ({len(q['projects']['projects'])})", model,
                     f"single {ps.get('projects_all_passed')}, pipeline "
                     f"{pp.get('projects_all_passed')}",
                     f"tests {ps.get('acceptance_tests_passed')} → "
                     f"{pp.get('acceptance_tests_passed')} of {pp.get('acceptance_tests_total')}"])
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL, help="model of the quality run")
    p.add_argument("--tokens-model", default="smollm2-135m", help="model of the tokens/s run")
    p.add_argument("--limit", type=int, default=5, help="HumanEval problems")
    p.add_argument("--projects", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-service", action="store_true",
                   help="skip the service benchmarks (api_load, ws_fanout, ui_latency, scale_out)")
    p.add_argument("--skip-quality", action="store_true")
    args = p.parse_args(argv)
    started = time.monotonic()

    print("== 1. local provider tokens/s ==")
    tokens = local_tokens.main(["--model", args.tokens_model, "--reps", "3",
                                "--threads", str(args.threads)])
    print("\n== 2. pipeline overhead ==")
    overhead = pipeline_overhead.main(["--files", "20", "--reps", "5"])
    rows: list[list[Any]] = [
        ["local tokens/s", args.tokens_model,
         f"{tokens['atelier_tokens_per_s']} vs raw {tokens['raw_tokens_per_s']}",
         f"{tokens['ratio']}× raw"],
        ["pipeline overhead", "20 files, scripted",
         f"{overhead['excl_sandbox_ms']} ms excl. sandbox ({overhead['sandbox_ms']} ms sandbox)",
         f"{overhead['overhead_ratio']}× raw LLM calls"],
    ]
    print("\n== 3. dependency environments ==")
    rows += dependency_env_rows(dependency_env.main(["--reps", "3"]))
    if not args.skip_service:
        print("\n== 4. service HTTP load (api_load) ==")
        if shutil.which("wrk") is None:
            print("wrk not found (apt-get install -y wrk): skipped")
            rows.append(["service HTTP load", "wrk", "skipped: wrk not installed", ""])
        else:
            rows += api_load_rows(api_load.main([]))
        print("\n== 5. service WebSocket fan-out (ws_fanout) ==")
        rows += ws_fanout_rows(ws_fanout.main(["--sizes", WS_SIZES]))
        print("\n== 5b. scale-out: Celery workers (scale_out) ==")
        rows += scale_out_rows(scale_out.main([]))
        print("\n== 6. web UI latency (ui_latency) ==")
        rows += ui_latency_rows(ui_latency.main([]))
        print("\n== 6b. soak, quick (soak --quick) and chaos jobs (chaos) ==")
        rows += soak_rows(soak.main(["--quick"]))
        rows += chaos_rows(chaos.main([]))
    if not args.skip_quality:
        print("\n== 7. quality (quick: tagged `quick`) ==")
        q = quality.main(["--suite", "all", "--model", args.model, "--limit", str(args.limit),
                          "--projects", str(args.projects), "--threads", str(args.threads),
                          "--strategies", "single,resample+repair", "--tag", "quick",
                          "--no-step-timing"])
        rows += quality_rows(q, args.model)
    elapsed = round(time.monotonic() - started, 1)
    print(f"\n== summary ({elapsed}s) ==")
    print(table(["benchmark", "subject", "measured", "vs baseline"], rows))
    data = {"rows": rows, "elapsed_s": elapsed}
    write_result("run_all", data)
    return data


if __name__ == "__main__":
    main()
