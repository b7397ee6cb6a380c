"""Mending generated Python test files before they are run.

A small model's test file is often nearly right: it forgets to import the function it
tests, pastes its own copy of that function above the tests (which then test the
copy), is cut off mid-line (a repetition loop stopped at the token limit), or packs
every check into one test function (so one wrong expectation hides all the right
ones, and candidates cannot be told apart by how many tests they pass). A
broken test file cannot be fixed by changing the code, so each would otherwise cost
a new Tester call or be thrown away. The mends are mechanical and safe: a copy is
removed only when the project defines the same name, an import is added only for a
name the project itself defines at module level or a standard module (or pytest)
the file uses by its usual name, and a cut-off file keeps only its
longest prefix that compiles; a test that repeats an earlier one word for word goes.
"""

from __future__ import annotations

import ast
import posixpath
import re
import symtable
import sys
from collections.abc import Mapping

from atelier.domain.paths import module_name
from atelier.pipeline.repeated_tests import drop_repeated_tests
from atelier.pipeline.source_mending import STANDARD_IMPORTS
from atelier.pipeline.static_check import module_names, python_test_file_compiles, undefined_names

_TEST_FUNCTION = re.compile(r"^\s*(async\s+)?def test", re.MULTILINE)
_TEST_IMPORTS = {**STANDARD_IMPORTS, "pytest": "import pytest"}
# Longer prefixes are tried first; a file this long is a runaway anyway.
_MAX_LINES_TRIED = 400


def _longest_compiling_prefix(source: str) -> str | None:
    lines = source.splitlines()[:_MAX_LINES_TRIED]
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end]).rstrip() + "\n"
        if _TEST_FUNCTION.search(candidate) and python_test_file_compiles(candidate):
            return candidate
    return None


def _definitions(sources: Mapping[str, str]) -> dict[str, str]:
    """Public module-level name → the module that defines it (first module wins)."""
    found: dict[str, str] = {}
    for path, content in sorted(sources.items()):
        if not path.endswith(".py") or posixpath.basename(path).startswith("test_"):
            continue
        try:
            table = symtable.symtable(content, path, "exec")
        except SyntaxError:
            continue
        module = module_name(path)
        for name in sorted(module_names(table)):
            if not name.startswith("_"):
                found.setdefault(name, module)
    return found


def _without_copies(source: str, defined: Mapping[str, str]) -> str:
    """The source without top-level functions and classes that redefine a project
    name (not tests): the tests must exercise the project's code, not a copy."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name in defined
            and not node.name.startswith("test")
            and node.end_lineno is not None
        ):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            drop.append((first, node.end_lineno))
    if not drop:
        return source
    lines = source.splitlines(keepends=True)
    kept = [line for number, line in enumerate(lines, 1)
            if not any(first <= number <= last for first, last in drop)]
    return "".join(kept)


def _with_lines_replaced(source: str, lines: list[str],
                         replaced: dict[int, tuple[int, str]]) -> str:
    """``source`` with each run of lines ``first..last`` (1-based, keyed by ``first``)
    replaced by its new text; ``source`` itself when nothing is replaced."""
    if not replaced:
        return source
    out: list[str] = []
    number = 1
    while number <= len(lines):
        if number in replaced:
            last, text = replaced[number]
            out.append(text)
            number = last + 1
        else:
            out.append(lines[number - 1])
            number += 1
    return "".join(out)


def _one_assert_per_test(source: str) -> str:
    """Each test function whose body is only `assert` statements (two or more, no
    parameters) split into one test per assert, named after it with a suffix."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines(keepends=True)
    replaced: dict[int, tuple[int, str]] = {}  # first line → (last line, new text)
    for node in tree.body:
        if (
            not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            or not node.name.startswith("test")
            or node.decorator_list
            or node.args.args
            or len(node.body) < 2
            or not all(isinstance(statement, ast.Assert) for statement in node.body)
            or node.end_lineno is None
        ):
            continue
        prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        parts = []
        for number, statement in enumerate(node.body, 1):
            text = ast.get_source_segment(source, statement)
            if text is None:
                break
            parts.append(f"{prefix} {node.name}_{number}():\n    {text}\n")
        else:
            replaced[node.lineno] = (node.end_lineno, "\n\n".join(parts))
    return _with_lines_replaced(source, lines, replaced)


def _with_missing_imports(source: str, sources: Mapping[str, str]) -> str:
    try:
        table = symtable.symtable(source, "<test>", "exec")
    except SyntaxError:
        return source
    missing = undefined_names(table, source)
    if not missing:
        return source
    defined = _definitions(sources)
    by_module: dict[str, list[str]] = {}
    for name in sorted(missing):
        if name in defined:
            by_module.setdefault(defined[name], []).append(name)
    # A standard module (or pytest) the test uses without importing it: seen,
    # `subprocess.run` in a CLI test — a NameError no change to the code can fix.
    standard = sorted({_TEST_IMPORTS[n] for n in missing - defined.keys() if n in _TEST_IMPORTS})
    if not by_module and not standard:
        return source
    imports = "".join(line + "\n" for line in standard) + "".join(
        f"from {module} import {', '.join(names)}\n" for module, names in sorted(by_module.items())
    )
    return imports + source


def _project_modules(sources: Mapping[str, str]) -> set[str]:
    """Every importable name of the project: modules and the packages above them."""
    modules: set[str] = set()
    for path in sources:
        if path.endswith(".py"):
            parts = module_name(path).split(".")
            modules.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return modules


def _with_local_imports_repointed(source: str, sources: Mapping[str, str]) -> str:
    """``from calc import add, LRUCache`` where no module ``calc`` exists, or ``from lru
    import helper`` where ``lru`` does not define ``helper``: each name the project
    defines is imported from the module that defines it; names it does not define are
    dropped from a module that does not exist (a model's slip — once the example module
    of its own prompt). Imports of other packages are left alone."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    defined = _definitions(sources)
    modules = _project_modules(sources)
    lines = source.splitlines(keepends=True)
    replaced: dict[int, tuple[int, str]] = {}
    for node in tree.body:
        if (not isinstance(node, ast.ImportFrom) or node.level or not node.module
                or node.end_lineno is None or any(a.name == "*" for a in node.names)):
            continue
        exists = node.module in modules
        names = [a for a in node.names if not exists or a.name not in defined
                 or defined[a.name] != node.module]
        if exists:
            # Only names the module lacks and another project module defines move.
            names = [a for a in names if a.name in defined
                     and a.name not in _module_names_of(node.module, sources)]
        elif (node.module.split(".")[0] in modules | sys.stdlib_module_names
              or not any(a.name in defined for a in node.names)):
            continue  # a missing submodule of a real package, the stdlib, or no slip
        if not names:
            continue
        moved: dict[str, list[str]] = {}
        kept = [a for a in node.names if a not in names] if exists else []
        for alias in names:
            if alias.name in defined:
                text = alias.name + (f" as {alias.asname}" if alias.asname else "")
                moved.setdefault(defined[alias.name], []).append(text)
        out = []
        if kept:
            out.append(f"from {node.module} import "
                       + ", ".join(a.name + (f" as {a.asname}" if a.asname else "")
                                   for a in kept) + "\n")
        out += [f"from {module} import {', '.join(items)}\n"
                for module, items in sorted(moved.items())]
        replaced[node.lineno] = (node.end_lineno, "".join(out))
    return _with_lines_replaced(source, lines, replaced)


def _module_names_of(module: str, sources: Mapping[str, str]) -> set[str]:
    for path, content in sources.items():
        if path.endswith(".py") and module_name(path) == module:
            try:
                return module_names(symtable.symtable(content, path, "exec"))
            except SyntaxError:
                return set()
    return set()


def mend_python_test(source: str, sources: Mapping[str, str]) -> str | None:
    """The test file, runnable if it can be made so; None when nothing usable is left.

    `sources` are the project's Python modules (path → content), where missing names
    are looked up.
    """
    if not python_test_file_compiles(source):
        prefix = _longest_compiling_prefix(source)
        if prefix is None:
            return None
        source = prefix
    # Repeats are dropped after the split: a looping model repeats an assert inside
    # one test more often than it repeats a whole test.
    source = drop_repeated_tests(
        _one_assert_per_test(_without_copies(source, _definitions(sources))))
    return _with_missing_imports(_with_local_imports_repointed(source, sources), sources)
