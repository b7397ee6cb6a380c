"""Examples written inline in a request: `f(2, 3) == 5`, `f("ab") ➞ "AB"`,
`f([1]) => [1]`, `f(4) returns True`, `f(x) should return 16.`, `f(1)  # returns "b"`.

Users (and half of HumanEval's prompts) state expected results this way rather than as
doctest `>>>` blocks. An example is kept only when it is unambiguous: a plain call of a
function whose every argument is a literal, a separator, then one literal (the last
`= value` of a worked sum like `f(l) == 1 + 9 = 10`). `Input: a = 1, b = 2` / `Output: 3`
blocks and "For lst = [1] the output should be 1" sentences count too, as calls of the
one function the text defines, when they give every parameter a literal. Anything else
is prose and left alone — a wrong example would make right code look wrong.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from typing import Any, overload

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
_SIGNATURE = re.compile(r"\bdef\s+([A-Za-z_]\w*)\s*\(([^)]*)\)")
# "Input: x = 1\n Output: 2" (with a blank line or an "Example" heading between blocks)
# and "For lst = [1, 2] the output should be 3".
_INPUT_OUTPUT = re.compile(
    r"(?:\bInput\s*:\s*(?P<input>(?:(?!\bOutput\b)[^\n]*\n?){1,8}?)\s*Output\s*:"
    r"|\bFor\s+(?P<input2>[^\n]+?)\s+the output should be)\s*(?P<output>[^\n]*)",
    re.IGNORECASE,
)
_NAME_COLON = re.compile(r"^([A-Za-z_]\w*)\s*:(?!=)")
_BUILTINS = frozenset(dir(builtins)) | {"print", "console", "assert"}
_MAX_EXAMPLES = 40
# The name of the generated examples test (file stem, node:test name prefix): reports tell
# the spec's own examples from the other tests by it.
SPEC_EXAMPLES_NAME = "test_spec_examples"
# The examples the Planner wrote for a request that gave none: run first like the
# request's own, but weighed like any generated test (a model's word, not the user's).
PLANNED_EXAMPLES_NAME = "test_planned_examples"


@dataclass(frozen=True)
class InlineExample:
    """`name(*args)` is expected to return `expected` (Python values, literals only)."""

    name: str
    args: tuple[Any, ...]
    expected: Any
    source: str  # the call as written (Python syntax)
    separator: str = "=="


def parse_inline_examples(text: str) -> list[InlineExample]:
    """Every unambiguous example of the text, in order, without repeats: calls with a
    result (`f(1) == 2`), then Input/Output blocks and "For x = 1 the output should be 2"
    sentences of the one function the text defines.

    Lines of doctest blocks (`>>>`, `...`) are skipped (the doctest parser reads them).
    Definitions (`def f(x) -> int`) are never examples. Never raises.
    """
    text = "\n".join("" if line.lstrip().startswith((">>>", "...")) else line
                     for line in text.split("\n"))
    found: list[InlineExample] = []
    seen: set[tuple[str, str]] = set()

    def keep(example: InlineExample) -> None:
        key = (example.source, repr(example.expected))
        if key not in seen and len(found) < _MAX_EXAMPLES:
            seen.add(key)
            found.append(example)

    for example in _call_examples(text):
        keep(example)
    for example in _input_output_examples(text):
        keep(example)
    return _consistent(found, text)


def _call_examples(text: str) -> list[InlineExample]:
    found: list[InlineExample] = []
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
        if example is not None:
            found.append(example)
    return found


def _input_output_examples(text: str) -> list[InlineExample]:
    """`Input: arr = [1], k = 2` / `Output: 3` blocks and `For lst = [1] the output should
    be 1` sentences, as calls of the text's one (last) defined function."""
    signature = _last_signature(text)
    if signature is None:
        return []
    name, params = signature
    found: list[InlineExample] = []
    for match in _INPUT_OUTPUT.finditer(text):
        args = _arguments(match.group("input") or match.group("input2"), params)
        ok, expected = _expected_value(match.group("output"))
        if args is not None and ok:
            source = f"{name}({', '.join(repr(a) for a in args)})"
            found.append(InlineExample(name=name, args=args, expected=expected, source=source,
                                       separator="output"))
    return found


def _last_signature(text: str) -> tuple[str, list[str]] | None:
    """The name and parameter names of the last `def` of the text."""
    signatures = list(_SIGNATURE.finditer(text))
    if not signatures:
        return None
    last = signatures[-1]
    params = []
    for part in last.group(2).split(","):
        param = part.split(":", 1)[0].split("=", 1)[0].strip()
        if param and param not in ("self", "cls") and not param.startswith(("*", "/")):
            params.append(param)
    return last.group(1), params


def _arguments(source: str, params: list[str]) -> tuple[Any, ...] | None:
    """The arguments an Input shows: `a = 1, b = [2]` / `a : 1` lines by parameter name,
    or bare literals in parameter order. None unless every parameter gets a value."""
    lines = [_NAME_COLON.sub(r"\1 =", line.strip()) for line in source.splitlines()]
    source = " ".join(line if line.endswith((",", "[", "(", "{")) else line + ","
                      for line in lines if line).rstrip(",")
    named = _literal_args(f"f({source})", keywords=True)
    if isinstance(named, dict):
        if sorted(named) == sorted(params):
            return tuple(named[p] for p in params)
        return None
    positional = _literal_args(f"f({source})")
    if positional is not None and len(positional) == len(params):
        return positional
    return None


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
    source = _pythonic(_collapse_space(call_text))
    word = separator.group(0).strip(" \t\n#/:").lower()
    return InlineExample(name=name, args=args, expected=expected, source=source,
                         separator=word)


@overload
def _literal_args(call_text: str) -> tuple[Any, ...] | None: ...
@overload
def _literal_args(call_text: str, *, keywords: bool) -> dict[str, Any] | None: ...


def _literal_args(call_text: str, *, keywords: bool = False) -> Any:
    """The arguments of a call whose arguments are all literals, else None: positional
    ones as a tuple, or with `keywords` keyword-only ones as a dict."""
    try:
        tree = ast.parse(_pythonic(call_text), mode="eval")
    except SyntaxError:
        return None
    call = tree.body
    if not isinstance(call, ast.Call) or bool(call.keywords) != keywords:
        return None
    if keywords and call.args:
        return None
    try:
        if keywords:
            return {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        return tuple(ast.literal_eval(arg) for arg in call.args)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


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


def _collapse_space(source: str) -> str:
    """Runs of whitespace outside string literals as one space (a call written over
    lines, on one); inside a string every space is part of the argument."""
    out: list[str] = []
    last = 0
    for start, end in _code_spans(source):
        out.append(source[last:start])
        out.append(re.sub(r"\s+", " ", source[start:end]))
        last = end
    out.append(source[last:])
    return "".join(out).strip()


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
