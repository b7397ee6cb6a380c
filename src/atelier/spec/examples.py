"""Tests made from the examples of a spec: doctest `>>>` blocks and inline examples
(`f(2) == 4`, `f("a") ➞ "b"`, see `inline_examples`), as HumanEval prompts and users
write them, and the behaviour it states in words ("raises `ValueError` for a negative
`k`", see `stated_cases`).

These are the cheapest trustworthy tests there are: the user wrote the expected
outputs. Resample selection runs them to choose between candidate solutions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass

from atelier.domain.paths import is_test_path, module_name
from atelier.spec.examples_js import javascript_examples_test
from atelier.spec.inline_examples import (
    PLANNED_EXAMPLES_NAME,
    SPEC_EXAMPLES_NAME,
    parse_inline_examples,
)
from atelier.spec.stated_cases import StatedCase, parse_stated_cases

EXAMPLES_TEST_PATH = f"tests/{SPEC_EXAMPLES_NAME}.py"
# Seconds one Python example may run: examples take milliseconds; a loop that never ends
# fails its own example instead of timing out the whole test run.
EXAMPLE_TIME_LIMIT_S = 5

_PROMPT = re.compile(r"^(\s*)>>>\s?(.*)$")
_CONTINUATION = re.compile(r"^(\s*)\.\.\.(?:\s(.*))?$")
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(", re.M)


@dataclass(frozen=True)
class SpecExample:
    """One `>>> source` with the output the spec expects ("" = no output)."""

    source: str
    expected: str
    setup: tuple[str, ...]  # earlier statements of the same spec (doctest shares them)


def parse_examples(text: str) -> list[SpecExample]:
    """Every example of the text: the doctest ones, then the inline ones."""
    examples = parse_doctest_examples(text)
    known = {(e.source, e.expected) for e in examples}
    for inline in parse_inline_examples(text):
        example = SpecExample(inline.source, repr(inline.expected), ())
        if (example.source, example.expected) not in known:
            examples.append(example)
    return examples


def parse_doctest_examples(text: str) -> list[SpecExample]:
    """Every `>>>` example of the text with its expected output.

    Continuation lines (`...`) join the source; the expected output runs to the next
    blank line, `>>>` line or closing docstring quotes. Statements without output
    (`>>> x = f()`) and calls shown without output (`>>> s.push(1)`) also run as
    setup before the examples after them, as doctest shares one namespace.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    examples: list[SpecExample] = []
    setup: list[str] = []
    index = 0
    while index < len(lines):
        match = _PROMPT.match(lines[index])
        index += 1
        if not match:
            continue
        indent, source_lines = match.group(1), [match.group(2)]
        while index < len(lines):
            cont = _CONTINUATION.match(lines[index])
            if not cont:
                break
            source_lines.append(cont.group(2) or "")
            index += 1
        expected_lines: list[str] = []
        while index < len(lines):
            line = lines[index]
            stripped = line.strip()
            if not stripped or _PROMPT.match(line) or stripped.startswith(('"""', "'''")):
                break
            if stripped.endswith(('"""', "'''")):
                expected_lines.append(stripped[:-3].rstrip())
                index += 1
                break
            expected_lines.append(line[len(indent) :] if line.startswith(indent) else stripped)
            index += 1
        source = "\n".join(source_lines).strip()
        expected = "\n".join(expected_lines).strip()
        if not source:
            continue
        if _is_expression(source):
            if not expected and _is_comparison(source):
                # `>>> f(x) == y` with nothing below: the author means it holds.
                expected = "True"
            examples.append(SpecExample(source, expected, tuple(setup)))
            if not expected:
                setup.append(source)  # a call shown for its effect (`>>> s.push(1)`)
        elif _is_statement(source) and not expected:
            setup.append(source)
    return examples


def example_calls(examples: list[SpecExample]) -> dict[str, list[tuple[object, ...]]]:
    """The literal arguments of each function's example calls (`f(1, [2]) == 3` → f: (1, [2]))."""
    calls: dict[str, list[tuple[object, ...]]] = {}
    for example in examples:
        try:
            node = ast.parse(example.source, mode="eval").body
            if isinstance(node, ast.Compare):
                node = node.left
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and not node.keywords):
                args = tuple(ast.literal_eval(arg) for arg in node.args)
                calls.setdefault(node.func.id, []).append(args)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    return calls


def example_functions(test_source: str) -> dict[str, set[str]]:
    """test name → the functions its example calls, read back from a file that
    `spec_examples_test` wrote ({} for anything else)."""
    try:
        tree = ast.parse(test_source)
    except SyntaxError:
        return {}
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
            continue
        for call in ast.walk(node):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.args):
                continue
            try:
                values = [ast.literal_eval(a) for a in call.args]
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if call.func.id == "check" and len(values) == 3:
                setup, source = values[0], values[1]
                found[node.name] = called_names(source).union(
                    *(called_names(s) for s in setup))
            elif call.func.id in ("check_raises", "check_unchanged"):
                found[node.name] = {values[0]}
    return found


def _is_expression(source: str) -> bool:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    return True


def _is_comparison(source: str) -> bool:
    tree = ast.parse(source, mode="eval")
    return isinstance(tree.body, ast.Compare) and all(
        isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot | ast.In | ast.NotIn)
        for op in tree.body.ops
    )


def _is_statement(source: str) -> bool:
    try:
        ast.parse(source, mode="exec")
    except SyntaxError:
        return False
    return True


def called_names(source: str) -> set[str]:
    """Names of the plain functions/classes an example calls (`f(x)` → {"f"})."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def defining_modules(names: set[str], files: Mapping[str, str]) -> list[str]:
    """Module names of the generated Python files that define any of `names`."""
    modules: list[str] = []
    for path, content in files.items():
        if not path.endswith(".py") or is_test_path(path):
            continue
        defined = set(_DEF.findall(content)) | set(
            re.findall(r"^class\s+([A-Za-z_]\w*)", content, re.M)
        )
        if defined & names:
            modules.append(module_name(path))
    return modules


_TEST_HEADER = '''"""Examples from the spec, checked like doctest would (written by Atelier)."""
import ast
import contextlib
import copy
import importlib
import io
import math
import signal
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
for _path in (_ROOT / "src", _ROOT):
    if _path.is_dir() and str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

MODULES = {modules!r}


def _namespace():
    namespace = {{}}
    for name in MODULES:
        namespace.update(vars(importlib.import_module(name)))
    return namespace


def _same(actual, expected):
    if actual == expected:
        return True
    if isinstance(actual, float) and isinstance(expected, (int, float)):
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        return (
            type(actual) is type(expected)
            and len(actual) == len(expected)
            and all(_same(a, e) for a, e in zip(actual, expected))
        )
    return False


class ExampleTimeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds):
    # One endless loop must fail its own example, not time out the whole run and
    # with it every other example.
    def expired(signum, frame):
        raise ExampleTimeout(f"took more than {{seconds}} s (an endless loop?)")

    if not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check(setup, source, expected_text):
    with _time_limit({time_limit_s}):
        namespace = _namespace()
        for statement in setup:
            exec(statement, namespace)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            actual = eval(source, namespace)
    printed = out.getvalue().strip()
    if actual is None:
        # doctest shows nothing for None: compare what was printed instead.
        nothing = not printed and expected_text == "None"
        assert printed == expected_text or nothing, (
            f"{{source}} printed {{printed!r}}, expected {{expected_text!r}}"
        )
        return
    try:
        expected = ast.literal_eval(expected_text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        assert repr(actual) == expected_text or str(actual) == expected_text, (
            f"{{source}} returned {{actual!r}}, expected {{expected_text}}"
        )
        return
    assert _same(actual, expected) or repr(actual) == expected_text, (
        f"{{source}} returned {{actual!r}}, expected {{expected_text}}"
    )
'''

_STATED_CHECKS = '''

# Errors that mean the code is broken, not that it refused the input as the request says.
_BROKEN = (NameError, ImportError, SyntaxError)


def _shown(name, args):
    return f"{{name}}({{', '.join(repr(a) for a in args)}})"


def check_raises(name, args, error, clause):
    function = _namespace()[name]
    try:
        with _time_limit({time_limit_s}):
            value = function(*copy.deepcopy(args))
    except ExampleTimeout:
        raise
    except Exception as exc:
        names = {{cls.__name__ for cls in type(exc).__mro__}}
        wrong = error not in names if error else isinstance(exc, _BROKEN)
        assert not wrong, (
            f"{{_shown(name, args)}} raised {{type(exc).__name__}}: {{exc}}; "
            f"the request says: {{clause}}"
        )
        return
    raise AssertionError(
        f"{{_shown(name, args)}} returned {{value!r}}; the request says: {{clause}}"
    )


def check_unchanged(name, args, clause):
    function = _namespace()[name]
    given = copy.deepcopy(args)
    with _time_limit({time_limit_s}):
        function(*given)
    assert list(given) == list(args), (
        f"{{_shown(name, args)}} changed its arguments to {{given!r}}; "
        f"the request says: {{clause}}"
    )
'''

_RAISES_CASE = """

def test_stated_{number}():
    check_raises({name!r}, {args!r}, {error!r}, {clause!r})
"""

_UNCHANGED_CASE = """

def test_stated_{number}():
    check_unchanged({name!r}, {args!r}, {clause!r})
"""

_TEST_CASE = """

def test_example_{number}():
    check({setup!r}, {source!r}, {expected!r})
"""


def spec_examples_test(spec_prompt: str, files: Mapping[str, str], language: str) -> dict[str, str]:
    """A test file checking every example of the spec against the generated code.

    Python: ``{"tests/test_spec_examples.py": source}``, one test per example; each
    imports the generated modules that define the functions the examples call and
    compares the result with the expected output (``ast.literal_eval`` of it, else its
    repr/str, as doctest would). The stated cases run in the same file: a stated result
    as one more example, an error or an unchanged argument by its own check. JavaScript:
    the inline examples and stated cases as a `node:test` file (see `examples_js`).
    Returns {} for another language or a spec with neither. Never raises.
    """
    if language == "javascript":
        inline = parse_inline_examples(spec_prompt)
        calls: dict[str, list[tuple[object, ...]]] = {}
        for found in inline:
            calls.setdefault(found.name, []).append(found.args)
        return javascript_examples_test(inline, files, parse_stated_cases(spec_prompt, calls))
    if language != "python":
        return {}
    examples = parse_examples(spec_prompt)
    cases = parse_stated_cases(spec_prompt, example_calls(examples))
    examples += [SpecExample(c.source, repr(c.expected), ()) for c in cases
                 if c.kind == "returns"]
    checks = [c for c in cases if c.kind != "returns"]
    if not examples and not checks:
        return {}
    names: set[str] = {c.name for c in checks}
    for example in examples:
        names |= called_names(example.source)
        for statement in example.setup:
            names |= called_names(statement)
    modules = defining_modules(names, files)
    parts = [_TEST_HEADER.format(modules=modules, time_limit_s=EXAMPLE_TIME_LIMIT_S)]
    if checks:
        parts.append(_STATED_CHECKS.format(time_limit_s=EXAMPLE_TIME_LIMIT_S))
        parts.extend(_stated_test(number, case) for number, case in enumerate(checks, 1))
    for number, example in enumerate(examples, start=1):
        parts.append(
            _TEST_CASE.format(
                number=number,
                setup=list(example.setup),
                source=example.source,
                expected=example.expected,
            )
        )
    return {EXAMPLES_TEST_PATH: "".join(parts)}


def planned_examples_test(
    examples: list[str], files: Mapping[str, str], language: str
) -> dict[str, str]:
    """The Planner's examples (``f(args) == result`` lines) as their own test file,
    built like the request's examples but named apart, so they rank candidates first
    yet can be set aside when every candidate disagrees with them. Never raises."""
    built = spec_examples_test("\n".join(examples), files, language)
    return {path.replace(SPEC_EXAMPLES_NAME, PLANNED_EXAMPLES_NAME):
            content.replace(SPEC_EXAMPLES_NAME, PLANNED_EXAMPLES_NAME)
            for path, content in built.items()}


def _stated_test(number: int, case: StatedCase) -> str:
    if case.kind == "raises":
        return _RAISES_CASE.format(number=number, name=case.name, args=case.args,
                                   error=case.error, clause=case.clause)
    return _UNCHANGED_CASE.format(number=number, name=case.name, args=case.args,
                                  clause=case.clause)
