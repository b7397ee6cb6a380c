"""Behaviour a request states in words, as checks: "raises `ValueError` for a negative
`k`", "throws an `Error` for an empty array", "'' for ''", "an empty array when n < 1",
"it must not modify the input array".

Like the examples, these are the user's own words, so they are tests a small model's
Tester cannot get wrong — and the edge cases the examples leave out. Only conditions
that pin one argument value are read: an empty string, list or dict; a negative,
non-positive or zero number; a comparison with a number (`c < -273.15`); a range
(`outside 1..3999`). The condition must be only that (prose such as "when there is not
enough stock" is left alone), and it must concern a function of one parameter or name
its parameter when an example of the same function supplies the others. Methods (the
bullets under a class) are left alone: calling one needs an object in a state the text
does not give.
"""

from __future__ import annotations

import builtins
import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from atelier.spec.request_sections import BULLET

CaseKind = Literal["raises", "returns", "unchanged"]


@dataclass(frozen=True)
class StatedCase:
    """`name(*args)` raises `error` (None: any exception), returns `expected`, or leaves
    its arguments as they were."""

    name: str
    args: tuple[Any, ...]
    kind: CaseKind
    clause: str  # the request's words the case comes from
    error: str | None = None
    expected: Any = None

    @property
    def source(self) -> str:
        return f"{self.name}({', '.join(repr(a) for a in self.args)})"


@dataclass
class _Function:
    name: str
    params: list[tuple[str, str]]  # (name, annotation or "")
    text: list[str] = field(default_factory=list)  # the words that describe it


_OWNER = re.compile(
    r"`(?P<name>[A-Za-z_$][\w$]*)\s*\((?P<params>[^)`]*)\)"
    r"|^(?:async\s+)?def\s+(?P<def>[A-Za-z_]\w*)\s*\((?P<defparams>[^)]*)\)"
)
_CLASS = re.compile(r"\bclass\b", re.IGNORECASE)
_ALL_FUNCTIONS = re.compile(r"\b(?:every|each|all(?:\s+the)?)\s+(?:of\s+the\s+)?functions?\b",
                            re.IGNORECASE)
# A sentence ends at `.` that is not part of a number or a range (`1..3999`), or at `;`.
_SENTENCE_END = re.compile(r"(?<![\d.])\.(?![\d.])|;|\n")
_RAISES = re.compile(r"\b(?:raises?|throws?|raising|throwing)\b", re.IGNORECASE)
_ERROR = re.compile(r"`?\b(?P<error>[A-Z]\w*(?:Error|Exception)|Error|error|exception)\b`?")
_VALUE = (r"`[^`\n]+`|'[^'\n]*'|\"[^\"\n]*\"|-?\d+(?:\.\d+)?|None|null|True|False|true|false"
          r"|an empty (?:array|list|string|dict|dictionary|object)")
_RESULT = re.compile(
    r"(?:^|[:;,(]|\b[Rr]eturns?\b|\bgives\b|\bis\b|\bbe\b)\s*(?P<value>" + _VALUE + r")"
    r"\s+(?P<cond>(?:for|when|if|in\s+case)\b[^.;\n]*(?:\.\d[^.;\n]*)*)",
)
# The condition first: "If the array is empty, return []."
_IF_RESULT = re.compile(
    r"\bif\s+(?P<cond>[^,.;\n]+?),?\s+(?:then\s+)?(?:the\s+function\s+should\s+)?"
    r"(?:returns?|gives?)\s+(?P<value>" + _VALUE + r")\s*(?:[.,;:]|$)",
    re.IGNORECASE,
)
_UNCHANGED = re.compile(
    r"\b(?:must\s+not|does\s+not|doesn't|never|without)\s+"
    r"(?:modify|modifying|modifies|mutate|mutating|mutates|change|changing|alter|altering)"
    r"\s+(?:the\s+|its\s+)?(?:input|argument|array|list|it)",
    re.IGNORECASE,
)
_LEAD = re.compile(r"^(?:(?:for|when|if|in\s+case|on|given|with|called\s+with|is|are)\s+)+",
                   re.IGNORECASE)
_NUMBER = r"-?\d+(?:\.\d+)?"
_STRING_NOUNS = {"string", "str", "text", "word", "sentence", "line", "title", "name",
                 "numeral", "input string"}
_LIST_NOUNS = {"array", "list", "sequence", "tuple", "vector"}
_DICT_NOUNS = {"dict", "dictionary", "object", "map", "mapping"}
_COMPARISONS = {"<": "lt", "<=": "le", "≤": "le", ">": "gt", ">=": "ge", "≥": "ge",
                "less than": "lt", "below": "lt", "smaller than": "lt", "under": "lt",
                "greater than": "gt", "above": "gt", "more than": "gt", "larger than": "gt",
                "over": "gt", "at most": "le", "at least": "ge"}
_MAX_CASES = 24
_WORD_VALUES: dict[str, Any] = {
    "None": None, "null": None, "True": True, "true": True, "False": False, "false": False,
    "an empty array": [], "an empty list": [], "an empty string": "", "an empty dict": {},
    "an empty dictionary": {}, "an empty object": {},
}


def parse_stated_cases(
    text: str, calls: Mapping[str, Sequence[tuple[Any, ...]]] | None = None
) -> list[StatedCase]:
    """The cases the text states for its functions, in order, without repeats.

    `calls` maps a function name to the arguments of its examples: they fill the other
    parameters of a many-parameter function, and are the calls whose arguments must stay
    unchanged. Never raises.
    """
    calls = calls or {}
    functions = _functions(text)
    shared = [s for s in _sentences(text) if _ALL_FUNCTIONS.search(s)]
    found: list[StatedCase] = []
    seen: set[tuple[str, str, str]] = set()
    for function in functions.values():
        words = " ".join([*function.text, *shared])
        for case in _cases(function, words, calls.get(function.name, ())):
            key = (case.source, case.kind, repr(case.expected))
            if key not in seen and len(found) < _MAX_CASES:
                seen.add(key)
                found.append(case)
    return found


def _functions(text: str) -> dict[str, _Function]:
    """The functions the text describes (not methods), each with the words about it: the
    rest of the line that names it and the lines after it up to the next one named."""
    functions: dict[str, _Function] = {}
    current: _Function | None = None
    in_class = False
    for line in text.split("\n"):
        bullet = bool(BULLET.match(line))
        if not bullet and line.strip():
            in_class = False
        if _CLASS.search(line) or re.match(r"^\s*class\s", line):
            in_class = True
        owner = _OWNER.search(line)
        if owner is not None:
            name = owner.group("name") or owner.group("def")
            params = owner.group("params") if owner.group("name") else owner.group("defparams")
            # `len(stack)` in prose is a call of a builtin on an object; a bullet that
            # names `range(numbers)` describes the user's own function.
            method = (bullet and in_class) or (not bullet and name in dir(builtins))
            current = None if method else functions.setdefault(
                name, _Function(name, _params(params or "")))
            if current is not None:
                current.text.append(line[owner.end():])
            continue
        if current is not None:
            current.text.append(line)
    return functions


def _params(text: str) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    for part in text.split(","):
        name, _, annotation = part.split("=", 1)[0].partition(":")
        name = name.strip()
        if name and name not in ("self", "cls") and re.fullmatch(r"[A-Za-z_$][\w$]*", name):
            params.append((name, annotation.strip()))
    return params


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _cases(function: _Function, words: str,
           examples: Sequence[tuple[Any, ...]]) -> Iterator[StatedCase]:
    for sentence in _sentences(words):
        raises = _RAISES.search(sentence)
        if raises is not None:
            yield from _raise_cases(function, sentence[raises.end():], examples)
        for match in [*_RESULT.finditer(sentence), *_IF_RESULT.finditer(sentence)]:
            ok, expected = _literal(match.group("value"))
            if not ok:
                continue
            for args in _arguments(function, match.group("cond"), examples):
                yield StatedCase(function.name, args, "returns", match.group(0).strip(" ,;:("),
                                 expected=expected)
        if _UNCHANGED.search(sentence):
            for args in examples:
                if any(isinstance(a, list | dict) for a in args):
                    yield StatedCase(function.name, tuple(args), "unchanged", sentence.strip())


def _raise_cases(function: _Function, rest: str,
                 examples: Sequence[tuple[Any, ...]]) -> Iterator[StatedCase]:
    """`ValueError for X or Y and KeyError when Z`: one case per understood condition."""
    errors = list(_ERROR.finditer(rest))
    for index, error in enumerate(errors):
        end = errors[index + 1].start() if index + 1 < len(errors) else len(rest)
        condition = re.sub(r"\s*(?:,|\band\b)?\s*$", "", rest[error.end():end])
        name = error.group("error")
        exception = None if name in ("Error", "error", "exception") else name
        clause = f"raises {name} {condition.strip()}".strip()
        for alternative in re.split(r"\s+or\s+|,\s*", condition):
            for args in _arguments(function, alternative, examples):
                yield StatedCase(function.name, args, "raises", clause, error=exception)


def _arguments(function: _Function, condition: str,
               examples: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The argument tuples the condition pins, [] when it is not understood."""
    pieces = [condition, *re.findall(r"\(([^()]*)\)", condition)]
    for piece in pieces:
        piece = re.sub(r"\([^()]*\)", " ", piece) if piece is condition else piece
        parsed = _condition(_normal(piece), function, examples)
        if parsed is None:
            continue
        param, values = parsed
        names = [p for p, _ in function.params]
        if param is None:
            if len(names) != 1:
                return []
            param = names[0]
        index = names.index(param)
        if len(names) == 1:
            return [(v,) for v in values]
        template = next((e for e in examples if len(e) == len(names)), None)
        if template is None:
            return []
        return [tuple(v if i == index else a for i, a in enumerate(template)) for v in values]
    return []


def _normal(condition: str) -> str:
    condition = condition.replace("`", "").strip().rstrip(".,:")
    condition = re.sub(r"\s+", " ", condition)
    return _LEAD.sub("", condition).strip()


_ARGUMENT_NOUNS = {"input", "argument", "number", "value", "integer", "int", "float"}
_OTHER = "\0other"  # a word that names neither a parameter nor "the argument"


def _condition(text: str, function: _Function,
               examples: Sequence[tuple[Any, ...]]) -> tuple[str | None, list[Any]] | None:
    """(parameter, or None for "the only one", values) for a condition that is exactly
    one of the understood forms, else None."""
    names = {p for p, _ in function.params}

    def target(word: str | None) -> str | None:
        if word is None or word in names:
            return word
        noun = word.lower().removesuffix("s")  # "negative numbers"
        known = _STRING_NOUNS | _LIST_NOUNS | _DICT_NOUNS | _ARGUMENT_NOUNS
        return None if noun in known else _OTHER

    if re.fullmatch(r"''|\"\"|\[\]|\{\}", text):
        return None, [_literal(text)[1]]
    flags = re.IGNORECASE
    if empty := (re.fullmatch(r"(?:an?|the)?\s*empty\s+(?P<noun>[\w$]+)(?:\s+(?P<p>[\w$]+))?",
                              text, flags)
                 or re.fullmatch(r"(?:an?|the)?\s*(?:(?:input|given|provided)\s+)?(?P<noun>[\w$]+)"
                                 r"\s+is\s+empty", text, flags)):
        noun = empty.group("noun")
        param = target(empty.groupdict().get("p") or noun)
        if param == _OTHER:  # "an empty queue" of a function about something else
            return None
        blank = _empty_value(noun, function, param, examples)
        return None if blank is None else (param, [blank])
    forms: list[tuple[str, list[Any]]] = [
        (r"(?:an?\s+)?negative\s*(?P<word>[\w$]+)?"
         r"|(?:an?\s+|the\s+)?(?P<word2>[\w$]+)\s+is\s+negative", [-1]),
        (r"(?:(?:an?\s+|the\s+)?(?P<word>[\w$]+)\s+is\s+)?(?:not\s+positive|non-?positive"
         r"|zero\s+or\s+(?:less|negative)|negative\s+or\s+zero)(?:\s+(?P<word2>[\w$]+))?",
         [0, -1]),
        (r"(?:(?:the\s+)?(?P<word>[\w$]+)\s+is\s+)?(?:zero|0)(?P<word2>)", [0]),
    ]
    for pattern, values in forms:
        if match := re.fullmatch(pattern, text, flags):
            param = target(match.group("word") or match.group("word2") or None)
            return None if param == _OTHER else (param, values)
    if re.fullmatch(r"(?:an?|any)\s+(?:character|char)\s+(?:that|which)\s+is\s+not\s+an?\s+"
                    r"(?!.*\b(?:punctuation|symbol|special|printable|mark|ascii)\b)[\w\s-]+",
                    text, flags):
        # "a character that is not a Roman digit": "?" is a digit or letter of nothing.
        one_string = (len(function.params) == 1
                      and _empty_value("input", function, None, examples) == "")
        return (None, ["?"]) if one_string else None
    compare = re.fullmatch(
        r"(?P<word>[\w$]+)\s*(?:is\s+)?(?P<op><=|>=|<|>|≤|≥|less than|below|smaller than|under|"
        r"greater than|above|more than|larger than|over|at most|at least)\s*(?P<n>" + _NUMBER
        + r")", text)
    if compare and compare.group("word") in names:
        bound = _number(compare.group("n"))
        step = {"lt": -1, "le": 0, "gt": 1, "ge": 0}[_COMPARISONS[compare.group("op")]]
        return compare.group("word"), [bound + step]
    outside = re.fullmatch(
        r"(?:(?P<word>[\w$]+)\s+(?:is\s+)?)?(?:outside|not\s+in|not\s+within|out\s+of)\s+"
        r"(?:the\s+range\s+)?(?:of\s+)?\[?(?P<low>-?\d+)\s*(?:\.\.\.?|–|-|to|,)\s*"
        r"(?P<high>-?\d+)\]?", text, flags)
    if outside:
        param = target(outside.group("word"))
        low, high = int(outside.group("low")), int(outside.group("high"))
        return None if param == _OTHER or low > high else (param, [low - 1, high + 1])
    return None


def _empty_value(noun: str, function: _Function, target: str | None,
                 examples: Sequence[tuple[Any, ...]]) -> Any:
    """"" / [] / {} for an empty thing: by its noun, else by the type its parameter has
    in the annotation or the examples (`arr`, `list` as a parameter name say nothing)."""
    params = dict(function.params)
    noun = noun.lower() if noun not in params else ""  # `list` the parameter: its type?
    if noun in _STRING_NOUNS:
        return ""
    if noun in _LIST_NOUNS:
        return []
    if noun in _DICT_NOUNS:
        return {}
    names = list(params)
    index = names.index(target) if target else (0 if len(names) == 1 else None)
    if index is None:
        return None
    annotation = params[names[index]].lower()
    shown = {type(e[index]) for e in examples if len(e) == len(names)}
    if len(shown) == 1:
        kind = shown.pop()
        return kind() if kind in (str, list, dict) else None
    if annotation.startswith("str"):
        return ""
    if annotation.startswith(("list", "sequence", "tuple", "iterable")):
        return []
    if annotation.startswith(("dict", "mapping")):
        return {}
    return None


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _literal(text: str) -> tuple[bool, Any]:
    """(True, value) when the text is one plain literal, in Python or JavaScript words."""
    text = text.strip().strip("`").strip()
    if text in _WORD_VALUES:
        return True, copy.deepcopy(_WORD_VALUES[text])
    if re.fullmatch(_NUMBER, text):
        return True, _number(text)
    if re.fullmatch(r"'[^']*'|\"[^\"]*\"|\[\]|\{\}", text):
        return True, {"[]": [], "{}": {}}.get(text, text[1:-1])
    return False, None
