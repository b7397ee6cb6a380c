"""bench.ui_latency's arithmetic and its rows in the `make bench` summary."""

from __future__ import annotations

from bench.run_all import ui_latency_rows
from bench.ui_latency import _summary, quantile


def test_quantiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert quantile(values, 0.5) == 50.0 and quantile(values, 0.95) == 95.0
    assert quantile([], 0.5) is None and quantile([7.0], 0.95) == 7.0
    assert _summary([]) == {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "mean_ms": None}


def test_the_summary_rows_show_paint_and_step_latency() -> None:
    paint = {"first_contentful_paint": _summary([80.0, 120.0]), "job_shown": _summary([300.0])}
    result = {"job_page": paint, "step_finished_to_shown": _summary([20.0, 40.0, 60.0])}
    rows = ui_latency_rows(result)
    assert rows[0][2] == "FCP p50 80.0 ms, p95 120.0 ms"
    assert rows[1][2] == "p50 40.0 ms, p95 60.0 ms" and rows[1][1].startswith("3 steps")
    assert ui_latency_rows({"skipped": "chromium not installed"})[0][2].startswith("skipped")
