"""The pipeline's verdict on real runs (scripted LLM, real sandbox) and its final event."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from atelier.domain.events import Event
from atelier.domain.job import JobResult
from atelier.domain.spec import Budgets, JobOptions, Spec
from atelier.pipeline.memory import InMemoryCheckpointStore
from atelier.pipeline.models import build_role_llms
from atelier.pipeline.run import run_pipeline
from atelier.settings import Settings

from .scripts import BUGGY_OPS, INIT, script

ScriptWriter = Callable[[dict[str, Any]], Path]


async def run(settings: Settings, script_path: Path, **options: Any) -> tuple[JobResult, Event]:
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    job_options = JobOptions(provider="scripted", script=str(script_path), **options)
    result = await run_pipeline(
        "job-v", Spec(prompt="A calculator library with add and mul.", options=job_options),
        llms=build_role_llms(job_options, settings), settings=settings,
        checkpoints=InMemoryCheckpointStore(), emit=emit)
    assert events[-1].type == "job_finished"
    return result, events[-1]


async def test_a_green_job_is_verified_and_its_final_event_says_so(
    settings: Settings, write_script: ScriptWriter
) -> None:
    result, finished = await run(settings, write_script(script()))

    assert result.verdict.verdict == "verified"
    assert finished.data["verdict"] == "verified"
    assert finished.data["verdict_detail"] == result.verdict.detail()
    assert finished.data["verdict_detail"]["passed"] == 2


async def test_a_job_whose_tests_fail_succeeds_but_its_verdict_is_failing(
    settings: Settings, write_script: ScriptWriter
) -> None:
    result, finished = await run(
        settings, write_script(script(coder=[INIT, BUGGY_OPS])),
        budgets=Budgets(max_fix_rounds=0), review=False, docs=False)

    assert result.status == "succeeded"
    assert result.verdict.verdict == "failing"
    assert result.verdict.failing_tests == ["tests.test_ops::test_add"]
    assert finished.data["status"] == "succeeded" and finished.data["verdict"] == "failing"
    assert finished.data["verdict_detail"]["failing_tests"] == ["tests.test_ops::test_add"]


async def test_the_single_strategy_runs_no_tests_so_its_code_is_untested(
    settings: Settings, write_script: ScriptWriter
) -> None:
    single = {"coder": ["```python\n# calc/ops.py\ndef add(a, b):\n    return a + b\n```"]}
    result, finished = await run(settings, write_script(single), strategy="single")

    assert result.status == "succeeded" and result.files and not result.rounds
    assert finished.data["verdict"] == "untested"
    assert finished.data["verdict_detail"]["reason"] == "no tests were run"


async def test_a_budget_cut_after_the_code_before_the_tests_leaves_it_untested(
    settings: Settings, write_script: ScriptWriter
) -> None:
    # 800 tokens pay for the plan (of a plain request: with examples) and both files,
    # not for the tests.
    result, finished = await run(settings, write_script(script()),
                                 budgets=Budgets(max_tokens=800))

    assert result.status == "succeeded" and "calc/ops.py" in result.files
    assert result.reason is not None and "budget" in result.reason
    assert not result.rounds
    assert finished.data["verdict"] == "untested"
    assert "budget" in finished.data["verdict_detail"]["reason"]
