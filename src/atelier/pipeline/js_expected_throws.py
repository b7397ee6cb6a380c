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

from atelier.pipeline.js_scan import NOT_CODE, closing_bracket

_TRY = re.compile(r"\btry\s*\{")
_CATCH = re.compile(r"\s*catch\s*(?:\(\s*(?P<name>[A-Za-z_$][\w$]*)\s*\))?\s*\{")
_FINALLY = re.compile(r"\s*finally\b")
_CHECKS = re.compile(r"(?<![\w$.])(?:assert|expect)\b|\bthrow\b|\.fail\s*\(")
_AWAITS = re.compile(r"\bawait\b")


def with_expected_throws_checked(source: str) -> str:
    """`source` with every vacuous "expects a throw" try/catch rewritten (see above)."""
    out: list[str] = []
    at = 0
    while (match := _TRY.search(source, at)) is not None:
        body_end = closing_bracket(source, match.end() - 1)
        catch = _CATCH.match(source, body_end + 1) if body_end is not None else None
        catch_end = closing_bracket(source, catch.end() - 1) if catch is not None else None
        if body_end is None or catch is None or catch_end is None or _FINALLY.match(
                source, catch_end + 1):
            out.append(source[at:match.end()])
            at = match.end()
            continue
        body = source[match.end():body_end]
        handler = source[catch.end():catch_end]
        if _CHECKS.search(NOT_CODE.sub("", body)) or not _CHECKS.search(
                NOT_CODE.sub("", handler)):
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
