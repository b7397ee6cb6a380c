"""Prompt templates of the agents and the small naming rules they share.

Templates are Markdown/Jinja files kept beside the agent modules and loaded with
importlib.resources, so they ship inside the wheel and can be read and edited as text.
"""

from __future__ import annotations

import posixpath
from importlib import resources

import jinja2

# File extension → the language name used in prompts and code fences.
_EXTENSION_LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".json": "json",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".css": "css",
    ".sh": "bash",
    ".sql": "sql",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".txt": "text",
}

DEFAULT_TEST_COMMANDS = {"python": "pytest -q", "javascript": "node --test"}


def _load_template(name: str) -> str:
    return resources.files("atelier.agents").joinpath(name).read_text(encoding="utf-8")


_ENV = jinja2.Environment(
    loader=jinja2.FunctionLoader(_load_template),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render(template: str, **values: object) -> str:
    """Render the named template file of this package.

    Raises jinja2.TemplateNotFound / UndefinedError on a programming mistake
    (a missing file or a variable the template needs but was not given).
    """
    return _ENV.get_template(template).render(**values).strip()


def language_of(path: str, default: str = "text") -> str:
    """The language of a file, judged by its extension ("python", "javascript" …)."""
    _, ext = posixpath.splitext(path.lower())
    return _EXTENSION_LANGUAGES.get(ext, default)


def module_name(path: str) -> str:
    """The importable Python module name of a project file (``src/`` layout aware).

    ``pkg/util.py`` → ``pkg.util``; ``pkg/__init__.py`` → ``pkg``; ``src/app.py`` → ``app``.
    """
    stem = path[:-3] if path.endswith(".py") else path
    if stem.startswith("src/"):
        stem = stem[4:]
    parts = [p for p in stem.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_test_path(path: str) -> bool:
    """True for files that belong to the test suite (the Tester owns them)."""
    lowered = path.lower()
    name = posixpath.basename(lowered)
    parts = lowered.split("/")
    if any(p in {"tests", "test", "__tests__", "spec"} for p in parts[:-1]):
        return True
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    stem = name.rsplit(".", 1)[0]
    return stem.endswith((".test", ".spec", "-test", "_test")) or stem.startswith("test-")


def is_readme_path(path: str) -> bool:
    """True for the project's README (the Documenter owns it)."""
    return posixpath.basename(path).lower() in {"readme.md", "readme", "readme.txt", "readme.rst"}


def clip(text: str, max_chars: int, *, keep: str = "head") -> str:
    """Shorten text to about max_chars, keeping its head or its tail, marking the cut."""
    if max_chars <= 0:
        return ""
    if len(text) <= max_chars:
        return text
    marker = "\n… (cut) …\n"
    room = max(0, max_chars - len(marker))
    return text[:room] + marker if keep == "head" else marker + text[-room:]
