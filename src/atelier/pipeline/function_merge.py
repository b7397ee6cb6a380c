"""Resample candidates merged function by function (Python and JavaScript).

A request for a module of several functions is judged by each function's own
examples. Drawn candidates often get different functions right — one `char_frequency`,
another `most_common_word` — and none all of them. Taking, for each function whose
examples fail in the best candidate, the definition from a candidate whose examples for
that function all pass costs one sandbox run and no model call. The merged module is
tested like any candidate and kept only if it tests better.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence

from atelier.domain.report import TestReport
from atelier.pipeline.project_files import is_spec_example
from atelier.pipeline.source_mending import JS_TOP_LEVEL

Candidate = tuple[Mapping[str, str], TestReport]


def spec_outcomes(report: TestReport) -> dict[str, str]:
    """test name → outcome, for the spec's own example cases."""
    return {case.name: case.outcome for case in report.cases if is_spec_example(case)}


def merge_by_function(
    candidates: Sequence[Candidate], tested: Mapping[str, set[str]]
) -> tuple[dict[str, str], list[str]] | None:
    """The first candidate with the functions it fails taken from the others, and the
    names taken; None when no other candidate has a function right that it has wrong.

    `tested` maps an example test's name to the functions it calls; only tests of one
    function decide about that function.
    """
    if len(candidates) < 2:
        return None
    base_files, base_report = candidates[0]
    merged = dict(base_files)
    base_outcomes = spec_outcomes(base_report)
    others = [(files, spec_outcomes(report)) for files, report in candidates[1:]]
    taken: list[str] = []
    for function in sorted(set().union(*tested.values())):
        tests = [name for name, called in tested.items() if called == {function}]
        if not tests:
            continue

        def right(outcomes: Mapping[str, str], tests: list[str] = tests) -> bool:
            return all(outcomes.get(name) == "passed" for name in tests)

        if right(base_outcomes):
            continue
        for files, outcomes in others:
            if right(outcomes) and _take(merged, files, function):
                taken.append(function)
                break
    return (merged, taken) if taken else None


def _take(target: dict[str, str], donor: Mapping[str, str], function: str) -> bool:
    """Replace `function` in the target's module that defines it with the donor's."""
    for path, source in donor.items():
        if path not in target:
            continue
        if path.endswith(".py"):
            replaced = replace_function(target[path], source, function)
        elif path.endswith((".js", ".mjs", ".cjs")):
            replaced = replace_javascript_function(target[path], source, function)
        else:
            continue
        if replaced is not None:
            target[path] = replaced
            return True
    return False


def _top_level(tree: ast.Module) -> dict[str, ast.stmt]:
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


def _span(node: ast.stmt) -> tuple[int, int]:
    """0-based first line (decorators included) and end line (exclusive)."""
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)]) - 1
    return start, node.end_lineno or node.lineno


def replace_function(target: str, donor: str, name: str) -> str | None:
    """`target` with the donor's top-level `name` in place of its own (appended when it
    has none), plus the donor's imports and top-level helpers that function uses and the
    target lacks. None when either does not parse or the donor does not define it."""
    try:
        target_tree, donor_tree = ast.parse(target), ast.parse(donor)
    except SyntaxError:
        return None
    donor_defs = _top_level(donor_tree)
    node = donor_defs.get(name)
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    donor_lines = donor.split("\n")

    def text(n: ast.stmt) -> list[str]:
        start, end = _span(n)
        return donor_lines[start:end]

    target_defs = _top_level(target_tree)
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    helpers = [donor_defs[u] for u in sorted(used) if u != name and u in donor_defs
               and u not in target_defs]
    lines = target.split("\n")
    own = target_defs.get(name)
    replacement = text(node)
    if own is not None:
        start, end = _span(own)
        lines[start:end] = replacement
    else:
        lines += ["", "", *replacement]
    for helper in helpers:
        lines += ["", "", *text(helper)]
    present = {ast.unparse(n) for n in target_tree.body
               if isinstance(n, ast.Import | ast.ImportFrom)}
    imports = [ast.unparse(n) for n in donor_tree.body
               if isinstance(n, ast.Import | ast.ImportFrom) and ast.unparse(n) not in present]
    if imports:
        at = _after_future_imports(target_tree)
        lines[at:at] = imports
    merged = "\n".join(lines)
    try:
        ast.parse(merged)
    except SyntaxError:
        return None
    return merged if merged.endswith("\n") else merged + "\n"


def _after_future_imports(tree: ast.Module) -> int:
    """The line where new imports go: after a module docstring and `__future__` imports."""
    at = 0
    for node in tree.body:
        docstring = (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                     and isinstance(node.value.value, str))
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (docstring or future):
            break
        at = node.end_lineno or at
    return at


_JS_EXPORTS = re.compile(r"^(?:module\.)?exports\b")


def _javascript_definitions(lines: list[str]) -> dict[str, tuple[int, int]]:
    """name → (first line, end line exclusive) of each top-level definition: one line when
    its brackets balance there, else up to the first line that starts with `}`."""
    found: dict[str, tuple[int, int]] = {}
    index = 0
    while index < len(lines):
        match = JS_TOP_LEVEL.match(lines[index])
        if match is None:
            index += 1
            continue
        name = next(group for group in match.groups() if group)
        line = lines[index]
        if sum(line.count(c) for c in "({[") == sum(line.count(c) for c in ")}]"):
            end = index + 1
        else:
            end = next((j + 1 for j in range(index + 1, len(lines))
                        if lines[j].startswith(("}", ")", "]"))), len(lines))
        found.setdefault(name, (index, end))
        index = end
    return found


def replace_javascript_function(target: str, donor: str, name: str) -> str | None:
    """`target` with the donor's top-level `name` in place of its own (inserted before
    the exports when it has none), plus the donor's top-level helpers it uses that the
    target lacks. None when the donor does not define it. Read by lines, not parsed:
    the merged module is tested before anything keeps it."""
    donor_lines, lines = donor.split("\n"), target.split("\n")
    donor_defs = _javascript_definitions(donor_lines)
    if name not in donor_defs:
        return None
    start, end = donor_defs[name]
    replacement = donor_lines[start:end]
    body = "\n".join(replacement)
    target_defs = _javascript_definitions(lines)
    helpers = [donor_lines[a:b] for helper, (a, b) in donor_defs.items()
               if helper != name and helper not in target_defs
               and re.search(rf"(?<![\w$.]){re.escape(helper)}(?![\w$])", body)]
    # A `const` must exist before the code that runs at load time uses it: helpers go
    # before the definition, a new definition before the exports.
    added = [line for helper in helpers for line in [*helper, ""]]
    if name in target_defs:
        own_start, own_end = target_defs[name]
        lines[own_start:own_end] = replacement
        lines[own_start:own_start] = added
    else:
        at = next((i for i, line in enumerate(lines) if _JS_EXPORTS.match(line)), len(lines))
        lines[at:at] = [*added, *replacement, ""]
    merged = "\n".join(lines)
    return merged if merged.endswith("\n") else merged + "\n"
