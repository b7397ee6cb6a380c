"""The Coder: writes (or fixes) the full content of one file of the plan."""

from __future__ import annotations

from collections.abc import Mapping

from atelier.agents.context import CHARS_PER_TOKEN, context_budget, fit_context
from atelier.agents.extract import extract_code
from atelier.agents.prompts import clip, render
from atelier.domain.errors import LLMOutputInvalid
from atelier.domain.paths import language_of, module_name
from atelier.domain.plan import FileSpec, Plan
from atelier.llm.base import LLM, ChatRequest, Message

CODER_MAX_TOKENS = 2048
_PROMPT_SLACK_CHARS = 300


def coder_max_tokens(llm: LLM) -> int:
    """Room for the reply: up to 2048 tokens, at most half the model's window."""
    return max(256, min(CODER_MAX_TOKENS, int(llm.context_window) // 2))


def _fence(path: str) -> str:
    language = language_of(path)
    return "" if language == "text" else language


async def write_file(
    plan: Plan,
    file: FileSpec,
    context_files: Mapping[str, str],
    llm: LLM,
    *,
    spec_prompt: str,
    feedback: str | None = None,
    previous: str | None = None,
    temperature: float = 0.0,
    seed: int | None = None,
) -> str:
    """The full content of `file`, ending with a newline.

    `seed` tells sampled candidates apart (resampling draws several at one prompt).

    `context_files` are files already written (its dependencies, or on a fix round the
    whole project and its tests); they are trimmed to signatures when the model's
    window is small. `feedback` (failing test output, review findings) and `previous`
    (the content being fixed) turn the call into a fix.

    Raises LLMOutputInvalid when the reply holds no code and there is no previous
    content to keep; LLM errors of the provider propagate unchanged.
    """
    file_language = language_of(file.path, default=plan.language)
    if previous is None and feedback and file.path in context_files:
        previous = context_files[file.path]
    others = {p: c for p, c in context_files.items() if p != file.path}
    max_tokens = coder_max_tokens(llm)
    total = context_budget(llm, reply_tokens=max_tokens)
    request_text = clip(spec_prompt, max(1000, total // 4))
    feedback_text = clip(feedback, max(800, total // 5), keep="tail") if feedback else None
    previous_text = clip(previous, max(1000, total // 3)) if previous is not None else None
    system = render(
        "coder_system.md",
        language=file_language,
        fence=_fence(file.path),
        dependencies=plan.dependencies,
    )

    def user_prompt(files: Mapping[str, str]) -> str:
        return render(
            "coder_user.md",
            request=request_text,
            plan=plan,
            file=file,
            module=module_name(file.path) if file_language == "python" else "",
            context_files=files,
            fence_of=_fence,
            fence=_fence(file.path),
            previous=previous_text,
            feedback=feedback_text,
        )

    used = len(system) + len(user_prompt({})) + _PROMPT_SLACK_CHARS
    # Each file also costs a header and a fence in the prompt.
    overhead = 40 * len(others)
    budget = max(0, total - used - overhead)
    fitted = fit_context(others, budget, language=plan.language)
    request = ChatRequest(
        messages=[
            Message(role="system", content=system),
            Message(role="user", content=user_prompt(fitted)),
        ],
        agent="coder",
        temperature=temperature,
        seed=seed,
        max_tokens=max_tokens,
    )
    result = await llm.chat(request)
    code = extract_code(result.text, language=file_language, path=file.path)
    if code.strip():
        return code
    if previous is not None:
        return previous if previous.endswith("\n") else previous + "\n"
    raise LLMOutputInvalid(
        f"coder: the reply for {file.path} holds no code "
        f"({len(result.text)} characters, ~{len(result.text) // CHARS_PER_TOKEN} tokens)"
    )
