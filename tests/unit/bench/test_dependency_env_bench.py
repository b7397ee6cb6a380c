"""The dependency environment benchmark's arithmetic: medians, ratios to cold, the target."""

from __future__ import annotations

from bench.dependency_env import Timing, line, summarise
from bench.run_all import dependency_env_rows


def _runs(*seconds: float, reused: bool = False) -> list[Timing]:
    return [Timing(seconds=s, packages=7, reused=reused, findings=[]) for s in seconds]


def test_summary_takes_medians_and_ratios_to_cold() -> None:
    result = summarise("python", "flask", _runs(2.0, 3.0, 2.4), _runs(0.5, 0.41, 0.3),
                       _runs(0.02, 0.01, 0.03, reused=True), [])

    assert (result["cold_s"], result["warm_s"], result["reused_s"]) == (2.4, 0.41, 0.02)
    assert result["warm_ratio_to_cold"] == 0.171
    assert result["reused_ratio_to_cold"] == 0.008
    assert result["warm_target_met"] is True
    assert result["packages_installed"] == 7
    assert line(result) == ("python flask: cold 2.40 s, warm 0.41 s (ratio 0.171), "
                            "reused 0.020 s (ratio 0.008)")


def test_javascript_has_no_warm_target_and_a_slow_warm_python_misses_it() -> None:
    js = summarise("javascript", "express", _runs(4.0), _runs(1.5), _runs(0.002), [])
    slow = summarise("python", "flask", _runs(3.0), _runs(1.2), _runs(0.3), [])

    assert "warm_target_met" not in js
    assert slow["warm_target_met"] is False
    rows = dependency_env_rows({"results": [slow, js]})
    assert rows[0][0] == "dependency env (python flask)"
    assert rows[0][3] == "0.4× cold 3.0 s; warm < 1 s: MISSED"
    assert rows[1][3] == "0.375× cold 4.0 s"
