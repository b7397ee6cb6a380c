"""Which third-party packages a generated project needs.

Three sources, merged: the Planner's ``dependencies``, any manifest the Coder wrote
(``requirements.txt``, ``pyproject.toml``, ``package.json``), and the imports of the
code itself — a model often uses ``flask`` without declaring it, and a project whose
tests cannot import what its code imports can never pass. The standard library, the
project's own modules and the test runner (provided by the sandbox) are never packages.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PackagingRequirement

from atelier.domain.environment import DependencyFinding, DependencySource, Requirement
from atelier.domain.paths import is_test_path, module_name
from atelier.sandbox.well_known import WELL_KNOWN_NPM, WELL_KNOWN_PYTHON_IMPORTS

# Import names whose distribution is called something else (the common cases).
PYTHON_IMPORT_ALIASES = {
    "yaml": "pyyaml",
    "PIL": "pillow",
    "bs4": "beautifulsoup4",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python-headless",
    "dateutil": "python-dateutil",
    "jwt": "pyjwt",
    "dotenv": "python-dotenv",
    "attr": "attrs",
    "serial": "pyserial",
    "Crypto": "pycryptodome",
    "docx": "python-docx",
    "multipart": "python-multipart",
    "jose": "python-jose",
    "magic": "python-magic",
    "google": "protobuf",
    "pkg_resources": "setuptools",
    "OpenSSL": "pyopenssl",
    "fitz": "pymupdf",
    "slugify": "python-slugify",
    "markdown_it": "markdown-it-py",
    "Levenshtein": "levenshtein",
}
# Provided by the sandbox's own test tools; a project never installs them itself.
PYTHON_TEST_TOOLS = frozenset({"pytest", "pytest-asyncio", "_pytest", "pytest_asyncio"})
_NOT_PACKAGES = frozenset({"python", "python3", "pip", "setuptools-scm", "__future__"})

NODE_BUILTINS = frozenset(
    {
        "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
        "crypto", "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http",
        "http2", "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process",
        "punycode", "querystring", "readline", "repl", "stream", "string_decoder", "sys",
        "test", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi",
        "worker_threads", "zlib",
    }
)
_NPM_NAME = re.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")
_JS_SPECIFIER = re.compile(
    r"""(?:\brequire\s*\(\s*|\bimport\s*\(\s*|\bfrom\s+|^\s*import\s+)(['"])([^'"\n]+)\1""",
    re.MULTILINE,
)
_MANIFESTS = ("requirements.txt", "pyproject.toml", "package.json")


def normalize_python_name(name: str) -> str:
    """PEP 503: ``Flask_SQLAlchemy`` → ``flask-sqlalchemy``."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Collected:
    """Requirements found so far (first source wins for the spec) and what was refused."""

    def __init__(self) -> None:
        self.requirements: dict[str, Requirement] = {}
        self.findings: list[DependencyFinding] = []

    def add(self, name: str, spec: str, source: DependencySource, origin: str = "") -> None:
        known = self.requirements.get(name)
        if known is None:
            self.requirements[name] = Requirement(name=name, spec=spec, source=source,
                                                  origin=origin)
        elif known.source == "plan" and source != "plan":
            # A file asks for it too: an install failure must name that file, never be
            # waved through as "only the plan named it".
            self.requirements[name] = known.model_copy(
                update={"spec": known.spec or spec, "source": source, "origin": origin})
        elif spec and not known.spec:
            self.requirements[name] = known.model_copy(update={"spec": spec})

    def refuse(self, name: str, message: str, *, unknown_import: bool = False) -> None:
        if all(f.name != name for f in self.findings):
            self.findings.append(DependencyFinding(
                name=name, message=message,
                kind="unknown-import" if unknown_import else "install"))


def _python_local_names(files: Iterable[str]) -> set[str]:
    names = set()
    for path in files:
        if path.endswith(".py"):
            names.add(module_name(path).split(".")[0])
            if is_test_path(path):
                # pytest puts a test file's directory on sys.path: `import helpers` in
                # tests/test_x.py is tests/helpers.py.
                names.add(posixpath.basename(path)[:-3])
        parts = path.split("/")
        if len(parts) > 1:
            names.add(parts[1] if parts[0] == "src" and len(parts) > 2 else parts[0])
    return names


def _add_python_requirement(
    out: Collected, text: str, source: DependencySource, origin: str = ""
) -> None:
    text = text.split("#", 1)[0].strip()
    if not text or text.startswith("-"):
        return
    try:
        parsed = PackagingRequirement(text)
    except InvalidRequirement:
        out.refuse(text, f"`{text}` is not a valid requirement; write `name` or `name==version`")
        return
    if parsed.url:
        out.refuse(parsed.name, f"`{parsed.name}` comes from a URL ({parsed.url}); only "
                   "packages from the configured index are installed")
        return
    name = normalize_python_name(parsed.name)
    if (name in _NOT_PACKAGES or name in PYTHON_TEST_TOOLS or name.startswith("pytest-")
            or parsed.name in sys.stdlib_module_names):
        return
    out.add(name, str(parsed.specifier), source, origin)


def _python_imports(source: str) -> dict[str, set[str]]:
    """Top-level module → the names imported from it (empty for ``import module``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name.split(".")[0], set())
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.setdefault(node.module.split(".")[0], set()).update(
                alias.name for alias in node.names)
    return found


def _python_defined_names(files: Mapping[str, str]) -> set[str]:
    """Names the project's own modules define at top level."""
    names: set[str] = set()
    for path, content in files.items():
        if not path.endswith(".py"):
            continue
        try:
            tree = ast.parse(content)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def mentioned(name: str, request: str) -> bool:
    """Whether the request names the package (the user asked for it)."""
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", request, re.IGNORECASE) is not None


def _unknown_import(path: str, name: str, manifest: str) -> str:
    return (f"{path} imports `{name}`, which is neither a module of this project nor a "
            f"declared dependency: write the missing module, declare the package in "
            f"{manifest}, or use the standard library")


def python_requirements(declared: Iterable[str], files: Mapping[str, str],
                        request: str = "") -> Collected:
    """The Python packages the project needs: declared, in manifests, or imported."""
    out = Collected()
    for text in declared:
        _add_python_requirement(out, text, "plan")
    for path, content in files.items():
        base = posixpath.basename(path)
        if base == "requirements.txt":
            for line in content.splitlines():
                _add_python_requirement(out, line, "manifest", path)
        elif base == "pyproject.toml" and "/" not in path:
            try:
                project = tomllib.loads(content).get("project", {})
            except tomllib.TOMLDecodeError:
                continue
            for text in project.get("dependencies", []) if isinstance(project, dict) else []:
                if isinstance(text, str):
                    _add_python_requirement(out, text, "manifest", path)
    local = _python_local_names(files)
    defined = _python_defined_names(files)
    for path, content in files.items():
        if not path.endswith(".py"):
            continue
        for name, imported in sorted(_python_imports(content).items()):
            if name in local or name in sys.stdlib_module_names or name in PYTHON_TEST_TOOLS:
                continue
            if imported & defined:
                # `from calc import add, LRUCache` where the project defines LRUCache: a
                # local module under a wrong name (a model's slip), not a package to fetch.
                # A package the project really uses is declared, or imported elsewhere.
                continue
            dist = normalize_python_name(PYTHON_IMPORT_ALIASES.get(name, name))
            if (dist in out.requirements or name in WELL_KNOWN_PYTHON_IMPORTS
                    or mentioned(name, request) or mentioned(dist, request)):
                out.add(dist, "", "import", path)
            else:
                out.refuse(dist, _unknown_import(path, name, "requirements.txt"),
                           unknown_import=True)
    return out


def _npm_package(specifier: str) -> str | None:
    """``express`` → express, ``@scope/pkg/sub`` → @scope/pkg; None for files and builtins."""
    if specifier.startswith((".", "/", "node:")) or ":" in specifier:
        return None
    parts = specifier.split("/")
    name = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
    if name in NODE_BUILTINS:
        return None
    return name


def _add_npm_requirement(
    out: Collected, name: str, spec: str, source: DependencySource, origin: str = ""
) -> None:
    name = name.strip()
    if not _NPM_NAME.match(name):
        out.refuse(name, f"`{name}` is not a valid npm package name")
        return
    if name in NODE_BUILTINS:
        return
    if spec and any(spec.startswith(p) for p in ("file:", "link:", "git", "http", "github:")):
        out.refuse(name, f"`{name}` comes from {spec!r}; only packages from the configured "
                   "registry are installed")
        return
    out.add(name, "" if spec in ("*", "latest") else spec, source, origin)


def node_requirements(declared: Iterable[str], files: Mapping[str, str],
                      request: str = "") -> Collected:
    """The npm packages the project needs: declared, in package.json, or required/imported."""
    out = Collected()
    for text in declared:
        text = text.strip()
        at = text.find("@", 1)
        name, spec = (text[:at], text[at + 1:]) if at > 0 else (text, "")
        _add_npm_requirement(out, name, spec, "plan")
    manifest = files.get("package.json")
    if manifest:
        try:
            data = json.loads(manifest)
        except json.JSONDecodeError:
            data = {}
        for key in ("dependencies", "devDependencies"):
            section = data.get(key) if isinstance(data, dict) else None
            if isinstance(section, dict):
                for name, spec in section.items():
                    _add_npm_requirement(out, str(name), str(spec), "manifest",
                                         "package.json")
    for path, content in files.items():
        if not path.endswith((".js", ".mjs", ".cjs", ".jsx")):
            continue
        for match in _JS_SPECIFIER.finditer(content):
            package = _npm_package(match.group(2))
            if package is None:
                continue
            if (package in out.requirements or package in WELL_KNOWN_NPM
                    or mentioned(package, request)):
                _add_npm_requirement(out, package, "", "import", path)
            else:
                out.refuse(package, _unknown_import(path, package, "package.json"),
                           unknown_import=True)
    return out


def collect_requirements(
    language: str, declared: Iterable[str], files: Mapping[str, str], request: str = ""
) -> Collected:
    """The requirements of a project in ``language`` ("python" or "javascript").

    An import the project neither declares nor defines is installed only when the
    package is well known or the ``request`` names it; otherwise it is a finding.
    """
    if language == "javascript":
        return node_requirements(declared, files, request)
    return python_requirements(declared, files, request)


def is_manifest(path: str) -> bool:
    """A dependency manifest the pipeline rewrites pinned in the deliverable."""
    return path in _MANIFESTS or path == "package-lock.json"
