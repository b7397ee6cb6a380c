"""The Documenter: README.md for the generated project."""

from __future__ import annotations

import re
from collections.abc import Mapping

from atelier.agents.context import context_budget, fit_context, signatures
from atelier.agents.prompts import DEFAULT_TEST_COMMANDS, clip, render
from atelier.domain.paths import is_test_path, language_of
from atelier.domain.plan import Plan
from atelier.domain.report import TestReport
from atelier.llm.base import LLM, ChatRequest, Message

DOCUMENTER_MAX_TOKENS = 1024
_MIN_USABLE_WORDS = 8
_OPENING_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(markdown|md)?\s*$", re.I)
_LEADING_PROSE = re.compile(r"^(?:sure|here(?:'s| is)|certainly|below is)[^\n]*\n+", re.I)


def _fence_of(path: str) -> str:
    language = language_of(path)
    return "" if language == "text" else language


def unwrap_markdown(reply: str) -> str:
    """The README text of a reply: a chatty first line before the content dropped, an
    outer ```markdown fence removed (also when its closing fence was cut off)."""
    text = reply.replace("\r\n", "\n").strip()
    lead = _LEADING_PROSE.match(text)
    if lead and re.match(r"\s*(#|`{3}|~{3})", text[lead.end() :]):
        text = text[lead.end() :].strip()
    lines = text.split("\n")
    opening = _OPENING_FENCE.match(lines[0]) if lines else None
    if opening:
        fence, tagged = opening.group(1), bool(opening.group(2))
        body = lines[1:]
        closed = bool(body) and body[-1].strip() == fence
        if closed:
            body = body[:-1]
        if tagged or closed:
            text = "\n".join(body).strip()
    return text


def _usable(text: str) -> bool:
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= _MIN_USABLE_WORDS


def fallback_readme(plan: Plan, files: Mapping[str, str], report: TestReport | None) -> str:
    """A plain README built from the plan and the files' signatures (no model)."""
    test_command = plan.test_command or DEFAULT_TEST_COMMANDS.get(plan.language, "")
    lines = [f"# {plan.name}", ""]
    if plan.summary:
        lines += [plan.summary, ""]
    lines += ["## Files", ""]
    for f in plan.files:
        lines.append(f"- `{f.path}` — {f.purpose}" if f.purpose else f"- `{f.path}`")
    lines.append("")
    api = [
        (path, signatures(path, content, language=plan.language).strip())
        for path, content in files.items()
        if not is_test_path(path) and language_of(path) in {"python", "javascript"}
    ]
    api = [(p, s) for p, s in api if s]
    if api:
        lines += ["## API", ""]
        for path, outline in api:
            lines += [f"### `{path}`", "", f"```{_fence_of(path)}", outline, "```", ""]
    if test_command:
        lines += ["## Tests", "", "```sh", test_command, "```", ""]
        if report is not None:
            lines += [
                f"Last run: {report.passed} passed, {report.failed} failed, "
                f"{report.errors} errors.",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


async def write_docs(
    plan: Plan,
    files: Mapping[str, str],
    report: TestReport | None,
    llm: LLM,
    *,
    spec_prompt: str,
    temperature: float = 0.2,
) -> str:
    """README.md (Markdown, ending with a newline) for the project.

    An outer ```markdown fence is stripped; a reply with nothing usable (empty, a
    few words) gives a deterministic README built from the plan instead. LLM errors
    of the provider propagate.
    """
    total = context_budget(llm, reply_tokens=DOCUMENTER_MAX_TOKENS)
    test_command = plan.test_command or DEFAULT_TEST_COMMANDS.get(plan.language, "")
    source = {p: c for p, c in files.items() if not is_test_path(p) and p != "README.md"}
    system = render("documenter_system.md", language=plan.language, test_command=test_command)

    def user_prompt(shown: Mapping[str, str]) -> str:
        return render(
            "documenter_user.md",
            request=clip(spec_prompt, max(800, total // 5)),
            plan=plan,
            files=shown,
            fence_of=_fence_of,
            report=report,
        )

    used = len(system) + len(user_prompt({})) + 300 + 40 * len(source)
    # Documentation needs the API, not the bodies: outlines unless all fits easily.
    shown = fit_context(source, max(0, min(total - used, 6000)), language=plan.language)
    request = ChatRequest(
        messages=[
            Message(role="system", content=system),
            Message(role="user", content=user_prompt(shown)),
        ],
        agent="documenter",
        temperature=temperature,
        max_tokens=DOCUMENTER_MAX_TOKENS,
    )
    result = await llm.chat(request)
    text = unwrap_markdown(result.text)
    if not _usable(text):
        return fallback_readme(plan, files, report)
    if not text.lstrip().startswith("#"):
        text = f"# {plan.name}\n\n{text}"
    return text.rstrip() + "\n"
