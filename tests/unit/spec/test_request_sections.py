"""A request that gives each file a section: which lines are whose, who owns which
name, the dependencies that follow, and the request as one file's writer sees it."""

from __future__ import annotations

import json
from pathlib import Path

from atelier.agents.planner import with_stated_dependencies
from atelier.domain.plan import FileSpec, Plan
from atelier.spec.request_sections import (
    file_section,
    owned_names,
    request_for_file,
    split_sections,
    stated_dependencies,
)

PROJECTS = Path(__file__).resolve().parents[3] / "bench" / "projects"
TODO = json.loads((PROJECTS / "js-todo" / "spec.json").read_text())["prompt"]
PATHS = ["todo.js", "format.js"]


def test_sections_follow_the_line_that_names_the_file() -> None:
    sections = split_sections(TODO, PATHS)
    assert sections.shared == [
        "Write a small JavaScript (Node.js, CommonJS) project with two files."]
    assert sections.by_file["todo.js"][0].startswith("`todo.js` exports a class `TodoList`")
    assert len(sections.by_file["todo.js"]) == 5  # the header and its four bullets
    assert sections.by_file["format.js"][0].startswith("`format.js` exports `formatList(list)`")


def test_prose_after_a_blank_line_is_shared_again_but_bullets_still_belong() -> None:
    prompt = ("Two files.\n`a.py` has `f(x)`:\n- returns x\n\n- and never raises\n\n"
              "Keep it short.\n`b.py` has `g()` using `f`.")
    sections = split_sections(prompt, ["a.py", "b.py"])
    assert "- and never raises" in sections.by_file["a.py"]
    assert "Keep it short." in sections.shared
    assert sections.by_file["b.py"] == ["`b.py` has `g()` using `f`."]
    assert stated_dependencies(prompt, ["a.py", "b.py"]) == {"a.py": [], "b.py": ["a.py"]}


def test_the_header_that_names_a_thing_first_owns_it() -> None:
    assert owned_names(TODO, PATHS) == {"TodoList": "todo.js", "formatList": "format.js"}
    assert stated_dependencies(TODO, PATHS) == {"todo.js": [], "format.js": ["todo.js"]}
    inventory = json.loads((PROJECTS / "py-inventory" / "spec.json").read_text())["prompt"]
    assert stated_dependencies(inventory, ["inventory.py", "report.py"]) == {
        "inventory.py": [], "report.py": ["inventory.py"]}


def test_each_file_sees_its_own_section_first_and_the_others_as_written_separately() -> None:
    for_format = request_for_file(TODO, "format.js", PATHS)
    assert for_format.index("This file, format.js:") < for_format.index("`todo.js` exports")
    assert ("The other files (todo.js) are written separately. Do not write their code in "
            "this file; import TodoList from them instead:") in for_format
    for_todo = request_for_file(TODO, "todo.js", PATHS)
    assert "Do not write their code in this file:\n`format.js`" in for_todo
    # Nothing of the request is lost, only reordered.
    for line in TODO.split("\n"):
        assert line.strip() in for_format and line.strip() in for_todo


def test_a_request_without_sections_per_file_is_left_as_it_is() -> None:
    one = "Write `roman.py` with `to_roman(n)` and `from_roman(s)`."
    assert request_for_file(one, "roman.py", ["roman.py"]) == one
    assert file_section(one, "roman.py", ["roman.py"]) is None
    assert file_section(TODO, "format.js", PATHS) == split_sections(TODO, PATHS).by_file[
        "format.js"][0]
    plain = "A CLI with a parser module and a main module."
    assert request_for_file(plain, "main.py", ["main.py", "parser.py"]) == plain


def test_the_plan_gains_the_stated_dependencies_without_cycles() -> None:
    plan = Plan(name="todo", language="javascript",
                files=[FileSpec(path="format.js"), FileSpec(path="todo.js",
                                                            depends_on=["format.js"])])
    planned = with_stated_dependencies(plan, TODO)
    # The request's format.js -> todo.js wins over the model's todo.js -> format.js.
    assert planned.file("format.js").depends_on == ["todo.js"]
    assert planned.file("todo.js").depends_on == []
    fresh = Plan(name="todo", language="javascript",
                 files=[FileSpec(path="format.js"), FileSpec(path="todo.js")])
    assert with_stated_dependencies(fresh, TODO).file("format.js").depends_on == ["todo.js"]
    assert [[f.path for f in wave] for wave in
            with_stated_dependencies(fresh, TODO).generation_order()] == [["todo.js"],
                                                                          ["format.js"]]
