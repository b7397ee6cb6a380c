"""Parse TAP (as written by ``node --test --test-reporter=tap``) into test cases."""

from __future__ import annotations

import re

from atelier.domain.report import Outcome, TestCase
from atelier.sandbox.junit import ParsedTests

_RESULT = re.compile(
    r"^(?P<indent>\s*)(?P<status>not ok|ok)\b\s*(?P<number>\d+)?\s*(?:-\s*)?(?P<rest>.*)$"
)
_DIRECTIVE = re.compile(r"\s+#\s*(?P<kind>SKIP|TODO)\b(?P<reason>.*)$", re.IGNORECASE)
_SUMMARY = re.compile(r"^#\s*(?P<key>tests|pass|fail|skipped|todo|cancelled)\s+(?P<n>\d+)\s*$")
_DURATION = re.compile(r"^\s*duration_ms:\s*(?P<ms>[\d.]+)")
_ERROR_START = re.compile(r"^\s*error:\s*(?P<value>.*)$")
_FILE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts")
_MAX_MESSAGE_CHARS = 2000
# What node prints (as TAP comments) when a test file cannot even load: the error line
# names the cause ("ReferenceError: describe is not defined"), the result only says
# "test failed".
_LOAD_ERROR = re.compile(r"^#\s*(?P<error>(?:[A-Z]\w*)?Error\b.*|Cannot find module .*)$")
_LOAD_LOCATION = re.compile(r"^#\s*(?P<where>\S+\.(?:js|mjs|cjs|ts):\d+)\s*$")


def _unescape(name: str) -> str:
    return name.replace("\\#", "#").replace("\\\\", "\\").strip()


def _yaml_block(lines: list[str], start: int) -> tuple[dict[str, str], int]:
    """The ``---`` ... ``...`` diagnostics block after a result line, crudely read.

    Only ``duration_ms`` and ``error`` (single line or ``|-`` block) are needed.
    Returns the fields and the index of the first line after the block.
    """
    fields: dict[str, str] = {}
    if start >= len(lines) or lines[start].strip() != "---":
        return fields, start
    i = start + 1
    while i < len(lines) and lines[i].strip() != "...":
        line = lines[i]
        if m := _DURATION.match(line):
            fields["duration_ms"] = m["ms"]
        elif m := _ERROR_START.match(line):
            value = m["value"].strip()
            if value in ("|-", "|", ">-", ">"):
                indent = len(line) - len(line.lstrip())
                body = []
                i += 1
                while i < len(lines) and (
                    not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
                ):
                    body.append(lines[i].strip())
                    i += 1
                fields["error"] = "\n".join(body).strip()
                continue
            fields["error"] = value.strip("'\"")
        i += 1
    return fields, i + 1


def parse_tap(text: str) -> ParsedTests:
    """Every ``ok`` / ``not ok`` line, nested subtests included (named ``parent > child``).

    ``# SKIP`` and ``# TODO`` results count as skipped. A failed result whose name is
    a test file (node reports a file that could not even load that way) counts as an
    error rather than a failure. Lines that are not TAP are ignored, so console output
    of the tests mixed into the stream does no harm.
    """
    lines = text.splitlines()
    cases: list[TestCase] = []
    # node prints "# Subtest: name" before a test's children; the stack maps indent -> name.
    pending_parents: list[tuple[int, str]] = []
    # Paths (parents + name) that had results of their own: suites, not tests.
    suites: set[tuple[str, ...]] = set()
    failed_in: set[tuple[str, ...]] = set()
    load_error: str | None = None
    load_location: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if line.startswith("#") and (m := _LOAD_ERROR.match(stripped)) and load_error is None:
            load_error = m["error"].strip()
        elif line.startswith("#") and (m := _LOAD_LOCATION.match(stripped)):
            load_location = m["where"]
        if stripped.startswith("# Subtest:"):
            indent = len(line) - len(line.lstrip())
            pending_parents = [(d, n) for d, n in pending_parents if d < indent]
            pending_parents.append((indent, stripped[len("# Subtest:") :].strip()))
            i += 1
            continue
        m = _RESULT.match(line)
        if not m or stripped.startswith("#"):
            i += 1
            continue
        indent = len(m["indent"])
        rest = m["rest"]
        directive = _DIRECTIVE.search(rest)
        if directive:
            rest = rest[: directive.start()]
        name = _unescape(rest)
        parents = [n for d, n in pending_parents if d < indent]
        pending_parents = [(d, n) for d, n in pending_parents if d < indent]
        fields, i = _yaml_block(lines, i + 1)
        outcome: Outcome
        if directive:
            outcome = "skipped"
        elif m["status"] == "ok":
            outcome = "passed"
        elif name.endswith(_FILE_SUFFIXES) and not parents:
            outcome = "error"
        else:
            outcome = "failed"
        path = (*parents, name)
        for depth in range(1, len(parents) + 1):
            suites.add(path[:depth])
            if outcome == "failed":
                failed_in.add(path[:depth])
        if path in suites and (outcome != "failed" or path in failed_in):
            # A suite's own line repeats what its tests said: counted once, as tests.
            continue
        message = fields.get("error", "") if outcome in ("failed", "error") else ""
        if outcome == "error" and message in ("", "test failed") and load_error:
            where = f" ({load_location.rsplit('/', 1)[-1]})" if load_location else ""
            message = f"the test file did not load: {load_error}{where}"
            load_error = load_location = None
        if directive and directive["reason"].strip():
            message = directive["reason"].strip()
        try:
            duration = float(fields.get("duration_ms", "0")) / 1000.0
        except ValueError:
            duration = 0.0
        cases.append(
            TestCase(
                name=" > ".join([*parents, name]),
                classname="",
                outcome=outcome,
                message=message[:_MAX_MESSAGE_CHARS],
                duration_s=duration,
            )
        )
    return ParsedTests(cases=cases)


def tap_summary(text: str) -> dict[str, int]:
    """The ``# pass N`` style totals node prints at the end, if present."""
    summary: dict[str, int] = {}
    for line in text.splitlines():
        if m := _SUMMARY.match(line.strip()):
            summary[m["key"]] = int(m["n"])
    return summary
