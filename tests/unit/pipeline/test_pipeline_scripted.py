"""The pipeline end to end on the scripted LLM and the real sandbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atelier.domain.events import Event
from atelier.domain.job import JobResult
from atelier.domain.spec import Budgets, JobOptions, ModelChoice, Spec
from atelier.llm.recording import InMemoryCallRecorder
from atelier.llm.scripted import ScriptedLLM
from atelier.pipeline.memory import InMemoryCheckpointStore
from atelier.pipeline.models import build_role_llms
from atelier.pipeline.package import REPORT_JSON, REPORT_MD, write_project
from atelier.pipeline.run import run_pipeline
from atelier.settings import Settings

from .scripts import BUGGY_OPS, GOOD_OPS, PLAN, one_file_script, script

ScriptWriter = Callable[[dict[str, Any]], Path]


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events]


async def run(
    settings: Settings,
    script_path: Path,
    *,
    prompt: str = "A calculator library with add and mul.",
    events: Recorder | None = None,
    cancel_event: asyncio.Event | None = None,
    store: InMemoryCheckpointStore | None = None,
    recorder: InMemoryCallRecorder | None = None,
    job_id: str = "job-1",
    **options: Any,
) -> JobResult:
    job_options = JobOptions(provider="scripted", script=str(script_path), **options)
    spec = Spec(prompt=prompt, options=job_options)
    llms = build_role_llms(job_options, settings, recorder)
    return await run_pipeline(
        job_id, spec, llms=llms, settings=settings,
        checkpoints=store or InMemoryCheckpointStore(), emit=events or Recorder(),
        cancel_event=cancel_event,
    )


async def test_happy_path_plans_codes_tests_reviews_documents(
    settings: Settings, write_script: ScriptWriter, tmp_path: Path
) -> None:
    events = Recorder()
    result = await run(settings, write_script(script()), events=events)

    assert result.status == "succeeded", result.reason
    assert set(result.files) == {"calc/__init__.py", "calc/ops.py", "tests/test_ops.py",
                                 "tests/conftest.py", "README.md"}
    assert "return a + b" in result.files["calc/ops.py"]
    assert "Here is the module" not in result.files["calc/ops.py"]
    report = result.final_report
    assert report is not None and report.passed == 2 and report.failed == 0
    assert result.fix_rounds == 0
    assert result.usage.calls == 6  # planner, 2 coder, tester, reviewer, documenter
    started = [e.step for e in events.events if e.type == "step_started"]
    assert started == ["plan", "code", "test", "fix", "review", "docs", "package"]
    assert events.types()[-1] == "job_finished"

    written = write_project(result, tmp_path / "out")
    assert (tmp_path / "out" / REPORT_MD).exists() and len(written) == len(result.files) + 2
    saved = json.loads((tmp_path / "out" / REPORT_JSON).read_text())
    assert saved["tests"]["passed"] == 2 and saved["usage"]["calls"] == 6
    assert {f["path"] for f in saved["files"]} >= {"calc/ops.py", "README.md"}


async def test_fix_loop_converges_from_buggy_to_green(
    settings: Settings, write_script: ScriptWriter
) -> None:
    result = await run(settings, write_script(one_file_script([BUGGY_OPS, GOOD_OPS])),
                       strategy="repair")

    assert result.status == "succeeded"
    assert [r.report.green for r in result.rounds[:2]] == [False, True]
    assert result.rounds[0].report.failed == 1
    assert result.fix_rounds == 1
    assert "return a + b" in result.files["calc/ops.py"]


async def test_resample_keeps_the_candidate_that_passes(
    settings: Settings, write_script: ScriptWriter
) -> None:
    result = await run(settings, write_script(one_file_script([BUGGY_OPS, BUGGY_OPS, GOOD_OPS])),
                       strategy="resample", resample_k=3)

    assert result.status == "succeeded"
    assert result.final_report is not None and result.final_report.green
    assert result.rounds[1].strategy == "resample"


async def test_fix_rounds_are_bounded_and_regressions_rejected(
    settings: Settings, write_script: ScriptWriter
) -> None:
    broken = "```python\ndef add(a, b):\n    return a - b\n```"  # mul missing: worse
    # A warm coder: each repair is a new draw, so the rounds go on to the bound.
    result = await run(settings, write_script(one_file_script([BUGGY_OPS, broken])),
                       strategy="repair", budgets=Budgets(max_fix_rounds=2),
                       roles={"coder": ModelChoice(temperature=0.5)})

    assert result.status == "succeeded"  # completed, with failing tests reported
    assert result.fix_rounds == 2
    assert "def mul" in result.files["calc/ops.py"]  # the worse candidate was not kept
    assert result.final_report is not None and result.final_report.failed == 1


async def test_a_greedy_repair_that_made_no_progress_is_not_paid_for_again(
    settings: Settings, write_script: ScriptWriter
) -> None:
    broken = "```python\ndef add(a, b):\n    return a - b\n```"
    events = Recorder()
    result = await run(settings, write_script(one_file_script([BUGGY_OPS, broken])),
                       strategy="repair", budgets=Budgets(max_fix_rounds=3), events=events)

    assert result.fix_rounds == 1  # round 2 would have sent the same request again
    assert result.usage.calls == 6  # planner, draft, tester, 1 repair, reviewer, documenter
    assert any("no progress" in str(e.data.get("message")) for e in events.events)


async def test_invalid_planner_json_is_repaired(
    settings: Settings, write_script: ScriptWriter
) -> None:
    path = write_script(script(planner=["this is not json {", {"nope": 1}, PLAN]))
    result = await run(settings, path, budgets=Budgets(max_fix_rounds=0))

    assert result.status == "succeeded"
    assert result.plan is not None and result.plan.name == "calc"


async def test_hostile_planner_path_is_rejected_and_never_written(
    settings: Settings, write_script: ScriptWriter, tmp_path: Path
) -> None:
    hostile = {**PLAN, "files": [{"path": "../../etc/evil.py", "purpose": "x", "depends_on": []}]}
    result = await run(settings, write_script(script(planner=[hostile])))

    assert result.status == "failed"
    assert result.reason is not None and "invalid_path" in result.reason
    assert result.files == {}
    assert not (tmp_path.parent / "etc" / "evil.py").exists()


async def test_token_budget_stops_the_job_with_what_it_has(
    settings: Settings, write_script: ScriptWriter
) -> None:
    events = Recorder()
    result = await run(settings, write_script(script()), events=events,
                       budgets=Budgets(max_tokens=400))

    assert result.reason is not None and "budget" in result.reason
    assert "budget_exhausted" in events.types()
    assert result.usage.total_tokens >= 400
    assert result.usage.calls < 6


async def test_cancellation_stops_at_the_next_await_point(
    settings: Settings, write_script: ScriptWriter
) -> None:
    cancel = asyncio.Event()
    events = Recorder()

    async def cancelling(event: Event) -> None:
        await events(event)
        if event.type == "step_finished" and event.step == "plan":
            cancel.set()

    job_options = JobOptions(provider="scripted", script=str(write_script(script())))
    llms = build_role_llms(job_options, settings)
    result = await run_pipeline(
        "job-c", Spec(prompt="calc", options=job_options), llms=llms, settings=settings,
        checkpoints=InMemoryCheckpointStore(), emit=cancelling, cancel_event=cancel)

    assert result.status == "cancelled"
    assert result.usage.calls == 1
    assert "code" not in [e.step for e in events.events if e.type == "step_finished"]


async def test_truncated_prose_wrapped_coder_reply_still_yields_working_code(
    settings: Settings, write_script: ScriptWriter
) -> None:
    truncated = ("Sure! Here's the implementation you asked for.\n\n```py\n"
                 "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n")
    result = await run(settings, write_script(one_file_script([truncated])),
                       budgets=Budgets(max_fix_rounds=0))

    assert result.final_report is not None and result.final_report.green
    assert result.files["calc/ops.py"].startswith("def add")


class Crash(Exception):
    """Stands in for the process dying mid-job."""


async def test_resume_after_crash_replays_calls_instead_of_paying_twice(
    settings: Settings, write_script: ScriptWriter
) -> None:
    path = write_script(one_file_script([BUGGY_OPS, GOOD_OPS]))
    undisturbed = await run(settings, path, strategy="repair", job_id="job-u")

    store, recorder = InMemoryCheckpointStore(), InMemoryCallRecorder()

    async def dies_during_fix(event: Event) -> None:
        if event.type == "test_run" and event.data["round"] == 1:
            raise Crash

    with pytest.raises(Crash):
        await run(settings, path, strategy="repair", job_id="job-r", store=store,
                  recorder=recorder, events=dies_during_fix)  # type: ignore[arg-type]
    calls_before = len(recorder)

    resumed = await run(settings, path, strategy="repair", job_id="job-r", store=store,
                        recorder=recorder)

    assert resumed.status == "succeeded"
    assert resumed.files == undisturbed.files
    # Nothing was asked of the provider twice: the fix call was replayed.
    assert len(recorder) == undisturbed.usage.calls
    assert calls_before == undisturbed.usage.calls - 2  # reviewer + documenter still to go
    # Usage counts every paid call exactly once across both lives.
    assert resumed.usage.calls == undisturbed.usage.calls


async def test_scripted_provider_repeats_its_last_reply() -> None:
    llm = ScriptedLLM.from_mapping({"coder": ["one", "two"]})
    from atelier.llm.base import ChatRequest, Message

    request = ChatRequest(messages=[Message(role="user", content="x")], agent="coder")
    replies = [(await llm.chat(request)).text for _ in range(4)]
    assert replies == ["one", "two", "two", "two"]


def test_code_that_cannot_be_imported_never_beats_code_whose_tests_run() -> None:
    from atelier.domain.report import TestCase, TestReport
    from atelier.pipeline.fixing import candidate_score

    runs_and_fails = TestReport(failed=2, cases=[
        TestCase(name="a", classname="tests.test_x", outcome="failed"),
        TestCase(name="b", classname="tests.test_x", outcome="failed")])
    import_error = TestReport(errors=1, cases=[
        TestCase(name="test run", classname="tests.test_x", outcome="error")])
    assert candidate_score(runs_and_fails) > candidate_score(import_error)


async def test_passing_spec_examples_end_the_fixing_when_a_generated_test_disagrees(
    settings: Settings, write_script: ScriptWriter
) -> None:
    # The Tester's expectation (add(2, 2) == 5) is wrong; the user's example is right.
    wrong_test = {"files": [{"path": "tests/test_ops.py", "content": (
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 2) == 5\n")}]}
    prompt = (  # names no file: planned, so the Tester writes tests beside the examples
        "A calculator with add(a, b) and mul(a, b).\n\n"
        ">>> add(2, 3)\n5\n>>> mul(2, 3)\n6\n"
    )
    result = await run(settings, write_script(one_file_script([GOOD_OPS], tester=[wrong_test])),
                       prompt=prompt, strategy="resample", resample_k=3)

    assert result.status == "succeeded"
    assert result.fix_rounds == 0  # no candidate was paid for to fit the wrong test
    assert result.rounds[0].report.failed == 1
    assert "return a + b" in result.files["calc/ops.py"]


async def test_without_spec_examples_a_failing_generated_test_is_fixed(
    settings: Settings, write_script: ScriptWriter
) -> None:
    result = await run(settings, write_script(one_file_script([BUGGY_OPS, GOOD_OPS])),
                       prompt="Write calc/ops.py with add(a, b) and mul(a, b).",
                       strategy="resample", resample_k=2)

    assert result.fix_rounds == 1
    assert result.final_report is not None and result.final_report.green


class TimingOut:
    """An LLM whose every call times out (a model stuck in a runaway)."""

    provider, model, context_window = "scripted", "stuck", 8192

    async def chat(self, request: Any) -> Any:
        from atelier.domain.errors import LLMTimeout

        raise LLMTimeout("no answer within 300s")


async def test_a_reviewer_and_documenter_that_time_out_do_not_fail_the_job(
    settings: Settings, write_script: ScriptWriter
) -> None:
    options = JobOptions(provider="scripted", script=str(write_script(script())))
    llms = dict(build_role_llms(options, settings, None))
    llms["reviewer"] = llms["documenter"] = TimingOut()
    events = Recorder()
    result = await run_pipeline(
        "job-stuck", Spec(prompt="A calculator library with add and mul.", options=options),
        llms=llms, settings=settings, checkpoints=InMemoryCheckpointStore(), emit=events,
    )

    assert result.status == "succeeded", result.reason
    assert result.final_report is not None and result.final_report.green
    assert result.findings == []
    assert result.files["README.md"].startswith("#")  # written from the code instead
    skipped = [e.data["message"] for e in events.events if e.type == "log"]
    assert any("review skipped" in m for m in skipped)


async def test_resampling_a_project_redraws_only_the_files_the_failures_point_at(
    settings: Settings, write_script: ScriptWriter
) -> None:
    from .scripts import INIT

    # First draft: __init__ fine, ops buggy. A candidate is one coder call (ops only).
    result = await run(settings, write_script(script(coder=[INIT, BUGGY_OPS, GOOD_OPS])),
                       strategy="resample", resample_k=3)

    assert result.final_report is not None and result.final_report.green
    # planner, 2 drafts, tester, 1 redraw (of ops only: redrawing both would be 2), reviewer,
    # documenter
    assert result.usage.calls == 7
    assert "from calc.ops import add, mul" in result.files["calc/__init__.py"]


async def test_a_one_file_request_with_examples_is_drafted_like_single_and_tested_by_them(
    settings: Settings, write_script: ScriptWriter
) -> None:
    prompt = "Write calc/ops.py with add(a, b) and mul(a, b).\n\n>>> add(2, 3)\n5\n"
    recorder = InMemoryCallRecorder()
    result = await run(settings, write_script(one_file_script([BUGGY_OPS, GOOD_OPS])),
                       prompt=prompt, strategy="resample", resample_k=2, recorder=recorder)

    assert result.status == "succeeded"
    assert "tests/test_spec_examples.py" in result.files
    assert not any(p.startswith("tests/test_ops") for p in result.files)  # no Tester call
    assert result.final_report is not None and result.final_report.green
    assert result.fix_rounds == 1 and "return a + b" in result.files["calc/ops.py"]
    requests = [request for _, request, _ in recorder.calls]
    assert [r.agent for r in requests][:3] == ["coder", "coder", "reviewer"]  # draft, redraw
    assert "expert python programmer. Write the complete" in requests[0].messages[0].content


async def test_a_javascript_request_is_tested_by_its_inline_examples(
    settings: Settings, write_script: ScriptWriter
) -> None:
    prompt = ("Write a Node.js module `fizz.js` exporting fizz(n), with "
              "`module.exports = { fizz }`. Examples: fizz(9) === 'Fizz'; fizz(7) === '7'.")
    wrong = "```javascript\nfunction fizz(n) { return 'Fizz'; }\nmodule.exports = { fizz };\n```"
    right = ("```javascript\nfunction fizz(n) { return n % 3 === 0 ? 'Fizz' : String(n); }\n"
             "module.exports = { fizz };\n```")
    result = await run(settings, write_script(script(coder=[wrong, right])), prompt=prompt,
                       strategy="resample", resample_k=2)

    assert result.plan is not None and [f.path for f in result.plan.files] == ["fizz.js"]
    assert "tests/test_spec_examples.test.js" in result.files
    first, last = result.rounds[0].report, result.rounds[-1].report
    assert (first.passed, first.failed) == (1, 1)  # fizz(7) caught the wrong draft
    assert last.green and last.passed == 2 and "String(n)" in result.files["fizz.js"]


async def test_a_draft_missing_its_exports_is_mended_without_a_model_call(
    settings: Settings, write_script: ScriptWriter
) -> None:
    prompt = ("Write a Node.js module `fizz.js` exporting fizz(n), with "
              "`module.exports = { fizz }`. Examples: fizz(9) === 'Fizz'; fizz(7) === '7'.")
    unexported = ("```javascript\n"
                  "function fizz(n) { return n % 3 === 0 ? 'Fizz' : String(n); }\n```")
    events = Recorder()
    result = await run(settings, write_script(script(coder=[unexported])), prompt=prompt,
                       strategy="resample", resample_k=2, events=events)

    assert result.files["fizz.js"].endswith("module.exports = { fizz };\n")
    assert result.rounds[0].report.green and result.fix_rounds == 0
    assert any(e.data.get("message") == "mended" for e in events.events)


async def test_a_module_exporting_nothing_exports_what_its_tests_require(
    settings: Settings, write_script: ScriptWriter
) -> None:
    # A plain request names no function, so only the tests say what the module must
    # export; seen: every test failed alike on `secondsToDuration is not a function`.
    plan = {**PLAN, "name": "duration", "language": "javascript",
            "files": [{"path": "duration.js", "purpose": "format seconds", "depends_on": []}],
            "test_command": "node --test"}
    unexported = ("```javascript\nfunction secondsToDuration(s) {\n"
                  "  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;\n}\n```")
    tests = {"files": [{"path": "tests/duration.test.js", "content": (
        "const { test } = require('node:test');\n"
        "const assert = require('node:assert');\n"
        "const { secondsToDuration } = require('../duration.js');\n"
        "test('minutes', () => assert.strictEqual(secondsToDuration(61), '1m 1s'));\n"
        "test('seconds', () => assert.strictEqual(secondsToDuration(5), '5s'));\n")}]}
    events = Recorder()
    result = await run(settings, write_script(script(planner=[plan], coder=[unexported],
                                                     tester=[tests])),
                       prompt="A Node.js helper that turns seconds into a short duration.",
                       strategy="resample", resample_k=1, events=events, review=False,
                       docs=False)

    assert result.files["duration.js"].endswith("module.exports = { secondsToDuration };\n")
    assert result.rounds[0].report.passed == 2 and result.rounds[0].report.green
    assert any(e.data.get("message") == "mended" and e.data.get("path") == "duration.js"
               for e in events.events)


@pytest.mark.parametrize(
    ("prompt", "agents"),
    [
        # tested by its examples: the draft and k redraws
        ("Write calc/ops.py with add(a, b) and mul(a, b).\n\n>>> add(2, 3)\n5\n",
         ["coder"] * 3),
        # tested by the Tester's tests
        ("Write calc/ops.py with add(a, b) and mul(a, b).", ["coder", "tester", "coder",
                                                             "coder"]),
    ],
)
async def test_in_a_one_file_request_no_repair_follows_a_fruitless_resample(
    settings: Settings, write_script: ScriptWriter, prompt: str, agents: list[str]
) -> None:
    recorder = InMemoryCallRecorder()
    result = await run(settings, write_script(one_file_script([BUGGY_OPS])), prompt=prompt,
                       strategy="resample+repair", resample_k=2, recorder=recorder,
                       review=False, docs=False)

    assert result.fix_rounds == 1 and [r.strategy for r in result.rounds] == [
        "initial", "resample"]
    assert [request.agent for _, request, _ in recorder.calls] == agents


async def test_a_stated_error_the_draft_ignores_sends_it_back_for_a_redraw(
    settings: Settings, write_script: ScriptWriter
) -> None:
    prompt = ("Write a Python module `convert.py` with `kelvin_to_celsius(k: float) -> float`: "
              "raises `ValueError` for a negative `k`. Example: kelvin_to_celsius(273.15) == 0.0")
    lax = "```python\ndef kelvin_to_celsius(k):\n    return k - 273.15\n```"
    strict = ("```python\ndef kelvin_to_celsius(k):\n    if k < 0:\n"
              "        raise ValueError('negative')\n    return k - 273.15\n```")
    recorder = InMemoryCallRecorder()
    result = await run(settings, write_script(script(coder=[lax, strict])), prompt=prompt,
                       strategy="resample+repair", resample_k=2, recorder=recorder,
                       review=False, docs=False)

    first, last = result.rounds[0].report, result.rounds[-1].report
    assert (first.passed, first.failed) == (1, 1)  # the example held, the stated error did not
    assert last.green and "raise ValueError" in result.files["convert.py"]
    assert [request.agent for _, request, _ in recorder.calls] == ["coder", "coder"]


async def test_a_request_with_a_section_per_file_writes_each_after_what_it_uses(
    settings: Settings, write_script: ScriptWriter
) -> None:
    prompt = ("Write a small Python project with two files.\n"
              "`report.py` has a function `format_report(inventory) -> str` (it imports "
              "`Inventory` from `inventory`): the total.\n"
              "`inventory.py` has a class `Inventory` with:\n- `total() -> int`.")
    plan = {**PLAN, "files": [{"path": "report.py", "purpose": "report", "depends_on": []},
                              {"path": "inventory.py", "purpose": "stock", "depends_on": []}]}
    inventory = "```python\nclass Inventory:\n    def total(self):\n        return 0\n```"
    report = ("```python\nfrom inventory import Inventory\n\n\n"
              "def format_report(inventory):\n    return f'total: {inventory.total()}'\n```")
    tests = {"files": [{"path": "tests/test_report.py", "content": (
        "from inventory import Inventory\nfrom report import format_report\n\n\n"
        "def test_report():\n    assert format_report(Inventory()) == 'total: 0'\n")}]}
    recorder = InMemoryCallRecorder()
    result = await run(settings, write_script(script(planner=[plan], coder=[inventory, report],
                                                     tester=[tests])),
                       prompt=prompt, recorder=recorder, review=False, docs=False)

    assert result.final_report is not None and result.final_report.green, (
        result.files, result.final_report.output_tail)
    assert result.plan is not None and result.plan.file("report.py").depends_on == [
        "inventory.py"]
    coder_prompts = [r.messages[-1].content for _, r, _ in recorder.calls if r.agent == "coder"]
    # inventory.py first (report.py uses its Inventory), then report.py with it in view.
    assert "This file, inventory.py:" in coder_prompts[0]
    assert "This file, report.py:" in coder_prompts[1]
    assert "Existing file inventory.py" in coder_prompts[1]
    assert "import Inventory from them instead" in coder_prompts[1]


async def test_candidates_that_each_get_one_function_right_are_merged_without_a_model_call(
    settings: Settings, write_script: ScriptWriter
) -> None:
    prompt = ("Write `text.py` with `shout(s)` and `count(s)`. Examples: shout('a') == 'A!'; "
              "count('ab') == 2.")
    draft = ("```python\ndef shout(s):\n    return s.upper() + '!'\n\n\n"
             "def count(s):\n    return 0\n```")
    redraw = "```python\ndef shout(s):\n    return s\n\n\ndef count(s):\n    return len(s)\n```"
    events = Recorder()
    recorder = InMemoryCallRecorder()
    result = await run(settings, write_script(script(coder=[draft, redraw])), prompt=prompt,
                       strategy="resample+repair", resample_k=3, recorder=recorder,
                       events=events, review=False, docs=False)

    assert result.final_report is not None and result.final_report.green
    assert "upper()" in result.files["text.py"] and "len(s)" in result.files["text.py"]
    # the draft and one redraw; the merge that made it green cost no call
    assert [request.agent for _, request, _ in recorder.calls] == ["coder", "coder"]
    merges = [e.data for e in events.events if e.data.get("message") == "merged candidates"]
    assert merges == [{"message": "merged candidates", "functions": ["count"], "passed": 2,
                       "failed": 0, "errors": 0, "kept": True}]
