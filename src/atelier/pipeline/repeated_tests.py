"""Generated tests that repeat an earlier test word for word are dropped.

Small models fall into loops: one plain request's tests ended in five copies of
`assert balanced_brackets("{{[[(())]]}}") == True` under five names. A copy proves
nothing new but counts as one more passing test in the verdict ("all 12 tests pass"
for 8 distinct checks), so it goes. JavaScript files show the same loops (`test(...)`
blocks written twice over, titles and all).
"""

from __future__ import annotations

import ast
import re

from atelier.pipeline.js_scan import closing_bracket, string_end

# A `test(` / `it(` call at the start of a line, with a quoted title.
_JS_TEST_CALL = re.compile(r"^[ \t]*(?:test|it)\s*\(\s*(?=['\"`])", re.MULTILINE)


def _fingerprint(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    # The name is left out (it is what the copies differ in); decorators and
    # parameters stay in, so parametrized tests with other cases are kept.
    parts = [*node.decorator_list, node.args, *node.body]
    return "\n".join(ast.dump(part) for part in parts)


def drop_repeated_tests(source: str) -> str:
    """`source` without the module-level test functions whose decorators, parameters and
    body repeat an earlier one's; unchanged when it does not parse or repeats nothing."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    seen: set[str] = set()
    repeated: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            key = _fingerprint(node)
            if key in seen:
                repeated.append(node)
            seen.add(key)
    if not repeated:
        return source
    lines = source.splitlines(keepends=True)
    for node in reversed(repeated):
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        last = node.end_lineno or node.lineno
        while last < len(lines) and not lines[last].strip():
            last += 1  # the blank lines after it go too
        del lines[first:last]
    return "".join(lines)


def drop_repeated_javascript_tests(source: str) -> str:
    """`source` without the `test(…)` / `it(…)` calls whose body (all but the title)
    repeats an earlier one's, whitespace aside; unchanged when it repeats nothing."""
    seen: set[str] = set()
    repeated: list[tuple[int, int]] = []
    for match in _JS_TEST_CALL.finditer(source):
        if repeated and match.start() < repeated[-1][1]:
            continue  # inside a copy already dropped
        title_end = string_end(source, match.end())
        call_end = closing_bracket(source, source.index("(", match.start()))
        if title_end is None or call_end is None:
            continue
        key = " ".join(source[title_end + 1:call_end].split())
        if key in seen:
            end = call_end + 1
            while end < len(source) and source[end] in ";\n":
                end += 1
            repeated.append((match.start(), end))
        seen.add(key)
    for start, end in reversed(repeated):
        source = source[:start] + source[end:]
    return source
