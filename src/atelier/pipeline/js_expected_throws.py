"""Make a JavaScript test that expects a throw fail when nothing is thrown.

Small models write "it throws" tests as

    try { addTask(''); } catch (error) { assert.equal(error.message, 'empty title'); }

which passes without checking anything when `addTask` does not throw: the catch never
runs. Such a test is vacuous evidence — a job was once reported verified on two of
them — so it is rewritten to what it means, with node:assert:

    assert.throws(() => { addTask(''); }, (error) => { assert.equal(…); return true; });

(`await assert.rejects(async () => …)` when the try block awaits). Only a try block
that checks nothing itself (no assert, expect, throw or fail) and whose catch block
does check something is rewritten: any other try/catch already fails on its own.
"""

from __future__ import annotations

import re

_TRY = re.compile(r"\btry\s*\{")
_CATCH = re.compile(r"\s*catch\s*(?:\(\s*(?P<name>[A-Za-z_$][\w$]*)\s*\))?\s*\{")
_FINALLY = re.compile(r"\s*finally\b")
_CHECKS = re.compile(r"(?<![\w$.])(?:assert|expect)\b|\bthrow\b|\.fail\s*\(")
_AWAITS = re.compile(r"\bawait\b")
# Comments and string literals, dropped before looking for checks: "does not throw" in
# a comment is not a check.
_NOT_CODE = re.compile(
    r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`",
    re.DOTALL)
_QUOTES = "'\"`"


def _closing_brace(source: str, opening: int) -> int | None:
    """Index of the `}` that closes the `{` at `opening`; strings, template literals and
    comments are skipped (a template's `${…}` counts as code). None when unbalanced."""
    depth = 0
    at = opening
    while at < len(source):
        char = source[at]
        if source.startswith("//", at):
            at = source.find("\n", at)
            if at < 0:
                return None
        elif source.startswith("/*", at):
            at = source.find("*/", at + 2)
            if at < 0:
                return None
            at += 1
        elif char in _QUOTES:
            string_end = _string_end(source, at)
            if string_end is None:
                return None
            at = string_end
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return at
        at += 1
    return None


def _string_end(source: str, start: int) -> int | None:
    """Index of the quote closing the string literal opened at `start`."""
    quote = source[start]
    at = start + 1
    while at < len(source):
        char = source[at]
        if char == "\\":
            at += 2
            continue
        if char == quote:
            return at
        if quote == "`" and source.startswith("${", at):
            end = _closing_brace(source, at + 1)
            if end is None:
                return None
            at = end
        elif char == "\n" and quote != "`":
            return None
        at += 1
    return None


def with_expected_throws_checked(source: str) -> str:
    """`source` with every vacuous "expects a throw" try/catch rewritten (see above)."""
    out: list[str] = []
    at = 0
    while (match := _TRY.search(source, at)) is not None:
        body_end = _closing_brace(source, match.end() - 1)
        catch = _CATCH.match(source, body_end + 1) if body_end is not None else None
        catch_end = _closing_brace(source, catch.end() - 1) if catch is not None else None
        if body_end is None or catch is None or catch_end is None or _FINALLY.match(
                source, catch_end + 1):
            out.append(source[at:match.end()])
            at = match.end()
            continue
        body = source[match.end():body_end]
        handler = source[catch.end():catch_end]
        if _CHECKS.search(_NOT_CODE.sub("", body)) or not _CHECKS.search(
                _NOT_CODE.sub("", handler)):
            out.append(source[at:match.end()])
            at = match.end()
            continue
        name = catch["name"] or "_error"
        line_start = source.rfind("\n", 0, match.start()) + 1
        before = source[line_start:match.start()]
        indent = before[:len(before) - len(before.lstrip())]
        validate = f"({name}) => {{{handler.rstrip()}\n{indent}  return true;\n{indent}}}"
        if _AWAITS.search(body):
            call = f"await assert.rejects(async () => {{{body}}}, {validate});"
        else:
            call = f"assert.throws(() => {{{body}}}, {validate});"
        out.append(source[at:match.start()] + call)
        at = catch_end + 1
    out.append(source[at:])
    return "".join(out)
