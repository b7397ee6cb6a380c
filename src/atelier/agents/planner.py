"""The Planner: a project description in, a validated Plan out."""

from __future__ import annotations

import logging
import posixpath
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from atelier.agents.context import context_budget
from atelier.agents.prompts import DEFAULT_TEST_COMMANDS, clip, render
from atelier.domain.errors import InvalidPath, InvalidPlan
from atelier.domain.paths import (
    is_readme_path,
    is_test_path,
    language_of,
    module_name,
    validate_project_path,
)
from atelier.domain.plan import MAX_PLAN_FILES, SUPPORTED_LANGUAGES, FileSpec, Plan
from atelier.domain.spec import Spec
from atelier.llm.base import LLM, ChatRequest, Message
from atelier.llm.structured import chat_structured
from atelier.spec.examples import parse_examples
from atelier.spec.inline_examples import parse_inline_examples
from atelier.spec.request_sections import stated_dependencies

log = logging.getLogger(__name__)

PLANNER_MAX_TOKENS = 1024
PLAN_SCHEMA_MAX_FILES = 12

# Texts of the prompt's example reply that small models copy verbatim.
_PLACEHOLDER_PURPOSE = "public functions or classes of this file"
_PLACEHOLDER_NAME = "short-project-name"

_LANGUAGE_ALIASES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "node.js": "javascript",
}


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    return value


class PlannedFile(BaseModel):
    """One file of the Planner reply, as the model wrote it (paths not yet checked)."""

    model_config = ConfigDict(extra="ignore")

    path: str
    purpose: str = ""
    depends_on: list[str] = Field(default_factory=list)

    @field_validator("purpose", mode="before")
    @classmethod
    def _purpose_text(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("depends_on", mode="before")
    @classmethod
    def _depends_list(cls, value: Any) -> Any:
        return _as_list(value)


class PlannerReply(BaseModel):
    """The Planner reply contract: name, summary, language, files, dependencies,
    test_command. Lenient about the small things small models get wrong."""

    model_config = ConfigDict(extra="ignore")

    name: str = "project"
    summary: str = ""
    language: str | None = None
    files: list[PlannedFile] = Field(min_length=1)
    dependencies: list[str] = Field(default_factory=list)
    test_command: str | None = None
    examples: list[str] = Field(default_factory=list)

    @field_validator("name", "summary", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("dependencies", mode="before")
    @classmethod
    def _dependencies_list(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("examples", mode="before")
    @classmethod
    def _examples_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [line.strip() for line in value.splitlines() if line.strip()]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return []


# Sent for constrained decoding: every key required, so a grammar-driven model
# produces the whole shape.
PLAN_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "summary": {"type": "string"},
        "language": {"type": "string"},
        "files": {
            "type": "array",
            "minItems": 1,
            # Tighter than MAX_PLAN_FILES on purpose: a small model under a grammar
            # tends to repeat list items until its token limit; the cap ends the loop.
            "maxItems": PLAN_SCHEMA_MAX_FILES,
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "purpose": {"type": "string"},
                    "depends_on": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["path", "purpose", "depends_on"],
            },
        },
        "dependencies": {"type": "array", "items": {"type": "string"}},
        "test_command": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["name", "summary", "language", "files", "dependencies", "test_command"],
}
# A plain request's plan also carries the examples the Planner took from its words.
PLAIN_PLAN_JSON_SCHEMA: dict[str, Any] = {
    **PLAN_JSON_SCHEMA,
    "properties": {**PLAN_JSON_SCHEMA["properties"],
                   "examples": {"type": "array", "maxItems": 16, "items": {"type": "string"}}},
    "required": [*PLAN_JSON_SCHEMA["required"], "examples"],
}
MAX_PLANNED_EXAMPLES_PER_FUNCTION = 4


def _normalise_language(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    lowered = value.strip().lower()
    return _LANGUAGE_ALIASES.get(lowered, lowered)


def _infer_language(paths: list[str]) -> str | None:
    counts: dict[str, int] = {}
    for path in paths:
        lang = language_of(path)
        if lang in SUPPORTED_LANGUAGES:
            counts[lang] = counts.get(lang, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None


def _test_command(language: str, proposed: str | None) -> str | None:
    # The Tester writes pytest / node:test suites, so a command that runs something
    # else (unittest, npm test without a package.json…) would never see them.
    default = DEFAULT_TEST_COMMANDS.get(language)
    if default is None:
        return proposed.strip() if proposed and proposed.strip() else None
    if proposed and ("pytest" if language == "python" else "node --test") in proposed:
        return proposed.strip()
    return default


def _resolve_dependency(raw: str, paths: list[str]) -> str | None:
    """Map what the model wrote in depends_on (a path, './x.py', a module name) to a plan path."""
    try:
        candidate = validate_project_path(raw)
    except InvalidPath:
        candidate = raw.strip()
    if candidate in paths:
        return candidate
    for path in paths:
        stem = posixpath.splitext(posixpath.basename(path))[0]
        if candidate in {module_name(path), stem} or posixpath.basename(path) == candidate:
            return path
    return None


def _without_cycles(files: list[FileSpec],
                    first: dict[str, list[str]] | None = None) -> list[FileSpec]:
    """Drop the dependency edges that would close a cycle: the edges in `first` are
    kept before any other, then the files' own in order."""
    kept: dict[str, list[str]] = {f.path: [] for f in files}

    def reaches(start: str, target: str) -> bool:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            if node == target:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(kept[node])
        return False

    edges = [(path, dep) for path, deps in (first or {}).items() for dep in deps]
    edges += [(f.path, dep) for f in files for dep in f.depends_on]
    for path, dep in edges:
        if dep in kept[path] or dep not in kept:
            continue
        if not reaches(dep, path):
            kept[path].append(dep)
        else:
            log.info("planner: dropped cyclic dependency %s -> %s", path, dep)
    return [f.model_copy(update={"depends_on": kept[f.path]}) for f in files]


def build_plan(reply: PlannerReply, *, language: str | None = None) -> Plan:
    """Turn a parsed Planner reply into a Plan.

    Every path is validated first (a hostile one raises InvalidPath, even on a file
    that would be dropped); test files and README.md are removed (the Tester and the
    Documenter own them); dependencies are resolved to plan paths and cycles broken;
    the test command defaults per language. Raises InvalidPlan when no source file
    remains or there are too many files.
    """
    files: list[FileSpec] = []
    seen: set[str] = set()
    for planned in reply.files:
        path = validate_project_path(planned.path)  # raises InvalidPath
        if is_test_path(path) or is_readme_path(path):
            log.info("planner: dropped %s (tests and README are written later)", path)
            continue
        if path in seen:
            continue
        seen.add(path)
        purpose = planned.purpose.strip()
        if _PLACEHOLDER_PURPOSE in purpose.lower():
            purpose = ""  # the prompt's own description, copied by a small model
        files.append(FileSpec(path=path, purpose=purpose, depends_on=[]))
    if not files:
        raise InvalidPlan("the plan lists no source files (only tests or README)")
    if len(files) > MAX_PLAN_FILES:
        raise InvalidPlan(f"the plan lists {len(files)} files; at most {MAX_PLAN_FILES} allowed")
    paths = [f.path for f in files]
    by_path = {validate_project_path(p.path): p for p in reply.files}
    resolved: list[FileSpec] = []
    for f in files:
        deps = [_resolve_dependency(d, paths) for d in by_path[f.path].depends_on]
        unique = list(dict.fromkeys(d for d in deps if d is not None and d != f.path))
        resolved.append(f.model_copy(update={"depends_on": unique}))
    chosen = _normalise_language(language)
    if chosen is None:
        # The model's word, unless it names a language we cannot test and the
        # file extensions say otherwise.
        chosen = _normalise_language(reply.language)
        if chosen not in SUPPORTED_LANGUAGES and _infer_language(paths) is not None:
            chosen = _infer_language(paths)
    chosen = chosen or "python"
    examples = planned_examples(reply.examples, [f.purpose for f in files])
    name = " ".join(reply.name.split())[:100]
    if not name or name == _PLACEHOLDER_NAME:
        name = posixpath.splitext(posixpath.basename(paths[0]))[0]
    return Plan(
        name=name or "project",
        summary=reply.summary.strip(),
        language=chosen,
        files=_without_cycles(resolved),
        dependencies=[d.strip() for d in reply.dependencies if d and d.strip()],
        test_command=_test_command(chosen, reply.test_command),
        examples=examples,
    )


def planned_examples(written: list[str], purposes: list[str]) -> list[str]:
    """The Planner's examples that can run as tests: one unambiguous literal call with a
    literal result each (as the request's inline examples are read), of a function the
    plan's purposes name, at most a few per function. Vague or misshapen ones are
    dropped rather than held against the code."""
    named = " ".join(purposes)
    kept: list[str] = []
    per_function: dict[str, int] = {}
    for line in written:
        text = line.strip().strip("`")
        parsed = parse_inline_examples(text)
        # The call must be the whole left side: in `seconds-to-duration(60) == '1m'` the
        # call found is `duration(60)`, which is not what the line says.
        if len(parsed) != 1 or parsed[0].name not in named or not text.startswith(
                parsed[0].source):
            continue
        example = parsed[0]
        if per_function.get(example.name, 0) >= MAX_PLANNED_EXAMPLES_PER_FUNCTION:
            continue
        per_function[example.name] = per_function.get(example.name, 0) + 1
        kept.append(f"{example.source} == {example.expected!r}")
    return kept


def is_plain_request(prompt: str) -> bool:
    """A request that names no source file and shows no example: the Planner then
    chooses the functions and writes the examples they are held to."""
    return not named_source_files(prompt) and not parse_examples(prompt)


async def plan_project(
    spec: Spec,
    llm: LLM,
    *,
    template_hint: str | None = None,
    max_repairs: int = 2,
    temperature: float = 0.0,
) -> Plan:
    """Ask the model for a plan of the project described by `spec`.

    The reply is JSON (schema-constrained where the provider supports it); invalid
    JSON is sent back for repair up to `max_repairs` times. `spec.language` wins over
    the model's choice.

    Raises InvalidPath for an unsafe file path (never repaired, never written),
    InvalidPlan when no source file remains, LLMOutputInvalid when the reply stays
    unparseable, and LLM errors of the provider unchanged.
    """
    budget = context_budget(llm, reply_tokens=PLANNER_MAX_TOKENS)
    language = _normalise_language(spec.language)
    plain = is_plain_request(spec.prompt)
    system = render("planner_system.md", plain=plain)
    user = render(
        "planner_user.md",
        request=clip(spec.prompt, max(1000, budget - len(system) - 300)),
        language=language,
        template_hint=template_hint,
    )
    request = ChatRequest(
        messages=[Message(role="system", content=system), Message(role="user", content=user)],
        agent="planner",
        temperature=temperature,
        max_tokens=PLANNER_MAX_TOKENS,
        json_schema=PLAIN_PLAN_JSON_SCHEMA if plain else PLAN_JSON_SCHEMA,
    )
    structured = await chat_structured(llm, request, PlannerReply, max_repairs=max_repairs)
    plan = with_named_files(build_plan(structured.value, language=language), spec.prompt)
    return with_stated_dependencies(plan, spec.prompt)


def with_stated_dependencies(plan: Plan, prompt: str) -> Plan:
    """The plan with each file depending on the files whose names its section of the
    request uses (see `request_sections`): it is then written after them, with their
    code in view."""
    needs = stated_dependencies(prompt, [f.path for f in plan.files])
    if not any(needs.values()):
        return plan
    # The request's word beats the model's where the two would make a cycle.
    return plan.model_copy(update={"files": _without_cycles(plan.files, first=needs)})


# A file name in prose: not glued to a longer path (so "../x.py" never matches "x.py").
_NAMED_SOURCE = re.compile(
    r"(?<![\w./-])((?:[A-Za-z0-9_\-]+/)*[A-Za-z0-9_\-]+\.(?:py|js|mjs|ts))\b"
)


# Product names that look like file names in prose ("JavaScript (Node.js, CommonJS)").
_PRODUCT_NAMES = frozenset({"node.js", "vue.js", "next.js", "nuxt.js", "express.js",
                            "react.js", "three.js", "d3.js", "chart.js", "socket.io.js"})


def named_source_files(prompt: str) -> list[str]:
    """The source files a request names, in order, without repeats or tests.

    When some names are in backticks, only those count: a request that marks its files
    up says which words are files. Otherwise product names (`Node.js`) are left out.
    """
    matches = [(m.group(1), prompt[m.start() - 1 : m.start()] == "`"
                and prompt[m.end() : m.end() + 1] == "`")
               for m in _NAMED_SOURCE.finditer(prompt)]
    quoted_only = any(quoted for _, quoted in matches)
    named: list[str] = []
    for name, quoted in matches:
        if (quoted_only and not quoted) or name.lower() in _PRODUCT_NAMES:
            continue
        try:
            path = validate_project_path(name)
        except InvalidPath:
            continue
        if not is_test_path(path) and path not in named:
            named.append(path)
    return named


def with_named_files(plan: Plan, prompt: str) -> Plan:
    """The plan plus any source file the request names that the model left out.

    Small models drop files ("inventory.py and report.py" becomes one file); the
    request's own file names are a contract the project's users rely on.
    """
    known = {f.path for f in plan.files}
    extra: list[FileSpec] = []
    for path in named_source_files(prompt):
        if path in known or language_of(path) != plan.language:
            continue
        known.add(path)
        extra.append(FileSpec(path=path, purpose="named in the request", depends_on=[]))
    if not extra or len(plan.files) + len(extra) > MAX_PLAN_FILES:
        return plan
    log.info("planner: added files the request names: %s", [f.path for f in extra])
    return plan.model_copy(update={"files": [*plan.files, *extra]})


def plan_named_file(spec: Spec) -> Plan | None:
    """The plan of a request that names exactly one source file and nothing else to
    plan (no template): that file, in its language. None when the Planner is needed.

    Asking a model to plan a project whose only file the user already named costs a
    call (15 s and ~100 tokens on a 0.5B model, measured) and can only add mistakes.
    """
    if spec.template:
        return None
    named = named_source_files(spec.prompt)
    if len(named) != 1:
        return None
    path = named[0]
    language = _normalise_language(spec.language) or language_of(path)
    if language not in SUPPORTED_LANGUAGES or language_of(path) != language:
        return None
    stem = posixpath.splitext(posixpath.basename(path))[0]
    summary = " ".join(spec.prompt.split())[:200]
    return Plan(
        name=stem or "project",
        summary=summary,
        language=language,
        files=[FileSpec(path=path, purpose="everything the request asks for")],
        test_command=DEFAULT_TEST_COMMANDS.get(language),
    )
