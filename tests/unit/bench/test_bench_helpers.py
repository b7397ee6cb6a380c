"""The benchmark's own arithmetic and scoring: wrong here means wrong numbers everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bench.common import load_humaneval
from bench.humaneval import SPEC_TEMPLATE, aggregate
from bench.pipeline_overhead import build_script
from bench.project_level import check_references, load_projects
from bench.quality import parse_strategies
from bench.run_all import api_load_rows, ws_fanout_rows
from bench.scoring import module_defining, python_module_of, score_humaneval
from bench.ws_fanout import Received, default_client_procs, split_subscribers, summarise

from atelier.agents.planner import PlannerReply, build_plan


def _record(task: str, strategy: str, passed: bool, tokens: int) -> dict[str, Any]:
    return {"task_id": task, "strategy": strategy, "passed": passed,
            "completion_tokens": tokens, "prompt_tokens": 0, "calls": 1, "wall_s": 1.0}


def test_aggregate_compares_only_problems_every_strategy_finished() -> None:
    records = [
        _record("HumanEval/0", "single", True, 100),
        _record("HumanEval/0", "repair", True, 200),
        _record("HumanEval/1", "single", False, 100),
        _record("HumanEval/1", "repair", True, 300),
        _record("HumanEval/2", "single", True, 100),  # repair never ran: left out
    ]
    agg = aggregate(records, ["single", "repair"])
    assert agg["problems"] == 2
    single, repair = agg["strategies"]["single"], agg["strategies"]["repair"]
    assert (single["passed"], repair["passed"]) == (1, 2)
    assert repair["lift_points"] == 50.0
    assert repair["token_ratio"] == 2.5
    assert repair["gained"] == ["HumanEval/1"] and repair["lost"] == []


def test_single_is_always_the_baseline() -> None:
    assert parse_strategies("resample+repair") == ["single", "resample+repair"]
    with pytest.raises(SystemExit):
        parse_strategies("magic")


def test_module_defining_finds_the_entry_point() -> None:
    files = {"helpers.py": "def other():\n    pass\n",
             "src/pkg/core.py": "def target(x):\n    return x\n"}
    assert module_defining("target", files) == "pkg.core"
    assert module_defining("missing", files) is None
    assert python_module_of("pkg/__init__.py") == "pkg"


async def test_humaneval_scoring_passes_canonical_and_fails_wrong_code() -> None:
    problem = load_humaneval()[0]
    good = {"solution.py": problem["prompt"] + problem["canonical_solution"]}
    bad = {"solution.py": problem["prompt"] + "    return not True\n"}
    assert (await score_humaneval(good, problem)).passed
    assert not (await score_humaneval(bad, problem)).passed
    assert "{prompt}" in SPEC_TEMPLATE


def test_overhead_script_plans_twenty_files_with_dependencies() -> None:
    script = build_script(20)
    plan = build_plan(PlannerReply.model_validate(script["planner"][0]))
    assert len(plan.files) == 20
    assert sum(bool(f.depends_on) for f in plan.files) == 15
    assert len(script["coder"]) == 20
    assert json.loads(json.dumps(script["tester"][0]))["files"]


def test_project_specs_cover_both_languages() -> None:
    projects = load_projects()
    assert len(projects) >= 8
    assert {p.language for p in projects} == {"python", "javascript"}
    assert all(p.expected_tests > 0 for p in projects)


def test_acceptance_tests_pass_on_the_reference_solutions() -> None:
    failing = [name for name, acc in check_references() if not acc["all_passed"]]
    assert failing == []


def test_subscribers_are_split_evenly_over_client_processes() -> None:
    assert [default_client_procs(n) for n in (1, 100, 250, 251, 1000, 5000)] == [1, 1, 1, 2, 4, 4]
    assert split_subscribers(1000, 4) == [250, 250, 250, 250]
    assert split_subscribers(10, 4) == [3, 3, 2, 2]
    assert split_subscribers(2, 4) == [1, 1]  # never a process without subscribers
    assert split_subscribers(7, 0) == [7]
    for n, procs in ((1, 1), (101, 3), (1000, 7)):
        assert sum(split_subscribers(n, procs)) == n


def test_fanout_summary_over_client_processes() -> None:
    # two subscribers (in two client processes), two live events each: ts 10.0 and 20.0
    subs = [
        Received(0, [(1, "a", 10.010, 10.0), (2, "b", 20.020, 20.0)]),
        Received(1, [(1, "a", 10.030, 10.0), (2, "b", 20.040, 20.0)]),
        Received(2, error="ConnectionClosed: gone"),
    ]
    back = Received.from_json(json.loads(json.dumps(subs[0].to_json())))
    assert back == subs[0]
    lags = [[0.001, 0.002], [0.005, 0.050], []]
    r = summarise(3, subs, lags, 1.0, 2.0, 0.5, False, "succeeded")
    assert (r["live_events"], r["deliveries"], r["complete_subscribers"]) == (2, 4, 2)
    assert r["errors"] == 1 and r["client_procs"] == 3
    assert r["p50_ms"] == 20.0 and r["max_ms"] == 40.0
    assert r["fanout_spread_max_ms"] == 20.0
    # the worst client process is reported
    assert r["client_loop_lag_p99_ms"] == 50.0 and r["client_loop_lag_max_ms"] == 50.0


def _api_run(name: str, rps: float, p99: float, ratio: float | None = None) -> dict[str, Any]:
    run: dict[str, Any] = {"name": name, "rps": rps, "p99_ms": p99}
    if ratio is not None:
        run["ratio_to_bare"] = ratio
    return run


def test_service_summary_rows() -> None:
    api = {
        "settings": {"connections": 50, "duration_s": 10.0},
        "runs": [
            _api_run("bare FastAPI GET", 1000.0, 10.0),
            _api_run("GET /api/jobs/{id} X-API-Key", 600.0, 20.0, 0.6),
            _api_run("GET /api/jobs/{id} Bearer JWT", 400.0, 30.0, 0.4),
            _api_run("POST /api/jobs (runner idle)", 300.0, 40.0),
            _api_run("POST /api/jobs (runner busy)", 100.0, 60.0),
        ],
    }
    rows = api_load_rows(api)
    assert [r[0] for r in rows] == [
        "GET /api/jobs/{id} X-API-Key",
        "GET /api/jobs/{id} Bearer JWT",
        "POST /api/jobs (runner idle)",
        "POST /api/jobs (runner busy)",
    ]
    key, jwt, idle, busy = rows
    assert "600.0 req/s, p99 20.0 ms" in key[2] and "p99 < 25 ms: met" in key[2]
    assert "0.6× bare 1000.0 req/s" in key[3] and ">= 0.5: met" in key[3]
    assert "p99 < 25 ms: MISSED" in jwt[2] and ">= 0.5: MISSED" in jwt[3]
    assert idle[3] == "p99 < 50 ms: met" and busy[3] == "p99 < 50 ms: MISSED"

    ws = {"runs": [
        {"subscribers": n, "client_procs": procs, "p50_ms": p50, "p99_ms": p99,
         "complete_subscribers": n, "client_loop_lag_p99_ms": 3.0}
        for n, procs, p50, p99 in ((1, 1, 5.0, 9.0), (1000, 4, 50.0, 120.0))
    ]}
    rows = ws_fanout_rows(ws)
    assert [r[0] for r in rows] == [
        "WebSocket fan-out p99 (1 subscribers)", "WebSocket fan-out p99 (1000 subscribers)"
    ]
    assert rows[1][1] == "4 client process(es)"
    assert rows[1][2] == "p99 120.0 ms (p50 50.0 ms)"
    assert rows[1][3].startswith("1000/1000 complete")
