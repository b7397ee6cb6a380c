"""Fitting project files into a small model's context window.

Small local models have a few thousand tokens of context. When the files an agent
should see do not fit, the largest are reduced to their signatures (what a caller
needs: imports, class and function headers, the first docstring line), and if even
that is too much, cut further — never an error.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Mapping

from atelier.agents.prompts import clip
from atelier.domain.paths import language_of
from atelier.llm.base import LLM

CHARS_PER_TOKEN = 3  # conservative for code; real tokenizers give 3–4
_MIN_FILE_CHARS = 60

_JS_SIGNATURE = re.compile(
    r"^\s*(?:"
    r"(?:export\s+)?(?:default\s+)?(?:async\s+)?function\b"
    r"|(?:export\s+)?(?:default\s+)?class\b"
    r"|(?:export\s+)?(?:const|let|var)\s+[\w${}\s,]+=\s*(?:async\s*)?(?:\(|function\b|[\w$]+\s*=>|require\()"
    r"|import\b|export\b|module\.exports|exports\.[\w$]+\s*="
    r"|(?:static\s+)?(?:async\s+)?(?:get\s+|set\s+)?[\w$]+\s*\([^)]*\)\s*\{"
    r")"
)
_JS_KEYWORD_CALL = re.compile(r"^\s*(?:if|for|while|switch|catch|return)\b")


def context_budget(llm: LLM, *, reply_tokens: int, used_chars: int = 0) -> int:
    """Characters of file context an agent may still send to `llm`.

    The window minus the room reserved for the reply, at ~3 characters per token,
    minus what the rest of the prompt already uses. Never negative.
    """
    window = max(0, int(llm.context_window))
    available = (window - reply_tokens) * CHARS_PER_TOKEN - used_chars
    return max(0, available)


def _first_line(doc: str | None) -> str | None:
    if not doc:
        return None
    line = doc.strip().split("\n", 1)[0].strip()
    return line or None


def _stub_function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.stmt:
    stub = copy.copy(node)
    body: list[ast.stmt] = []
    doc = _first_line(ast.get_docstring(node))
    if doc:
        body.append(ast.Expr(ast.Constant(doc)))
    body.append(ast.Expr(ast.Constant(Ellipsis)))
    stub.body = body
    return stub


def _stub_class(node: ast.ClassDef) -> ast.stmt:
    stub = copy.copy(node)
    body: list[ast.stmt] = []
    doc = _first_line(ast.get_docstring(node))
    if doc:
        body.append(ast.Expr(ast.Constant(doc)))
    for item in node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            if not item.name.startswith("_") or item.name == "__init__":
                body.append(_stub_function(item))
        elif isinstance(item, ast.AnnAssign | ast.Assign):
            body.append(item)  # dataclass fields, class constants
    if not body:
        body.append(ast.Expr(ast.Constant(Ellipsis)))
    stub.body = body
    return stub


def python_signatures(source: str) -> str:
    """The outline of a Python module: imports, constants, class and def signatures with
    the first docstring line, bodies replaced by ``...``. Falls back to matching lines
    when the source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        keep = [
            ln
            for ln in source.split("\n")
            if re.match(r"\s*(?:import |from \S+ import |def |async def |class )", ln)
        ]
        return "\n".join(keep) + ("\n" if keep else "")
    out: list[ast.stmt] = []
    doc = _first_line(ast.get_docstring(tree))
    if doc:
        out.append(ast.Expr(ast.Constant(doc)))
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append(_stub_function(node))
        elif isinstance(node, ast.ClassDef):
            out.append(_stub_class(node))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            segment = ast.get_source_segment(source, node) or ""
            if len(segment) <= 200:
                out.append(node)
    try:
        return ast.unparse(ast.Module(body=out, type_ignores=[])) + "\n"
    except (ValueError, TypeError, AttributeError, RecursionError):
        return "\n".join(ast.get_source_segment(source, n) or "" for n in out) + "\n"


def js_signatures(source: str) -> str:
    """The outline of a JavaScript module: imports/requires, function, class, method and
    export lines, with bodies elided."""
    keep: list[str] = []
    for line in source.split("\n"):
        if _JS_SIGNATURE.match(line) and not _JS_KEYWORD_CALL.match(line):
            stripped = line.rstrip()
            if stripped.endswith("{"):
                stripped += " … }"
            keep.append(stripped)
    return "\n".join(keep) + ("\n" if keep else "")


def signatures(path: str, source: str, *, language: str) -> str:
    """The outline of one file, by its own extension (else `language`)."""
    file_language = language_of(path, default=language)
    if file_language == "python":
        return python_signatures(source)
    if file_language in {"javascript", "typescript"}:
        return js_signatures(source)
    return clip(source, 400)


def fit_context(files: Mapping[str, str], budget_chars: int, *, language: str) -> dict[str, str]:
    """The files, trimmed so their total size stays within `budget_chars`.

    Whole files while they fit; otherwise the largest are replaced by their signatures
    first; if that is still too big, each is cut to an equal share, and files beyond
    what even that allows are left out. Order is kept. Never raises.
    """
    result = dict(files)
    if sum(len(v) for v in result.values()) <= budget_chars:
        return result
    if budget_chars <= 0:
        return {}
    # Replace the largest files by their outline until the total fits.
    for path in sorted(result, key=lambda p: len(result[p]), reverse=True):
        outline = signatures(path, result[path], language=language)
        if len(outline) < len(result[path]):
            result[path] = outline
        if sum(len(v) for v in result.values()) <= budget_chars:
            return result
    # Still too big: an equal share each, dropping the tail when shares get too small.
    paths = list(result)
    while paths:
        share = budget_chars // len(paths)
        if share >= _MIN_FILE_CHARS or len(paths) == 1:
            return {p: clip(result[p], share) for p in paths}
        paths.pop()
    return {}
