"""The held-out and plain request sets (bench/heldout, bench/plain): the right sizes,
no examples in any prompt, plain prompts really plain, and every held-out reference
passing its own acceptance tests in the sandbox."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from bench.plain_requests import aggregate_plain, judgement, write_review_sheet
from bench.project_level import (
    HELDOUT_DIR,
    PLAIN_DIR,
    ProjectSpec,
    check_references,
    load_projects,
)
from bench.quality import plain_strategies

from atelier.agents.planner import is_plain_request, named_source_files
from atelier.spec.examples import parse_examples
from atelier.spec.inline_examples import parse_inline_examples

HELDOUT = load_projects(directory=HELDOUT_DIR)
PLAIN = load_projects(directory=PLAIN_DIR)


def test_heldout_set_sizes_and_layout() -> None:
    languages = [p.language for p in HELDOUT]
    assert len(HELDOUT) >= 8
    assert languages.count("python") >= 5 and languages.count("javascript") >= 3
    for project in HELDOUT:
        assert 4 <= project.expected_tests <= 8, project.name
        assert any((HELDOUT_DIR / project.name / "reference").iterdir()), project.name
        assert json.loads((HELDOUT_DIR / project.name / "spec.json").read_text())["summary"]
    assert "never tune" in (HELDOUT_DIR / "README.md").read_text().lower()


def test_plain_set_size_and_review_templates() -> None:
    assert len(PLAIN) >= 6
    assert {p.language for p in PLAIN} == {"python", "javascript"}
    for project in PLAIN:
        assert project.acceptance == {}, project.name  # names are the model's choice
        assert (PLAIN_DIR / project.name / "review.md").is_file(), project.name


@pytest.mark.parametrize("project", HELDOUT + PLAIN, ids=lambda p: p.name)
def test_prompts_have_no_examples(project: ProjectSpec) -> None:
    assert parse_examples(project.prompt) == []
    assert parse_inline_examples(project.prompt) == []
    for marker in (">>>", "Input:", "Output:"):
        assert marker not in project.prompt


@pytest.mark.parametrize("project", HELDOUT, ids=lambda p: p.name)
def test_heldout_prompts_name_their_module(project: ProjectSpec) -> None:
    assert named_source_files(project.prompt)
    assert not is_plain_request(project.prompt)


@pytest.mark.parametrize("project", PLAIN, ids=lambda p: p.name)
def test_plain_prompts_are_plain(project: ProjectSpec) -> None:
    assert named_source_files(project.prompt) == []
    assert is_plain_request(project.prompt)


def test_heldout_acceptance_tests_pass_on_the_reference_solutions() -> None:
    results = check_references(HELDOUT_DIR)
    assert len(results) == len(HELDOUT)
    failing = {name: acc["output_tail"][-600:] for name, acc in results
               if not acc["all_passed"]}
    assert failing == {}


def test_plain_strategies_add_no_baseline() -> None:
    assert plain_strategies("resample+repair") == ["resample+repair"]
    assert plain_strategies("single,resample+repair") == ["single", "resample+repair"]


def _plain_record(name: str, strategy: str, verdict: str | None, wall: float,
                  steps: dict[str, float]) -> dict[str, object]:
    return {"project": name, "strategy": strategy, "model": "m", "verdict": verdict,
            "status": "succeeded", "wall_s": wall, "steps_s": steps,
            "completion_tokens": 100, "prompt_tokens": 1000}


def test_plain_aggregate_counts_verified_and_reviewed(tmp_path: Path) -> None:
    records = [
        _plain_record("a", "resample+repair", "verified", 100.0, {"plan": 10.0, "code": 30.0}),
        _plain_record("b", "resample+repair", "failing", 200.0, {"plan": 20.0, "code": 50.0}),
        _plain_record("c", "resample+repair", "verified", 300.0, {"plan": 30.0}),
    ]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "review-resample+repair.md").write_text("x\n**Judgement: correct**\n")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "review-resample+repair.md").write_text(
        "**Judgement: correct / partly correct / wrong** — ______")
    agg = aggregate_plain(records, ["resample+repair"], ["a", "b", "c", "never-ran"], tmp_path)
    row = agg["strategies"]["resample+repair"]
    assert agg["requests"] == ["a", "b", "c"]
    assert (row["requests"], row["verified"], row["verified_projects"]) == (3, 2, ["a", "c"])
    assert (row["reviewed"], row["verified_and_reviewed_correct"]) == (1, 1)
    assert row["median_step_s"] == {"plan": 20.0, "code": 40.0}
    assert row["median_wall_s"] == 200.0
    assert (row["completion_tokens"], row["prompt_tokens"]) == (300, 3000)
    assert row["verdicts"] == {"a": "verified", "b": "failing", "c": "verified"}


def test_review_sheet_is_the_template_headed_by_the_job(tmp_path: Path) -> None:
    project = PLAIN[0]
    record = _plain_record(project.name, "single", "untested", 12.0, {})
    sheet = write_review_sheet(project, record, tmp_path)
    text = sheet.read_text()
    assert sheet == tmp_path / project.name / "review-single.md"
    assert "verdict untested" in text and project.prompt in text
    assert judgement(text) is None
    assert judgement(text.replace("correct / partly correct / wrong", "partly correct")) == (
        "partly correct")


def test_quality_parser_knows_the_new_suites() -> None:
    from bench.quality import parser

    for suite in ("heldout", "plain"):
        args = parser().parse_args(["--suite", suite, "--project-names", "x"])
        assert isinstance(args, argparse.Namespace) and args.suite == suite
