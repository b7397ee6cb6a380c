"""Finding where a JavaScript bracket or string ends, for the mendings.

Not a parser: enough to skip strings, template literals and comments while counting
brackets, which is what rewriting a generated file needs. Regular-expression
literals are not recognised; a bracket inside one can mislead it, and the callers then
leave the file as it was.
"""

from __future__ import annotations

import re

_QUOTES = "'\"`"
CLOSING = {"{": "}", "(": ")", "[": "]"}
# Comments and string literals, dropped before looking at the code itself: "does not
# throw" in a comment is not a check.
NOT_CODE = re.compile(
    r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`",
    re.DOTALL)


def closing_bracket(source: str, opening: int) -> int | None:
    """Index of the bracket that closes the `{`, `(` or `[` at `opening`; strings,
    template literals and comments are skipped (a template's `${…}` counts as code).
    None when unbalanced."""
    open_char = source[opening]
    close_char = CLOSING[open_char]
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
            end = string_end(source, at)
            if end is None:
                return None
            at = end
        elif char == open_char:
            depth += 1
        elif char == close_char:
            depth -= 1
            if depth == 0:
                return at
        at += 1
    return None


def string_end(source: str, start: int) -> int | None:
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
            end = closing_bracket(source, at + 1)
            if end is None:
                return None
            at = end
        elif char == "\n" and quote != "`":
            return None
        at += 1
    return None


def open_brackets(source: str) -> list[str] | None:
    """The brackets still open at the end of `source`, outermost first; None when a
    string or comment is left open or a closing bracket does not match."""
    stack: list[str] = []
    at = 0
    while at < len(source):
        char = source[at]
        if source.startswith("//", at):
            end = source.find("\n", at)
            at = len(source) if end < 0 else end
        elif source.startswith("/*", at):
            end = source.find("*/", at + 2)
            if end < 0:
                return None
            at = end + 1
        elif char in _QUOTES:
            quote_end = string_end(source, at)
            if quote_end is None:
                return None
            at = quote_end
        elif char in CLOSING:
            stack.append(char)
        elif char in CLOSING.values() and (not stack or CLOSING[stack.pop()] != char):
            return None
        at += 1
    return stack
