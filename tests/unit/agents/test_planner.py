"""Planner: JSON plan in, validated Plan out; hostile paths rejected; repairs bounded."""

from __future__ import annotations

import json

import pytest

from atelier.agents.planner import named_source_files, plan_named_file, plan_project
from atelier.domain.errors import InvalidPath, InvalidPlan, LLMOutputInvalid
from atelier.domain.spec import Spec
from atelier.llm.scripted import ScriptedLLM


def plan_reply(**overrides: object) -> dict[str, object]:
    reply: dict[str, object] = {
        "name": "calc",
        "summary": "A tiny calculator.",
        "language": "python",
        "files": [
            {"path": "calc.py", "purpose": "add(a, b), sub(a, b)", "depends_on": []},
            {"path": "cli.py", "purpose": "main() reads argv", "depends_on": ["calc.py"]},
        ],
        "dependencies": [],
        "test_command": None,
    }
    reply.update(overrides)
    return reply


async def test_happy_path_builds_plan_and_asks_as_planner() -> None:
    llm = ScriptedLLM({"planner": [plan_reply()]})
    plan = await plan_project(Spec(prompt="A calculator with add and sub"), llm)
    assert plan.name == "calc"
    assert [f.path for f in plan.files] == ["calc.py", "cli.py"]
    assert plan.file("cli.py").depends_on == ["calc.py"]
    assert plan.test_command == "pytest -q"
    request = llm.calls[0]
    assert request.agent == "planner"
    assert request.json_schema is not None and "files" in request.json_schema["properties"]
    assert "A calculator with add and sub" in request.messages[-1].content


async def test_invalid_json_is_repaired_with_a_second_call() -> None:
    llm = ScriptedLLM({"planner": ['{"name": "calc", "files": [', plan_reply()]})
    plan = await plan_project(Spec(prompt="calc"), llm)
    assert plan.name == "calc"
    assert len(llm.calls) == 2
    assert "not valid" in llm.calls[1].messages[-1].content


async def test_unrepairable_reply_fails_after_bounded_repairs() -> None:
    llm = ScriptedLLM({"planner": ["no plan here"]})
    with pytest.raises(LLMOutputInvalid):
        await plan_project(Spec(prompt="calc"), llm, max_repairs=1)
    assert len(llm.calls) == 2


async def test_prose_wrapped_json_is_read() -> None:
    text = (
        "Sure! Here is the plan for your project:\n\n```json\n"
        + json.dumps(plan_reply(), indent=2)
        + "\n```\nLet me know if you need anything else."
    )
    plan = await plan_project(Spec(prompt="calc"), ScriptedLLM({"planner": [text]}))
    assert [f.path for f in plan.files] == ["calc.py", "cli.py"]


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "/etc/x", ".ssh/id_rsa"])
async def test_hostile_path_raises_invalid_path_without_repair(hostile: str) -> None:
    files = [
        {"path": "calc.py", "purpose": "", "depends_on": []},
        {"path": hostile, "purpose": "", "depends_on": []},
    ]
    llm = ScriptedLLM({"planner": [plan_reply(files=files)]})
    with pytest.raises(InvalidPath):
        await plan_project(Spec(prompt="calc"), llm)
    assert len(llm.calls) == 1  # not sent back for repair


async def test_tests_and_readme_are_removed_from_the_plan() -> None:
    files = [
        {"path": "calc.py", "purpose": "add", "depends_on": []},
        {"path": "tests/test_calc.py", "purpose": "tests", "depends_on": ["calc.py"]},
        {"path": "test_cli.py", "purpose": "tests", "depends_on": []},
        {"path": "README.md", "purpose": "docs", "depends_on": []},
    ]
    plan = await plan_project(
        Spec(prompt="calc"), ScriptedLLM({"planner": [plan_reply(files=files)]})
    )
    assert [f.path for f in plan.files] == ["calc.py"]


async def test_plan_of_only_tests_is_invalid() -> None:
    files = [
        {"path": "tests/test_calc.py", "purpose": "", "depends_on": []},
        {"path": "README.md", "purpose": "", "depends_on": []},
    ]
    with pytest.raises(InvalidPlan):
        await plan_project(Spec(prompt="calc"), ScriptedLLM({"planner": [plan_reply(files=files)]}))


async def test_spec_language_wins_and_sets_default_test_command() -> None:
    files = [{"path": "calc.js", "purpose": "add", "depends_on": []}]
    llm = ScriptedLLM({"planner": [plan_reply(language="python", files=files)]})
    plan = await plan_project(Spec(prompt="calc", language="JavaScript"), llm)
    assert plan.language == "javascript"
    assert plan.test_command == "node --test"
    assert "javascript" in llm.calls[0].messages[-1].content


async def test_sloppy_fields_are_normalised() -> None:
    files = [
        {"path": "./calc.py", "purpose": None, "depends_on": "util"},
        {"path": "util.py", "purpose": "helpers", "depends_on": ["calc.py", "os"]},
    ]
    reply = plan_reply(language="py", files=files, test_command="python -m unittest")
    plan = await plan_project(Spec(prompt="calc"), ScriptedLLM({"planner": [reply]}))
    assert plan.language == "python"
    assert plan.file("calc.py").depends_on == ["util.py"]
    assert plan.file("util.py").depends_on == []  # the cycle back to calc.py is broken
    assert plan.generation_order()[0][0].path == "util.py"
    assert plan.test_command == "pytest -q"


async def test_language_inferred_from_extensions_when_model_names_an_unknown_one() -> None:
    files = [{"path": "index.js", "purpose": "", "depends_on": []}]
    reply = plan_reply(language="ecmascript", files=files)
    plan = await plan_project(Spec(prompt="x"), ScriptedLLM({"planner": [reply]}))
    assert plan.language == "javascript"


async def test_copied_prompt_placeholders_are_cleared() -> None:
    files = [
        {
            "path": "stats.py",
            "depends_on": [],
            "purpose": "the public functions or classes of this file, with their parameters",
        }
    ]
    reply = plan_reply(name="short-project-name", files=files)
    plan = await plan_project(Spec(prompt="x"), ScriptedLLM({"planner": [reply]}))
    assert plan.name == "stats"
    assert plan.files[0].purpose == ""


async def test_files_the_request_names_are_added_when_the_model_drops_them() -> None:
    from atelier.agents.planner import with_named_files
    from atelier.domain.plan import Plan

    plan = Plan(name="inv", language="python",
                files=[{"path": "inventory.py", "purpose": "Inventory"}])
    prompt = ("Two files: `inventory.py` has a class Inventory; `report.py` has "
              "render(inv). Tests go in tests/test_report.py; see also app.js and "
              "../../etc/evil.py.")
    paths = [f.path for f in with_named_files(plan, prompt).files]
    assert paths == ["inventory.py", "report.py"]


@pytest.mark.parametrize(
    ("prompt", "language", "expected"),
    [
        ("Write a Python module `solution.py` with is_prime(n).", None, ("solution.py", "python")),
        ("Write slugify in lib/slug.js, exported.", "javascript", ("lib/slug.js", "javascript")),
        # "Node.js" is the runtime, not a second file, with or without backticks elsewhere.
        ("Write a JavaScript (Node.js, CommonJS) module `stats.js`.", None,
         ("stats.js", "javascript")),
        ("Write a Node.js module fizz.js exporting fizz(n).", None, ("fizz.js", "javascript")),
        # Files marked up in backticks: other words that look like files are prose.
        ("Write `cli.py` (it reads config.py style settings).", None, ("cli.py", "python")),
    ],
)
def test_a_request_naming_one_file_needs_no_planner(
    prompt: str, language: str | None, expected: tuple[str, str]
) -> None:
    plan = plan_named_file(Spec(prompt=prompt, language=language))
    assert plan is not None
    assert ([f.path for f in plan.files], plan.language) == ([expected[0]], expected[1])
    assert plan.test_command in ("pytest -q", "node --test")


@pytest.mark.parametrize(
    ("prompt", "language", "template"),
    [
        ("A todo CLI.", None, None),  # names no file
        ("inventory.py and report.py for a shop", None, None),  # names two
        ("Write app.py, a FastAPI service.", None, "fastapi-service"),  # template plans
        ("Write calc.py", "javascript", None),  # the file contradicts the language
        ("Write tests/test_calc.py for calc", None, None),  # a test is not a source file
    ],
)
def test_other_requests_go_to_the_planner(
    prompt: str, language: str | None, template: str | None
) -> None:
    assert plan_named_file(Spec(prompt=prompt, language=language, template=template)) is None


def test_named_files_keep_their_order_and_skip_tests() -> None:
    prompt = "`todo.js` and `format.js`, tested by `todo.test.js`; see todo.js again."
    assert named_source_files(prompt) == ["todo.js", "format.js"]
