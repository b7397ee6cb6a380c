"""The web UI's latency in a real browser (headless Debian Chromium via Playwright).

    python -m bench.ui_latency [--jobs 3] [--loads 10] [--delay 0.3]

Against a real ``atelier serve`` (scripted provider, temporary SQLite data dir, as in
``bench.api_load``):

1. **first paint of the job page**: a finished job's page is loaded ``--loads`` times in
   a signed-in browser (assets cached after the first load, as for a returning user);
   reports, from the navigation start, the browser's first-contentful-paint, the moment
   the page shows the job (status, verdict: the page's `atelier:job-shown` mark) and the
   moment its timeline has caught up over the WebSocket (`atelier:timeline-caught-up`),
   p50 / p95.
2. **step finished → shown**: ``--jobs`` jobs whose every model call sleeps ``--delay``
   s are each watched from their page, opened as soon as the job is submitted. For
   every step that finishes while the page is live, the latency is the moment the
   page drew it (``Date.now()`` in the page) minus the event's server-side ``ts``
   (set when the step finished, before it is stored and published). Server and
   browser share the clock. p50 / p95 / max over all those steps.

Numbers go to ``bench/results/ui_latency.json``; nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path
from typing import Any

from bench.api_load import (
    Server,
    start_service,
    stop,
    submit_job,
    wait_status,
    workdir,
    write_script,
)
from bench.common import write_result

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TERMINAL = ("succeeded", "failed", "cancelled")


def quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile, rounded to 0.1 ms; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(q * len(ordered))) - 1], 1)


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": quantile(values, 0.5),
        "p95_ms": quantile(values, 0.95),
        "max_ms": round(max(values), 1) if values else None,
        "mean_ms": round(statistics.fmean(values), 1) if values else None,
    }


def _sign_in(page: Any, server: Server) -> None:
    page.goto(server.base_url + "/signin")
    page.fill("#api-key", server.admin_key)
    page.press("#api-key", "Enter")
    page.wait_for_selector("#who:not(:empty)")


def first_paint(page: Any, server: Server, job_id: str, loads: int) -> dict[str, Any]:
    fcp: list[float] = []
    shown: list[float] = []
    caught_up: list[float] = []
    url = f"{server.base_url}/jobs/{job_id}"
    for _ in range(loads):
        page.goto(url)
        page.wait_for_selector("#verdict:not([hidden])")
        page.wait_for_selector('#step-package[data-state="done"]')
        timing = page.evaluate(
            """() => {
              const nav = performance.getEntriesByType('navigation')[0];
              const paint = performance.getEntriesByName('first-contentful-paint')[0];
              const mark = (name) => {
                const m = performance.getEntriesByName(name)[0];
                return m ? m.startTime - (nav ? nav.startTime : 0) : null;
              };
              return {fcp: paint ? paint.startTime : null, shown: mark('atelier:job-shown'),
                      caught_up: mark('atelier:timeline-caught-up')};
            }"""
        )
        for key, into in (("fcp", fcp), ("shown", shown), ("caught_up", caught_up)):
            if timing[key] is not None:
                into.append(float(timing[key]))
    return {
        "first_contentful_paint": _summary(fcp),
        "job_shown": _summary(shown),
        "timeline_caught_up": _summary(caught_up),
    }


def step_latency(page: Any, server: Server, script: Path, jobs: int) -> dict[str, Any]:
    latencies: list[float] = []
    for _ in range(jobs):
        job_id = submit_job(server, server.admin_key or "", {"script": str(script)})
        page.goto(f"{server.base_url}/jobs/{job_id}")
        page.wait_for_selector("#status[data-status]")
        deadline = time.monotonic() + 180
        while page.get_attribute("#status", "data-status") not in TERMINAL:
            if time.monotonic() > deadline:
                raise SystemExit(f"job {job_id} did not finish")
            page.wait_for_timeout(100)
        live_at = float(page.get_attribute("body", "data-live-at") or 0)
        stamps = page.eval_on_selector_all(
            "#timeline li[data-event-ts]",
            "els => els.map(e => [Number(e.dataset.eventTs), Number(e.dataset.shownAt)])",
        )
        latencies += [shown - ts for ts, shown in stamps if ts >= live_at]
        wait_status(server, server.admin_key or "", job_id, TERMINAL)
    return _summary(latencies)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.ui_latency", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=3, help="jobs watched live")
    p.add_argument("--loads", type=int, default=10, help="loads of a finished job's page")
    p.add_argument("--delay", type=float, default=0.3, help="seconds per scripted model call")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found (apt-get install -y chromium): skipped")
        return {"skipped": "chromium not installed"}
    from playwright.sync_api import sync_playwright

    with workdir(args.keep) as work:
        server = start_service(work)
        try:
            script = write_script(work / "slow.json", delay_s=args.delay)
            finished = submit_job(server, server.admin_key or "")
            wait_status(server, server.admin_key or "", finished, TERMINAL)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                _sign_in(page, server)
                paint = first_paint(page, server, finished, args.loads)
                live = step_latency(page, server, script, args.jobs)
                browser.close()
        finally:
            stop(server)
    result = {
        "settings": {"jobs": args.jobs, "loads": args.loads, "delay_s": args.delay},
        "job_page": paint,
        "step_finished_to_shown": live,
    }
    fcp, shown = paint["first_contentful_paint"], paint["job_shown"]
    caught = paint["timeline_caught_up"]
    print(f"job page first contentful paint: p50 {fcp['p50_ms']} ms, p95 {fcp['p95_ms']} ms "
          f"({fcp['n']} loads)")
    print(f"job page shows the job: p50 {shown['p50_ms']} ms, p95 {shown['p95_ms']} ms; "
          f"timeline caught up: p50 {caught['p50_ms']} ms, p95 {caught['p95_ms']} ms")
    print(f"step finished on the server → shown on the page: p50 {live['p50_ms']} ms, "
          f"p95 {live['p95_ms']} ms, max {live['max_ms']} ms ({live['n']} steps)")
    write_result("ui_latency", result)
    return result


if __name__ == "__main__":
    main()
