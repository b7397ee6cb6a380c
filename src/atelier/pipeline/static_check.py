"""Cheap static checks of generated Python, run before and beside the tests.

Small models most often forget an import or leave a syntax error. Both are found
here without executing anything (``compile`` and ``symtable`` only parse), and
they reach the Coder as precise feedback even when the generated tests are broken.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from collections.abc import Mapping
from dataclasses import dataclass

from atelier.domain.paths import module_name
from atelier.domain.report import TestCase, TestReport

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__",
                                         "__builtins__", "__loader__", "__package__",
                                         "__path__", "__annotations__", "__dict__"}


@dataclass(frozen=True)
class StaticIssue:
    path: str
    line: int | None
    kind: str  # "syntax-error" | "undefined-name"
    message: str

    def as_case(self) -> TestCase:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return TestCase(name=f"{self.kind} {where}", classname="static-check", outcome="error",
                        message=f"{where}: {self.message}")


def module_names(table: symtable.SymbolTable) -> set[str]:
    """Names bound at module level, including those bound via `global` in a function."""
    names = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    pending = list(table.get_children())
    while pending:
        child = pending.pop()
        names |= {s.get_name() for s in child.get_symbols()
                  if s.is_declared_global() and (s.is_assigned() or s.is_imported())}
        pending.extend(child.get_children())
    return names


def _undefined_in(table: symtable.SymbolTable, module_names: set[str]) -> set[str]:
    missing: set[str] = set()
    for child in table.get_children():
        for symbol in child.get_symbols():
            name = symbol.get_name()
            if (
                symbol.is_referenced()
                and symbol.is_global()
                and not symbol.is_declared_global()
                and name not in module_names
                and name not in _BUILTINS
            ):
                missing.add(name)
        missing |= _undefined_in(child, module_names)
    return missing


def undefined_names(table: symtable.SymbolTable, source: str) -> set[str]:
    """Names the module uses that nothing defines (in functions, and at module level
    unless annotations are postponed — those are then never evaluated)."""
    missing = _undefined_in(table, module_names(table))
    if "from __future__ import annotations" not in source:
        missing |= {
            s.get_name() for s in table.get_symbols()
            if s.is_referenced() and not s.is_assigned() and not s.is_imported()
            and s.get_name() not in _BUILTINS
        }
    return missing


def check_python_source(path: str, source: str) -> list[StaticIssue]:
    """Syntax errors and names used in functions that nothing defines.

    A module with a star import is only syntax-checked: its names cannot be known.
    """
    try:
        table = symtable.symtable(source, path, "exec")
    except SyntaxError as exc:
        return [StaticIssue(path, exc.lineno, "syntax-error", f"syntax error: {exc.msg}")]
    if "import *" in source:
        return []
    issues = []
    for name in sorted(undefined_names(table, source)):
        line = next((n for n, text in enumerate(source.splitlines(), 1) if name in text), None)
        issues.append(StaticIssue(path, line, "undefined-name",
                                  f"undefined name '{name}' (missing import or definition?)"))
    return issues


def check_sources(files: Mapping[str, str], language: str) -> list[StaticIssue]:
    """Static issues of every Python source file of a project (other languages: none)."""
    if language != "python":
        return []
    issues: list[StaticIssue] = []
    for path, content in sorted(files.items()):
        if path.endswith(".py"):
            issues.extend(check_python_source(path, content))
    issues.extend(check_local_imports(files))
    return issues


def _module_table(files: Mapping[str, str]) -> dict[str, set[str] | None]:
    """Project module name → the names it binds (None when it cannot be parsed or has a
    star import: then anything may be there)."""
    table: dict[str, set[str] | None] = {}
    for path, content in files.items():
        if not path.endswith(".py"):
            continue
        name = module_name(path)
        try:
            symbols = symtable.symtable(content, path, "exec")
        except SyntaxError:
            table[name] = None
            continue
        table[name] = None if "import *" in content else module_names(symbols)
    return table


def check_local_imports(files: Mapping[str, str]) -> list[StaticIssue]:
    """`from shop import total` where the project's shop.py defines no `total`: the
    module cannot even be imported, so every test of it dies in collection. Named here
    with the file and line, so the fixer knows which side to change."""
    modules = _module_table(files)
    issues: list[StaticIssue] = []
    for path, content in sorted(files.items()):
        if not path.endswith(".py"):
            continue
        try:
            tree = ast.parse(content)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            bound = modules.get(node.module, None)
            if node.module not in modules or bound is None:
                continue
            public = ", ".join(sorted(n for n in bound if not n.startswith("_"))[:12])
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if alias.name != "*" and alias.name not in bound and submodule not in modules:
                    issues.append(StaticIssue(
                        path, node.lineno, "import-error",
                        f"imports `{alias.name}` from `{node.module}`, which does not define "
                        f"it (it defines: {public or 'nothing'})"))
    return issues


def python_test_file_compiles(source: str) -> bool:
    try:
        compile(source, "<test>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def with_static_issues(report: TestReport, issues: list[StaticIssue]) -> TestReport:
    """The report with each static issue added as an errored case (so it is fixed too)."""
    if not issues:
        return report
    summary = "\n".join(f"static check: {i.as_case().message}" for i in issues)
    return report.model_copy(update={
        "errors": report.errors + len(issues),
        "cases": [*report.cases, *(i.as_case() for i in issues)],
        "output_tail": f"{summary}\n{report.output_tail}",
    })
