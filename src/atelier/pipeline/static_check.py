"""Cheap static checks of generated Python, run before and beside the tests.

Small models most often forget an import or leave a syntax error. Both are found
here without executing anything (``compile`` and ``symtable`` only parse), and
they reach the Coder as precise feedback even when the generated tests are broken.
"""

from __future__ import annotations

import builtins
import symtable
from collections.abc import Mapping
from dataclasses import dataclass

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
