"""Mechanical repairs of generated source files, applied before anything runs.

Small models often get things wrong that need no model to put right: a Python module
uses a standard-library name it never imports (`math.sqrt`, `List`, `Counter`); a
CommonJS module defines the functions the request asks to export — or that the
project's tests `require` from it — but never writes `module.exports` (or exports
names it does not define instead); a JavaScript module assigns a module-level `const`.
Each is fixed here, for free and the same way every time; anything less certain is
left to the tests and the fix loop.
"""

from __future__ import annotations

import ast
import posixpath
import re
import symtable
from collections.abc import Collection, Mapping

from atelier.domain.paths import module_name
from atelier.pipeline.js_scan import closing_bracket
from atelier.pipeline.static_check import undefined_names

# Names small models use without importing them, and the import that defines each.
STANDARD_IMPORTS: dict[str, str] = {
    **{m: f"import {m}" for m in (
        "math", "re", "os", "sys", "json", "itertools", "functools", "collections",
        "string", "random", "heapq", "bisect", "datetime", "time", "statistics",
        "operator", "copy", "decimal", "fractions", "hashlib", "typing", "dataclasses",
        "pathlib", "subprocess", "tempfile", "shutil", "io", "textwrap", "contextlib")},
    **{n: f"from typing import {n}" for n in (
        "List", "Dict", "Tuple", "Set", "Optional", "Any", "Union", "Callable", "Iterable",
        "Iterator", "Sequence", "Mapping", "FrozenSet", "DefaultDict", "Deque")},
    **{n: f"from collections import {n}" for n in (
        "Counter", "defaultdict", "deque", "OrderedDict", "namedtuple")},
    **{n: f"from functools import {n}" for n in ("reduce", "lru_cache", "cache", "cmp_to_key")},
    **{n: f"from itertools import {n}" for n in (
        "permutations", "combinations", "product", "accumulate", "chain", "groupby")},
    "Fraction": "from fractions import Fraction",
    "Decimal": "from decimal import Decimal",
    "dataclass": "from dataclasses import dataclass",
    "field": "from dataclasses import field",
    "Path": "from pathlib import Path",
}

# Where a Python module's first statement may go: after a docstring and future imports.
_PREAMBLE = re.compile(
    r'\A(?:\s*(?:#[^\n]*|"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|from __future__ import [^\n]+)\n)*'
)
_JS_EXPORTS = re.compile(r"\bmodule\.exports\b|\bexports\.\w+\s*=|^\s*export\s", re.M)
# A top-level definition as formatted code writes one, at the start of a line.
JS_TOP_LEVEL = re.compile(
    r"^(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\("
    r"|^class\s+([A-Za-z_$][\w$]*)"
    r"|^(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=",
    re.M,
)
_SPEC_EXPORTS = re.compile(r"module\.exports\s*=\s*\{([^}]*)\}")
# A whole `module.exports = { a, b };` statement that lists plain names only.
_EXPORT_LIST = re.compile(r"^module\.exports\s*=\s*\{((?:\s*[A-Za-z_$][\w$]*\s*,?)*\s*)\};?",
                          re.M)
_SPEC_NAMED = re.compile(r"`([A-Za-z_$][\w$]*)\s*(?:\(|`)")
# `const { a, b: c } = require('../calc')`: the names a test takes from a module.
_DESTRUCTURED_REQUIRE = re.compile(
    r"\{([^{}]*)\}\s*=\s*require\(\s*(['\"])(\.{1,2}/[^'\"]+)\2\s*\)")
_JS_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_EXPORTS_OBJECT = re.compile(r"^module\.exports\s*=\s*\{", re.M)
# A key of an object literal, at the start of a line: `name(…) {` or `name:`.
_OBJECT_KEY = re.compile(r"^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*(?:\([^)]*\)\s*\{|:)", re.M)
_THIS_MEMBER = re.compile(r"\bthis\.([A-Za-z_$][\w$]*)")
_TOP_LEVEL_CONST = re.compile(r"^const\s+(?P<name>[A-Za-z_$][\w$]*)\s*=(?![=>])", re.M)
# `=`, `+=`, `||=`… but not `==`, `===` or `=>`.
_ASSIGNMENT = r"(?:[-+*/%&|^]|\*\*|<<|>>>?|\|\||&&|\?\?)?=(?![=>])"


def mend_source(
    path: str, content: str, spec_prompt: str, *, wanted: Collection[str] = ()
) -> tuple[str, list[str]]:
    """The file with missing standard imports (Python), or with reassigned `const`s made
    `let` and the requested exports (CommonJS: those the request names, and the `wanted`
    ones the tests require) added (JavaScript), and a note per change. Unchanged when
    nothing is certain."""
    if path.endswith(".py"):
        content, dropped = _without_self_imports(path, content)
        mended, notes = _mend_python_imports(path, content)
        return mended, dropped + notes
    if path.endswith((".js", ".cjs", ".mjs")):
        content, unfrozen = _reassigned_consts_as_let(content)
        if path.endswith(".mjs"):
            return content, unfrozen
        content, unbound = _exported_methods_without_this(content)
        mended, notes = _mend_commonjs_exports(content, spec_prompt, wanted)
        return mended, unfrozen + unbound + notes
    return content, []


def _reassigned_consts_as_let(content: str) -> tuple[str, list[str]]:
    """`const todoList = []` that the module later assigns (`todoList = …`) throws
    "Assignment to constant variable" at run time; as `let` it works. Safe whatever the
    scopes: a `let` behaves as the `const` did wherever the `const` worked."""
    reassigned = [
        match["name"] for match in _TOP_LEVEL_CONST.finditer(content)
        if re.search(rf"(?<![\w$.]){re.escape(match['name'])}\s*{_ASSIGNMENT}",
                     content[match.end():])
    ]
    for name in reassigned:
        content = re.sub(rf"^const(\s+{re.escape(name)}\s*=)", r"let\1", content, count=1,
                         flags=re.M)
    return content, [f"`const {n}` is assigned later: declared with `let`" for n in reassigned]


def _exported_methods_without_this(content: str) -> tuple[str, list[str]]:
    """In `module.exports = { splitWords(t) {…}, toSnakeCase(t) { this.splitWords(t) … } }`
    each `this.splitWords` becomes `module.exports.splitWords`: called as
    `const { toSnakeCase } = require(…)` — how a user, and every test, imports — the
    method has no `this`, and "this.splitWords is not a function" failed every test."""
    start = _EXPORTS_OBJECT.search(content)
    end = closing_bracket(content, start.end() - 1) if start else None
    if start is None or end is None:
        return content, []
    literal = content[start.end():end]
    keys = set(_OBJECT_KEY.findall(literal))
    called = sorted({name for name in _THIS_MEMBER.findall(literal) if name in keys})
    if not called:
        return content, []
    pattern = re.compile(rf"\bthis\.({'|'.join(map(re.escape, called))})\b")
    rewritten = pattern.sub(r"module.exports.\1", literal)
    return content[:start.end()] + rewritten + content[end:], [
        f"`this.{name}` in the exported object: `module.exports.{name}`" for name in called]


def names_required_from(module_path: str, tests: Mapping[str, str]) -> list[str]:
    """The names the JavaScript test files take from `module_path` by destructuring its
    `require` (`const { secondsToDuration } = require('../duration.js')`), in order."""
    module = posixpath.splitext(module_path)[0]
    names: list[str] = []
    for test_path, source in tests.items():
        for match in _DESTRUCTURED_REQUIRE.finditer(source):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(test_path), match[3]))
            if target not in (module_path, module):
                continue
            for part in match[1].split(","):
                name = part.split(":")[0].strip()
                if _JS_NAME.fullmatch(name):
                    names.append(name)
    return list(dict.fromkeys(names))


def _without_self_imports(path: str, content: str) -> tuple[str, list[str]]:
    """A module that imports its own names from itself (``from lru import LRUCache``
    inside lru.py) fails with a circular import; the line adds nothing, so it goes."""
    own = module_name(path)
    try:
        tree = ast.parse(content)
    except SyntaxError:
        return content, []
    drop = [node for node in tree.body
            if isinstance(node, ast.ImportFrom) and not node.level and node.module == own
            and node.end_lineno is not None]
    if not drop:
        return content, []
    lines = content.splitlines(keepends=True)
    gone = {n for node in drop for n in range(node.lineno, (node.end_lineno or 0) + 1)}
    kept = "".join(line for number, line in enumerate(lines, 1) if number not in gone)
    return kept, [f"{path}: removed the import of the module from itself (`{own}`)"]


def _mend_python_imports(path: str, content: str) -> tuple[str, list[str]]:
    try:
        table = symtable.symtable(content, path, "exec")
    except SyntaxError:
        return content, []
    if "import *" in content:
        return content, []
    imports = sorted({STANDARD_IMPORTS[name] for name in undefined_names(table, content)
                      if name in STANDARD_IMPORTS})
    if not imports:
        return content, []
    preamble = _PREAMBLE.match(content)
    at = preamble.end() if preamble else 0
    mended = content[:at] + "\n".join(imports) + "\n" + content[at:]
    return mended, [f"{path}: added `{line}`" for line in imports]


def _mend_commonjs_exports(
    content: str, spec_prompt: str, wanted: Collection[str]
) -> tuple[str, list[str]]:
    defined = {next(g for g in m.groups() if g) for m in JS_TOP_LEVEL.finditer(content)}
    if _JS_EXPORTS.search(content):
        return _mend_wrong_exports(content, spec_prompt, defined)
    requested = list(dict.fromkeys([*_requested_exports(spec_prompt), *wanted]))
    names = [n for n in requested if n in defined]
    if not names:
        return content, []
    line = f"module.exports = {{ {', '.join(names)} }};"
    return content.rstrip("\n") + "\n\n" + line + "\n", [f"added `{line}`"]


def _mend_wrong_exports(content: str, spec_prompt: str,
                        defined: set[str]) -> tuple[str, list[str]]:
    """`module.exports = { formatList }` in a file that defines no `formatList` but does
    define the `TodoList` the request's `module.exports = { TodoList }` asks for: the
    request's line replaces it (such a module cannot even be loaded). Only a list of
    plain names is replaced, and only when everything the request asks for is defined."""
    shown = _SPEC_EXPORTS.findall(spec_prompt)
    if len(shown) != 1:
        return content, []
    requested = [n.strip() for n in shown[0].split(",") if n.strip()]
    matches = list(_EXPORT_LIST.finditer(content))
    if (len(matches) != 1 or not requested
            or not all(re.fullmatch(r"[A-Za-z_$][\w$]*", n) and n in defined for n in requested)):
        return content, []
    exported = [n.strip() for n in matches[0].group(1).split(",") if n.strip()]
    if all(n in defined for n in exported):
        return content, []  # a working export list, if not the requested one: left alone
    line = f"module.exports = {{ {', '.join(requested)} }};"
    mended = content[: matches[0].start()] + line + content[matches[0].end():]
    return mended, [f"replaced `{' '.join(matches[0].group(0).split())}` with `{line}`"]


def _requested_exports(spec_prompt: str) -> list[str]:
    """The names the request asks a module to export: those of a `module.exports = {…}`
    it shows, else every `name(` or `Name` it puts in backticks."""
    shown = _SPEC_EXPORTS.findall(spec_prompt)
    if shown:
        names = [n.split(":")[0].strip() for group in shown for n in group.split(",")]
    else:
        names = _SPEC_NAMED.findall(spec_prompt)
    return list(dict.fromkeys(n for n in names if re.fullmatch(r"[A-Za-z_$][\w$]*", n)))
