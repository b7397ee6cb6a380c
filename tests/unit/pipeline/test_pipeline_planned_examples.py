"""A plain request (no files, functions or examples) is held to the Planner's examples."""

from __future__ import annotations

from atelier.agents.planner import is_plain_request, planned_examples
from atelier.settings import Settings

from .scripts import script
from .test_pipeline_scripted import Recorder, ScriptWriter, run

PLAIN = "Count how often each word occurs in a text, ignoring case, most frequent first."
PLAN = {
    "name": "words", "summary": "word counts", "language": "python",
    "files": [{"path": "words.py", "purpose": "count_words(text: str) -> list[tuple[str, int]]",
               "depends_on": []}],
    "dependencies": [], "test_command": None,
    "examples": ["count_words('a b A') == [('a', 2), ('b', 1)]", "count_words('') == []",
                 "count_words(text) == 3", "other('x') == 1"],
}
CODE = ("```python\nfrom collections import Counter\n\n\ndef count_words(text):\n"
        "    return Counter(text.lower().split()).most_common()\n```")
TESTS = {"files": [{"path": "tests/test_words.py", "content": (
    "from words import count_words\n\n\n"
    "def test_one():\n    assert count_words('x') == [('x', 1)]\n")}]}


def test_a_request_without_names_or_examples_is_plain() -> None:
    assert is_plain_request(PLAIN)
    assert not is_plain_request("Write words.py with count_words(text).")
    assert not is_plain_request("count_words('a a') == [('a', 2)] — a word counter")


def test_only_runnable_examples_of_planned_functions_are_kept() -> None:
    kept = planned_examples(PLAN["examples"], [PLAN["files"][0]["purpose"]])
    assert kept == ["count_words('a b A') == [('a', 2), ('b', 1)]", "count_words('') == []"]


def test_an_example_whose_call_is_only_part_of_the_left_side_is_dropped() -> None:
    # Seen on the 1.5B: the file name as a function; the call parsed was `duration(3600)`.
    lines = ["seconds-to-duration(3600) == '1 hour'", "`duration(60) == '1 minute'`"]
    assert planned_examples(lines, ["duration(seconds) -> str"]) == [
        "duration(60) == '1 minute'"]


async def test_the_planners_examples_are_shown_in_the_plan_and_run_first(
    settings: Settings, write_script: ScriptWriter
) -> None:
    events = Recorder()
    result = await run(settings, write_script(script(planner=[PLAN], coder=[CODE],
                                                     tester=[TESTS])),
                       prompt=PLAIN, events=events)

    assert result.plan is not None and len(result.plan.examples) == 2
    plan_event = next(e for e in events.events if e.data.get("message") == "plan ready")
    assert plan_event.data["plan"]["examples"] == result.plan.examples
    assert "tests/test_planned_examples.py" in result.files
    report = result.final_report
    assert report is not None and report.green and report.passed == 3
    assert sum("test_planned_examples" in c.classname for c in report.cases) == 2
    assert result.verdict.verdict == "verified"
