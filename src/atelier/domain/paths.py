"""Validation of file paths that come from models or users.

Generated paths are untrusted: they must stay inside the project directory, never
name hidden or system locations, and carry an extension we know how to handle.
"""

from __future__ import annotations

import posixpath
import re

from atelier.domain.errors import InvalidPath

MAX_PATH_LENGTH = 200
MAX_PATH_DEPTH = 8

ALLOWED_EXTENSIONS = frozenset(
    {
        ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".json", ".md",
        ".txt", ".rst", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".html", ".htm",
        ".css", ".scss", ".sh", ".sql", ".csv", ".xml", ".svg", ".env.example",
        ".go", ".rs", ".java", ".rb", ".c", ".h", ".cpp", ".hpp",
    }
)
# Extension-less files that projects legitimately contain.
ALLOWED_BARE_NAMES = frozenset(
    {"Makefile", "Dockerfile", "LICENSE", "Procfile", ".gitignore", ".editorconfig"}
)
# Hidden or tool-owned directories a generated project must never write into.
FORBIDDEN_SEGMENTS = frozenset(
    {".git", ".ssh", ".venv", "venv", "node_modules", "__pycache__", ".github", ".atelier"}
)
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
# Device names Windows resolves in any directory and with any extension (`nul.txt`):
# a project unzipped there must not write to a device instead of a file.
WINDOWS_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)


def validate_project_path(raw: str) -> str:
    """Return the normalised form of a project-relative path.

    Raises InvalidPath when the path is absolute, escapes the project (``..``),
    names a hidden or tool-owned directory, uses odd characters, is too long or
    too deep, or has an extension we do not accept.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPath("empty path")
    path = raw.strip().replace("\\", "/")
    if "\x00" in path:
        raise InvalidPath(f"{raw!r}: contains a NUL byte")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or path.startswith("~"):
        raise InvalidPath(f"{raw!r}: absolute paths are not allowed")
    if path.startswith("./"):
        path = path[2:]
    segments = path.split("/")
    if any(segment == ".." for segment in segments):
        raise InvalidPath(f"{raw!r}: '..' is not allowed")
    normalised = posixpath.normpath(path)
    if normalised in {"", "."}:
        raise InvalidPath(f"{raw!r}: not a file path")
    if len(normalised) > MAX_PATH_LENGTH:
        raise InvalidPath(f"{raw!r}: longer than {MAX_PATH_LENGTH} characters")
    parts = normalised.split("/")
    if len(parts) > MAX_PATH_DEPTH:
        raise InvalidPath(f"{raw!r}: deeper than {MAX_PATH_DEPTH} directories")
    for part in parts:
        # Case-insensitively: on macOS and Windows `Node_Modules` is `node_modules`.
        if part.lower() in FORBIDDEN_SEGMENTS:
            raise InvalidPath(f"{raw!r}: '{part}' is a reserved directory")
        if part.split(".", 1)[0].lower() in WINDOWS_DEVICE_NAMES:
            raise InvalidPath(f"{raw!r}: '{part}' is a device name on Windows")
        if part.startswith(".") and part not in ALLOWED_BARE_NAMES:
            raise InvalidPath(f"{raw!r}: hidden files and directories are not allowed")
        if not _SAFE_SEGMENT.match(part) and part not in ALLOWED_BARE_NAMES:
            raise InvalidPath(f"{raw!r}: '{part}' has characters that are not allowed")
    name = parts[-1]
    if name not in ALLOWED_BARE_NAMES and not any(
        name.endswith(ext) for ext in ALLOWED_EXTENSIONS
    ):
        raise InvalidPath(f"{raw!r}: file type not allowed")
    return normalised


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
