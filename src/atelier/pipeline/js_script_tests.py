"""A JavaScript "test file" written as a script — top-level asserts, no `test(…)` — is
turned into node:test tests.

Run as written, the first failing assert throws while the file loads: node reports a
file that did not load, no test case runs, and the verdict can only be `untested` (seen
on a queue/stack request: `assert(queue.enqueue(4) === 'Queue is full')`). Wrapped in
tests, the same asserts run and fail as tests, which the fix loop and the verdict can
use. The script's sections — the runs of code under a top-level comment such as
`// Test Queue` — become one test each, titled by the comment; a section that uses a
name an earlier section declares stays in that section's test, so no name goes out of
scope. The `require` / `import` lines at the top stay where they are.
"""

from __future__ import annotations

import re

from atelier.pipeline.js_scan import NOT_CODE, open_brackets

_TEST_CALLS = re.compile(r"(?<![\w$.])(?:test|it|describe)\s*\(")
_TOP_LEVEL_ASSERT = re.compile(r"^(?:assert|expect)\b", re.MULTILINE)
_HEADER_LINE = re.compile(
    r"^\s*$|.*\brequire\s*\(|^import\s|^\s*['\"]use strict['\"]")
_DECLARED = re.compile(r"^(?:const|let|var|function\*?|class|async\s+function)\s+"
                       r"([A-Za-z_$][\w$]*)", re.MULTILINE)


def _balanced(code: str) -> bool:
    return open_brackets(code) == []


def _sections(body: list[str]) -> list[tuple[str, list[str]]]:
    """(title, lines) per run of code under a top-level comment that follows a blank
    line (or starts the body)."""
    sections: list[tuple[str, list[str]]] = []
    title = "top-level checks"
    current: list[str] = []
    previous_blank = True
    for line in body:
        heading = line.startswith("//") and previous_blank
        if heading and NOT_CODE.sub("", "\n".join(current)).strip():
            sections.append((title, current))
            title, current = line.lstrip("/ ").strip() or "top-level checks", []
        elif heading and not current:
            title = line.lstrip("/ ").strip() or title
        current.append(line)
        previous_blank = not line.strip()
    sections.append((title, current))
    return sections


def _merged(sections: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Sections that use a name an earlier one declares joined to it."""
    merged: list[tuple[str, list[str]]] = []
    declared: set[str] = set()
    for title, lines in sections:
        code = NOT_CODE.sub("", "\n".join(lines))
        uses_earlier = any(re.search(rf"(?<![\w$.]){re.escape(n)}\b", code) for n in declared)
        if merged and (uses_earlier or not _balanced("\n".join(merged[-1][1]))):
            merged[-1] = (merged[-1][0], merged[-1][1] + lines)
        else:
            merged.append((title, lines))
        declared |= set(_DECLARED.findall(code))
    return merged


def _as_test(title: str, lines: list[str]) -> str:
    code = "\n".join(lines).strip("\n")
    asynchronous = "async " if re.search(r"\bawait\b", NOT_CODE.sub("", code)) else ""
    indented = "\n".join(f"  {line}" if line.strip() else "" for line in code.split("\n"))
    quoted = title.replace("\\", "\\\\").replace("'", "\\'")
    return f"test('{quoted}', {asynchronous}() => {{\n{indented}\n}});\n"


def with_script_checks_as_tests(source: str) -> str:
    """`source` with its top-level checks wrapped in `test(…)` calls (see above);
    unchanged when it already has tests, has no top-level assert, or does not balance."""
    if _TEST_CALLS.search(NOT_CODE.sub("", source)) or not _TOP_LEVEL_ASSERT.search(source):
        return source
    if not _balanced(source):
        return source
    lines = source.split("\n")
    at = 0
    while at < len(lines) and _HEADER_LINE.match(lines[at]):
        at += 1
    header, body = lines[:at], lines[at:]
    sections = [(t, ls) for t, ls in _merged(_sections(body)) if "\n".join(ls).strip()]
    if not sections or not all(_balanced("\n".join(ls)) for _, ls in sections):
        return source
    head = "\n".join(header).rstrip("\n")
    tests = "\n".join(_as_test(title, ls) for title, ls in sections)
    return (head + "\n\n" if head else "") + tests
