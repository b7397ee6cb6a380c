"""The benchmark's own arithmetic and scoring: wrong here means wrong numbers everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bench.common import HUMANEVAL_PATH, load_humaneval
from bench.humaneval import SPEC_TEMPLATE, aggregate
from bench.pipeline_overhead import build_script
from bench.project_level import check_references, load_projects
from bench.quality import parse_strategies
from bench.scoring import module_defining, python_module_of, score_humaneval

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


@pytest.mark.skipif(not HUMANEVAL_PATH.is_file(), reason="HumanEval data not present")
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
