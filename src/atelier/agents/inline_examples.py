"""Examples written inline in a request: `f(2, 3) == 5`, `f("ab") ➞ "AB"`,
`f([1]) => [1]`, `f(4) returns True`, `f(x) should return 16.`, `f(1)  # returns "b"`.

Users (and half of HumanEval's prompts) state expected results this way rather than as
doctest `>>>` blocks. An example is kept only when it is unambiguous: a plain call of a
function whose every argument is a literal, a separator, then one literal (the last
`= value` of a worked sum like `f(l) == 1 + 9 = 10`). Anything else is prose and left
alone — a wrong example would make right code look wrong.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from typing import Any

# Longest first: `==>` must not be read as `==` followed by `>`.
_SEPARATORS = ("===", "==>", "==", "=>", "->", "➞", "→", "=", "should return", "returns",
               "should be", "gives", "is")
_SEPARATOR = re.compile(
    r"\s*(?:#|//)?\s*(?:" + "|".join(re.escape(s) for s in _SEPARATORS) + r")(?![=>])\s*:?\s*",
    re.IGNORECASE,
)
_CALL_START = re.compile(r"(?<![\w.])([A-Za-z_$][\w$]*)\s*\(")
_DECLARATION = re.compile(r"(?:\bdef|\bfunction|\bclass|\bnew|\blambda)\s*$")
# Words for the literals of other languages that users write in examples.
_WORDS = {"true": "True", "false": "False", "null": "None", "none": "None",
          "undefined": "None"}
_WORD = re.compile(r"\b(true|false|null|none|undefined)\b", re.IGNORECASE)
_STOP = re.compile(r"[\s;,.#(]")
# `name(…)` in backticks: a function the user names as one to write.
_NAMED = re.compile(r"`([A-Za-z_$][\w$]*)\s*\(")
_DECLARED = re.compile(r"(?:\bdef|\bfunction)\s+([A-Za-z_$][\w$]*)\s*\(")
# `f(n) = 1 + n / 2`: a name defined by an equation over a variable.
_EQUATION = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(\s*[A-Za-z_]\w*\s*\)\s*=(?![=>])")
_BUILTINS = frozenset(dir(builtins)) | {"print", "console", "assert"}
_MAX_EXAMPLES = 40
# The name of the generated examples test (file stem, node:test suite): reports tell
# the spec's own examples from the other tests by it.
SPEC_EXAMPLES_NAME = "test_spec_examples"


@dataclass(frozen=True)
class InlineExample:
    """`name(*args)` is expected to return `expected` (Python values, literals only)."""

    name: str
    args: tuple[Any, ...]
    expected: Any
    source: str  # the call as written (Python syntax)
    separator: str = "=="


def parse_inline_examples(text: str, *, skip_doctest_lines: bool = True) -> list[InlineExample]:
    """Every unambiguous `call <separator> literal` of the text, in order, without repeats.

    Lines of doctest blocks (`>>>`, `...`) are skipped (the doctest parser reads them)
    unless `skip_doctest_lines` is false. Definitions (`def f(x) -> int`) are never
    examples. Never raises.
    """
    if skip_doctest_lines:
        text = "\n".join("" if line.lstrip().startswith((">>>", "...")) else line
                         for line in text.split("\n"))
    found: list[InlineExample] = []
    seen: set[tuple[str, str]] = set()
    declared = set(_DECLARED.findall(text))
    # A builtin's name is the user's function only when the user says so (`range(xs)`).
    excluded = _BUILTINS - declared - set(_NAMED.findall(text))
    for match in _CALL_START.finditer(text):
        name = match.group(1)
        if name in excluded or (declared and name not in declared):
            continue
        if _DECLARATION.search(text[: match.start()][-12:]):
            continue
        end = _closing_paren(text, match.end() - 1)
        if end is None:
            continue
        example = _example(name, text[match.start() : end + 1], text[end + 1 :])
        if example is None:
            continue
        key = (example.source, repr(example.expected))
        if key not in seen:
            seen.add(key)
            found.append(example)
        if len(found) >= _MAX_EXAMPLES:
            break
    return _consistent(found, text)


def _consistent(examples: list[InlineExample], text: str) -> list[InlineExample]:
    """Drop what reads like an example but is something else.

    * the same call with two different results (a recurrence worked through);
    * `f(1) = 3` where the text also defines `f(n) = …` by an equation (a definition);
    * results of another kind than most of the function's results (a list function
      "== 3" beside list results is a special case worded loosely, or a typo).
    """
    results: dict[str, set[str]] = {}
    for e in examples:
        results.setdefault(e.source, set()).add(repr(e.expected))
    kept = [e for e in examples if len(results[e.source]) == 1]
    defined_by_equation = set(_EQUATION.findall(text))
    kept = [e for e in kept if not (e.separator == "=" and e.name in defined_by_equation)]
    by_name: dict[str, list[str]] = {}
    for e in kept:
        if e.expected is not None:
            by_name.setdefault(e.name, []).append(_kind(e.expected))
    chosen: dict[str, str | None] = {}
    for name, kinds in by_name.items():
        counts = sorted(((kinds.count(k), k) for k in set(kinds)), reverse=True)
        tie = len(counts) > 1 and counts[0][0] == counts[1][0]
        chosen[name] = None if tie else counts[0][1]
    return [e for e in kept
            if e.expected is None or (chosen.get(e.name) == _kind(e.expected))]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | complex):
        return "number"
    if isinstance(value, list | tuple):
        return "sequence"
    return type(value).__name__


def _example(name: str, call_text: str, after: str) -> InlineExample | None:
    args = _literal_args(call_text)
    if args is None:
        return None
    separator = _SEPARATOR.match(after)
    if separator is None:
        return None
    line = after[separator.end() :].split("\n", 1)[0]
    found, expected = _expected_value(line)
    if not found:
        return None
    source = _pythonic(" ".join(call_text.split()))
    word = separator.group(0).strip(" \t\n#/:").lower()
    return InlineExample(name=name, args=args, expected=expected, source=source,
                         separator=word)


def _literal_args(call_text: str) -> tuple[Any, ...] | None:
    """The positional arguments of a call whose arguments are all literals, else None."""
    try:
        tree = ast.parse(_pythonic(call_text), mode="eval")
    except SyntaxError:
        return None
    call = tree.body
    if not isinstance(call, ast.Call) or call.keywords:
        return None
    values: list[Any] = []
    for arg in call.args:
        try:
            values.append(ast.literal_eval(arg))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    return tuple(values)


def _expected_value(line: str) -> tuple[bool, Any]:
    """(True, value) for the literal a line of expected output starts with.

    A worked result (`19 - 5 - 6 = 8`) counts by its last `= value`; trailing prose
    (`True.`, `[1, 5] # because …`) is cut at the longest prefix that is a literal.
    """
    line = line.split("#", 1)[0] if not _in_string_at(line, "#") else line
    parts = re.split(r"(?<![=!<>])=(?![=>])", line)
    if len(parts) > 1:
        line = parts[-1]
    line = line.strip().removesuffix(".")  # the end of a sentence, not a float
    cuts = sorted({m.start() for m in _STOP.finditer(line)} | {len(line)}, reverse=True)
    for cut in cuts:
        candidate = line[:cut].strip()
        if not candidate:
            continue
        try:
            value = ast.literal_eval(_pythonic(candidate))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        return True, value
    return False, None


def _pythonic(source: str) -> str:
    """JavaScript-style words outside strings (`true`, `null`) as Python's literals."""
    out: list[str] = []
    last = 0
    for start, end in _code_spans(source):
        out.append(source[last:start])
        out.append(_WORD.sub(lambda m: _WORDS[m.group(1).lower()], source[start:end]))
        last = end
    out.append(source[last:])
    return "".join(out)


def _code_spans(source: str) -> list[tuple[int, int]]:
    """The (start, end) ranges of `source` that are outside string literals."""
    spans: list[tuple[int, int]] = []
    start, i, quote = 0, 0, ""
    while i < len(source):
        ch = source[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote, start = "", i + 1
        elif ch in "'\"`":
            spans.append((start, i))
            quote = ch
        i += 1
    if not quote:
        spans.append((start, len(source)))
    return spans


def _in_string_at(source: str, char: str) -> bool:
    """Whether the first `char` of `source` sits inside a string literal."""
    index = source.find(char)
    if index < 0:
        return False
    return not any(start <= index < end for start, end in _code_spans(source))


def _closing_paren(text: str, open_index: int) -> int | None:
    """Index of the parenthesis closing the one at `open_index`, strings respected."""
    depth, i, quote = 0, open_index, ""
    limit = min(len(text), open_index + 2000)
    while i < limit:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
            elif ch == "\n" and quote != "`":
                return None  # an unterminated string: prose with an apostrophe
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i if ch == ")" else None
        i += 1
    return None
