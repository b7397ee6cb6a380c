"""The Tester: writes the project's test files (pytest for Python, node:test for JavaScript)."""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atelier.agents.context import context_budget, fit_context
from atelier.agents.extract import (
    code_blocks,
    extract_code,
    split_labelled_blocks,
    without_in_block_header,
)
from atelier.agents.prompts import clip, render
from atelier.domain.errors import InvalidPath, LLMOutputInvalid
from atelier.domain.paths import is_test_path, language_of, module_name, validate_project_path
from atelier.domain.plan import Plan
from atelier.llm.base import LLM, ChatRequest, Message
from atelier.llm.structured import extract_json

log = logging.getLogger(__name__)

# Enough for 3-6 short tests; a reply that needs more is a runaway.
TESTER_MAX_TOKENS = 768
# When the request's examples are already tests, a few edge cases need no more.
TESTER_EDGE_MAX_TOKENS = 384
_TEST_MARKER = re.compile(r"def test|\btest\s*\(|\bit\s*\(|describe\s*\(|assert")
CONFTEST_PATH = "tests/conftest.py"

# pytest's default "prepend" import mode puts the *test file's* directory on sys.path,
# not the project root, so `from calc import add` in tests/test_calc.py fails under a
# plain `pytest`. A conftest in tests/ is imported first and fixes that for every test.
CONFTEST_HEADER = '''"""Make the project's modules importable from the tests (by Atelier)."""
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
for _path in (_ROOT / "src", _ROOT):
    if _path.is_dir() and str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
'''


class TestFileReply(BaseModel):
    """One file of a JSON-shaped Tester reply."""

    __test__ = False
    model_config = ConfigDict(extra="ignore")

    path: str
    content: str

    @field_validator("content", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else value


class TesterReply(BaseModel):
    """A JSON-shaped reply, {"files": [{"path", "content"}]}: still accepted, because
    hosted models (and scripts) sometimes answer that way, but never asked for."""

    model_config = ConfigDict(extra="ignore")

    files: list[TestFileReply] = Field(min_length=1)


def _stem(path: str) -> str:
    name = posixpath.basename(path)
    for suffix in (".test.js", ".spec.js", ".test.mjs", ".py", ".js", ".mjs", ".cjs"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.removeprefix("test_").removesuffix("_test") or "project"


def test_path_for(path: str, language: str) -> str:
    """Where a test file belongs: tests/test_<x>.py (pytest) or tests/<x>.test.js (node)."""
    name = posixpath.basename(path)
    if language == "javascript":
        if re.search(r"\.(test|spec)\.[cm]?js$", name):
            return f"tests/{name}"
        return f"tests/{_stem(path)}.test.js"
    if name == "conftest.py":
        return CONFTEST_PATH
    if name.startswith("test_") and name.endswith(".py"):
        return f"tests/{name}"
    return f"tests/test_{_stem(path)}.py"


_PY_DEFINITION = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z]\w*)", re.MULTILINE)
_JS_DEFINITION = re.compile(
    r"^(?:export\s+)?(?:async\s+)?(?:function\*?|class)\s+([A-Za-z_$][\w$]*)", re.MULTILINE)


def import_example(source: Mapping[str, str], language: str) -> str:
    """How a test imports this project's first module — its real names, never an
    invented module a small model would copy into the tests (it once wrote
    `from calc import add` for an LRU cache, after the prompt's own example)."""
    path = next((p for p in source if language_of(p) == language), None)
    if path is None:
        return "import the module under test by its name"
    found = (_PY_DEFINITION if language == "python" else _JS_DEFINITION).search(source[path])
    name = found.group(1) if found else None
    if language == "python":
        module = module_name(path)
        return f"from {module} import {name}" if name else f"import {module}"
    target = f"../{path}"
    return (f"const {{ {name} }} = require('{target}');" if name
            else f"const mod = require('{target}');")


_PY_MAIN = re.compile(r"""^if\s+__name__\s*==\s*['"]__main__['"]\s*:""", re.MULTILINE)
_JS_MAIN = re.compile(r"require\.main\s*===?\s*module|process\.argv")


def command_line_entry(source: Mapping[str, str], language: str) -> str | None:
    """The file a command-line project is run as (its `__main__` guard, or
    `require.main === module` / `process.argv` in node), or None for a library."""
    pattern = _PY_MAIN if language == "python" else _JS_MAIN
    return next((p for p, c in sorted(source.items())
                 if language_of(p) == language and pattern.search(c)), None)


def _unfence(content: str, language: str, path: str) -> str:
    if ("```" in content or "~~~" in content) and code_blocks(content):
        return extract_code(content, language=language, path=path)
    return content.strip("\n") + "\n" if content.strip() else ""


def _place(raw_path: str, content: str, language: str, project: Mapping[str, str]) -> str | None:
    """The validated tests/ path for a reply file, or None when its path is unsafe."""
    try:
        path = validate_project_path(raw_path)
    except InvalidPath as exc:
        log.warning("tester: dropped a test file with an invalid path: %s", exc)
        return None
    if path in project or not is_test_path(path) or not path.startswith("tests/"):
        return test_path_for(path, language)
    return test_path_for(path, language) if language_of(path) == language else path


def _fix_relative_requires(content: str, old_path: str, new_path: str) -> str:
    # A JS test moved from the root into tests/ must reach the project one level up.
    if posixpath.dirname(old_path) == "" and new_path.startswith("tests/"):
        return re.sub(r"""require\((['"])\./""", r"require(\1../", content)
    return content


def _conftest(existing: str | None) -> str:
    if existing and "sys.path" in existing:
        return existing
    return CONFTEST_HEADER + (("\n" + existing) if existing else "")


def normalise_test_files(
    replies: list[tuple[str, str]], plan: Plan, project: Mapping[str, str]
) -> dict[str, str]:
    """Validated, unfenced test files under tests/, plus the Python conftest.

    Unsafe paths are dropped (logged), files that are not test files are renamed into
    tests/, name clashes get a numeric suffix. Empty when nothing usable remains.
    """
    language = plan.language
    out: dict[str, str] = {}
    for raw_path, raw_content in replies:
        content = _unfence(raw_content, language, raw_path)
        if not content.strip():
            continue
        path = _place(raw_path, content, language, project)
        if path is None:
            continue
        if language == "javascript":
            content = _fix_relative_requires(content, raw_path.strip().lstrip("./"), path)
        if path == CONFTEST_PATH:
            out[path] = content
            continue
        base, ext = posixpath.splitext(path)
        counter = 2
        while path in out:
            path = f"{base}_{counter}{ext}"
            counter += 1
        out[path] = content
    if not any(p != CONFTEST_PATH for p in out):
        return {}
    if language == "python":
        out[CONFTEST_PATH] = _conftest(out.get(CONFTEST_PATH))
    return out


def _reply_files(text: str, plan: Plan) -> list[tuple[str, str]]:
    """(path, content) of each test file in a reply: `### path` + fenced code, or JSON."""
    if text.lstrip().startswith("{"):
        try:
            parsed = TesterReply.model_validate(extract_json(text))
        except (ValueError, ValidationError):
            parsed = None
        if parsed is not None:
            return [(f.path, f.content) for f in parsed.files]
    default = test_path_for(plan.files[0].path, plan.language)
    found: list[tuple[str, str]] = []
    for label, block in split_labelled_blocks(text):
        if label is None and found:
            continue  # an unlabelled block after a file is usually an example run
        found.append((label or default, without_in_block_header(block.body)))
    return found


def _usable(tests: Mapping[str, str]) -> bool:
    # Small models copy the prompt's placeholder text; a file without a test is not one.
    return any(_TEST_MARKER.search(c) for p, c in tests.items() if p != CONFTEST_PATH)


async def write_tests(
    plan: Plan,
    files: Mapping[str, str],
    llm: LLM,
    *,
    spec_prompt: str,
    max_repairs: int = 1,
    temperature: float = 0.0,
    examples: int = 0,
) -> dict[str, str]:
    """Test files for the project, path → content.

    Python: pytest files under tests/ plus a tests/conftest.py that puts the project
    root on sys.path (so `pytest` run from the root imports the modules by name).
    JavaScript: tests/*.test.js for `node --test`.

    The model answers with fenced code under `### path` headers, not JSON: a small
    model writing source code inside a JSON string has to escape every quote and
    newline, and under a grammar it loses its way (measured: runaways to the token
    limit on 2 of 6 HumanEval problems). A reply without a usable test file is sent
    back up to `max_repairs` times; then LLMOutputInvalid. LLM errors propagate.

    `examples` is how many of the request's own examples already run as tests: then
    only a few edge cases they miss are asked for — the examples are the better
    tests, and every generated one is paid for in tokens.
    """
    language = plan.language
    source = {p: c for p, c in files.items() if not is_test_path(p)}
    total = context_budget(llm, reply_tokens=TESTER_MAX_TOKENS)
    request_text = clip(spec_prompt, max(1000, total // 4))
    modules = {p: module_name(p) if language_of(p) == "python" else "" for p in source}
    example_path = "tests/test_calc.py" if language == "python" else "tests/calc.test.js"
    if plan.files:
        example_path = test_path_for(plan.files[0].path, language)
    system = render("tester_system.md", language=language, example_path=example_path,
                    examples=examples, import_example=import_example(source, language),
                    cli_entry=command_line_entry(source, language))

    def user_prompt(shown: Mapping[str, str]) -> str:
        return render(
            "tester_user.md",
            request=request_text,
            plan=plan,
            files=shown,
            modules=modules,
            fence=language,
            example_path=example_path,
        )

    used = len(system) + len(user_prompt({})) + 300 + 60 * len(source)
    shown = fit_context(source, max(0, total - used), language=language)
    messages = [
        Message(role="system", content=system),
        Message(role="user", content=user_prompt(shown)),
    ]
    for attempt in range(max_repairs + 1):
        result = await llm.chat(
            ChatRequest(
                messages=messages,
                agent="tester",
                temperature=temperature,
                max_tokens=TESTER_EDGE_MAX_TOKENS if examples else TESTER_MAX_TOKENS,
            )
        )
        tests = normalise_test_files(_reply_files(result.text, plan), plan, source)
        if tests and _usable(tests):
            return tests
        if attempt < max_repairs:
            messages = [
                *messages,
                Message(role="assistant", content=result.text),
                Message(
                    role="user",
                    content=(
                        "That reply holds no usable test file. Reply with the line "
                        f"`### {example_path}` and then the complete source code of the "
                        f"test file, with test functions, in one ```{language} block."
                    ),
                ),
            ]
    raise LLMOutputInvalid("tester: the reply holds no usable test file")
