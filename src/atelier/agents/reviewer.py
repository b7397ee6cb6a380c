"""The Reviewer: findings (severity, path, line, message, suggestion) on the project."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atelier.agents.context import context_budget, fit_context
from atelier.agents.prompts import clip, render
from atelier.domain.errors import InvalidPath, LLMOutputInvalid
from atelier.domain.paths import language_of, validate_project_path
from atelier.domain.plan import Plan
from atelier.domain.report import TestReport
from atelier.domain.review import Finding
from atelier.llm.base import LLM, ChatRequest, Message
from atelier.llm.structured import chat_structured

log = logging.getLogger(__name__)

# The schema bounds the reply (findings, and the length of each text) so a small model
# cannot ramble to the token limit; a cut-off reply used to cost up to two repairs of
# the whole review, in the advisory step that is the slowest of a job.
REVIEWER_MAX_TOKENS = 768
MAX_FINDINGS = 6
_TEXT_CHARS = 240


class RawFinding(BaseModel):
    """One finding as the model wrote it; turned into a domain Finding afterwards."""

    model_config = ConfigDict(extra="ignore")

    severity: str = "low"
    path: str = ""
    line: int | None = None
    message: str = ""
    suggestion: str | None = None

    @field_validator("line", mode="before")
    @classmethod
    def _line_number(cls, value: Any) -> Any:
        if isinstance(value, str):
            digits = "".join(ch for ch in value if ch.isdigit())
            return int(digits[:9]) if digits else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value)

    @field_validator("severity", "path", "message", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else str(value)


class ReviewerReply(BaseModel):
    """The Reviewer reply contract: {"findings": [...]}."""

    model_config = ConfigDict(extra="ignore")

    findings: list[RawFinding] = Field(default_factory=list)


REVIEW_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "maxItems": MAX_FINDINGS,
            "items": {
                "type": "object",
                "properties": {
                    "severity": {"type": "string", "enum": ["low", "medium", "high"]},
                    "path": {"type": "string", "maxLength": 200},
                    "line": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "message": {"type": "string", "maxLength": _TEXT_CHARS},
                    "suggestion": {"anyOf": [{"type": "string", "maxLength": _TEXT_CHARS},
                                             {"type": "null"}]},
                },
                "required": ["severity", "path", "line", "message", "suggestion"],
            },
        }
    },
    "required": ["findings"],
}


def to_findings(reply: ReviewerReply, files: Mapping[str, str]) -> list[Finding]:
    """Domain findings from a reply: empty messages dropped, unknown severities read as
    "low", unsafe paths blanked, lines outside the file cleared, at most MAX_FINDINGS."""
    findings: list[Finding] = []
    for raw in reply.findings:
        if not raw.message.strip():
            continue
        path = raw.path.strip()
        if path:
            try:
                path = validate_project_path(path)
            except InvalidPath:
                path = ""
        line = raw.line
        if line is not None and (
            not path or line < 1 or (path in files and line > files[path].count("\n") + 1)
        ):
            line = None
        try:
            finding = Finding(
                severity=raw.severity or "low",
                path=path,
                line=line,
                message=raw.message.strip(),
                suggestion=(raw.suggestion or "").strip() or None,
            )
        except ValidationError:
            finding = Finding(severity="low", path=path, line=line, message=raw.message.strip())
        findings.append(finding)
    return findings[:MAX_FINDINGS]


async def review_project(
    plan: Plan,
    files: Mapping[str, str],
    report: TestReport | None,
    llm: LLM,
    *,
    max_repairs: int = 2,
    spec_prompt: str | None = None,
    temperature: float = 0.0,
) -> list[Finding]:
    """Findings on the project's source files, most useful first as the model gave them.

    The review is advisory: when the reply stays unparseable after `max_repairs`
    repairs the result is an empty list (logged), not an error. LLM errors of the
    provider (unavailable, timeout) propagate.
    """
    total = context_budget(llm, reply_tokens=REVIEWER_MAX_TOKENS)
    failing = [c for c in (report.cases if report else []) if c.outcome in {"failed", "error"}]
    failing = [c.model_copy(update={"message": clip(c.message, 300)}) for c in failing[:8]]
    system = render("reviewer_system.md", language=plan.language, max_findings=MAX_FINDINGS)

    def fence_of(path: str) -> str:
        language = language_of(path)
        return "" if language == "text" else language

    def user_prompt(shown: Mapping[str, str]) -> str:
        return render(
            "reviewer_user.md",
            request=clip(spec_prompt or "", max(800, total // 5)),
            plan=plan,
            files=shown,
            fence_of=fence_of,
            report=report,
            failing=failing,
        )

    used = len(system) + len(user_prompt({})) + 300 + 40 * len(files)
    shown = fit_context(files, max(0, total - used), language=plan.language)
    request = ChatRequest(
        messages=[
            Message(role="system", content=system),
            Message(role="user", content=user_prompt(shown)),
        ],
        agent="reviewer",
        temperature=temperature,
        max_tokens=REVIEWER_MAX_TOKENS,
        json_schema=REVIEW_JSON_SCHEMA,
    )
    try:
        structured = await chat_structured(llm, request, ReviewerReply, max_repairs=max_repairs)
    except LLMOutputInvalid as exc:
        log.warning("reviewer: no usable findings: %s", exc)
        return []
    return to_findings(structured.value, files)
