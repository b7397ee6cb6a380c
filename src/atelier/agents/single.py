"""The baseline strategy: one plain call writes every file of the project.

This is what every benchmark compares the pipeline against, so it stays deliberately
simple: one request, then a careful parse of whatever the model replied.
"""

from __future__ import annotations

import logging
import re

from atelier.agents.extract import extract_code, finish_code, split_labelled_blocks
from atelier.agents.prompts import render
from atelier.domain.errors import InvalidPath
from atelier.domain.paths import language_of, validate_project_path
from atelier.domain.spec import Spec
from atelier.llm.base import LLM, ChatRequest, Message

log = logging.getLogger(__name__)

SINGLE_MAX_TOKENS = 2048
DEFAULT_FILES = {"python": "main.py", "javascript": "index.js"}
_EXTENSIONS = {"python": ("py",), "javascript": ("js", "mjs", "cjs")}


def default_file_name(spec_prompt: str, language: str) -> str:
    """The file a single unlabelled block goes to: the first file of the language named
    in the spec ("write `calc.py` with …"), else main.py / index.js."""
    extensions = _EXTENSIONS.get(language, ())
    if extensions:
        pattern = rf"(?<![\w/.\-])([\w\-]+(?:/[\w\-]+)*\.(?:{'|'.join(extensions)}))\b"
        for match in re.finditer(pattern, spec_prompt):
            try:
                return validate_project_path(match.group(1))
            except InvalidPath:
                continue
    return DEFAULT_FILES.get(language, "main.txt")


# A line inside a block that starts a file: "### calc.py", "## src/x.js", "// file: x.js".
_SECTION_HEADER = re.compile(
    r"^\s*(?:#{2,}|//)\s*(?:file(?:name)?\s*:\s*)?([\w\-]+(?:/[\w\-]+)*\.[A-Za-z]\w{0,4})\s*$",
    re.IGNORECASE,
)


def _sections(body: str) -> list[tuple[str, str]]:
    """(path, content) of each file of a block that holds several, each under a
    header line — small models often write the whole project in one block. Empty
    when the block does not start with such a header."""
    lines = body.lstrip("\n").split("\n")
    if not lines or not _SECTION_HEADER.match(lines[0]):
        return []
    sections: list[tuple[str, list[str]]] = []
    for line in lines:
        header = _SECTION_HEADER.match(line)
        if header:
            sections.append((header.group(1), []))
        else:
            sections[-1][1].append(line)
    return [(path, "\n".join(body_lines).strip("\n") + "\n") for path, body_lines in sections]


def parse_project_reply(reply: str, *, language: str, default_path: str) -> dict[str, str]:
    """Files of a multi-file reply, path → content.

    Blocks labelled by a header ("### path", "**path**", "# file: path") or their
    first line become their files; invalid paths are dropped with a log line. When no
    block is labelled, the most plausible code (or the whole unfenced reply) becomes
    `default_path`. Unlabelled blocks next to labelled ones (usage examples) are ignored.
    """
    files: dict[str, str] = {}
    for label, block in split_labelled_blocks(reply):
        sections = _sections(block.body)
        if label is None and not sections:
            continue
        for raw_path, body in sections or [(label or "", block.body)]:
            try:
                path = validate_project_path(raw_path)
            except InvalidPath as exc:
                log.warning("single: dropped a file with an invalid path: %s", exc)
                continue
            content = finish_code(
                body, language_of(path, default=language), truncated=not block.closed
            )
            if content.strip() and len(content) >= len(files.get(path, "")):
                files[path] = content
    if files:
        return files
    code = extract_code(reply, language=language, path=default_path)
    return {default_path: code} if code.strip() else {}


async def write_project_single(
    spec: Spec,
    llm: LLM,
    *,
    language: str = "python",
    temperature: float = 0.0,
    seed: int | None = None,
) -> dict[str, str]:
    """Every file of the project from one plain model call, path → content.

    `spec.language` wins over `language`. Returns {} when the reply holds no code;
    LLM errors of the provider propagate.
    """
    chosen = (spec.language or language or "python").strip().lower()
    chosen = {"py": "python", "js": "javascript", "node": "javascript"}.get(chosen, chosen)
    request = ChatRequest(
        messages=[
            Message(role="system", content=render("single_system.md", language=chosen)),
            Message(role="user", content=render("single_user.md", request=spec.prompt)),
        ],
        agent="coder",
        temperature=temperature,
        max_tokens=max(256, min(SINGLE_MAX_TOKENS, int(llm.context_window) // 2)),
        seed=seed,
    )
    result = await llm.chat(request)
    return parse_project_reply(
        result.text, language=chosen, default_path=default_file_name(spec.prompt, chosen)
    )
