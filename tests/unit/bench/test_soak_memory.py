"""bench.soak's memory verdict: warm-up told apart from growth."""

from __future__ import annotations

from typing import Any

from bench.soak import memory_verdict, slope_per_min


def _series(rss: list[float], every_s: float = 10.0) -> list[dict[str, Any]]:
    return [{"t_s": i * every_s, "rss_mb": mb, "fds": 30} for i, mb in enumerate(rss)]


def test_slope_is_per_minute() -> None:
    assert slope_per_min([(0.0, 100.0), (60.0, 102.0), (120.0, 104.0)]) == 2.0
    assert slope_per_min([(0.0, 100.0)]) is None


def test_a_warm_up_step_then_a_plateau_is_flat() -> None:
    rss = [100.0, 110.0, 115.0, 118.0] + [118.0 + (i % 2) * 0.3 for i in range(20)]
    verdict = memory_verdict(_series(rss), duration_s=240.0, rss_end_mb=118.2)
    assert verdict["rss_after_warmup_mb"] == 118.0
    assert verdict["flat"] is True


def test_steady_growth_after_the_warm_up_is_not_flat() -> None:
    rss = [100.0 + 0.25 * i for i in range(25)]  # 1.5 MB/min, all along
    verdict = memory_verdict(_series(rss), duration_s=240.0, rss_end_mb=106.0)
    assert verdict["rss_slope_second_half_mb_per_min"] == 1.5
    assert verdict["flat"] is False


def test_a_short_run_gets_no_verdict() -> None:
    verdict = memory_verdict(_series([100.0, 101.0, 102.0]), duration_s=30.0, rss_end_mb=102.0)
    assert verdict["flat"] is None
