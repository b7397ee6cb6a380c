"""A GGUF model run in-process by llama.cpp (llama-cpp-python).

Structured output uses llama.cpp's JSON-schema constrained decoding: the schema is
compiled into a grammar and the sampler cannot produce anything else. Prompts are
formatted with the GGUF's own chat template (create_chat_completion does that).
llama_cpp is imported lazily so that this module, and the factory that imports it,
load without the optional `local` extra installed.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from atelier.domain.errors import LLMError, LLMOutputInvalid, LLMTimeout, LLMUnavailable
from atelier.domain.usage import CallUsage
from atelier.llm.base import ChatRequest, ChatResult
from atelier.llm.model_integrity import Pin, verify_pinned_file

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

# A reply needs some room: a prompt leaving fewer tokens than this is refused up front
# rather than answered with a truncated stub.
MIN_REPLY_TOKENS = 16
# This many whitespace-only tokens in a row is a runaway, not formatting.
RUNAWAY_CHUNKS = 48
# A reply whose last LOOP_TOKENS tokens (over at least LOOP_MIN_LINES non-blank lines)
# have at most LOOP_SHAPES different line shapes is in a repetition loop: a small
# model writing "assert f([1, 2]) == False", "assert f([1, 2, 0]) == False" … until
# its token limit. A line's shape is its letters only — numbers, lists and
# punctuation vary while the model loops. Counted in tokens, not lines, so a short
# table of same-shaped lines in real code never looks like one.
LOOP_TOKENS = 160
LOOP_MIN_LINES = 6
LOOP_SHAPES = 2
_NOT_LETTERS = re.compile(r"[^A-Za-z_]+")


def is_looping(lines: list[tuple[str, int]], prompt_lines: frozenset[str] = frozenset()) -> bool:
    """Whether completed lines — (text, tokens) each — end in a repetition loop.

    A line the prompt holds (`prompt_lines`, stripped), written once, ends the count:
    a model echoing its prompt's docstring, with examples such as eight
    `is_sorted([…]) ➞ True` lines, copies them rather than loops — cutting it there
    left an unterminated docstring. Written a second time, it counts like any line.
    """
    shapes: set[str] = set()
    written: Counter[str] | None = None
    tokens = count = 0
    for text, line_tokens in reversed(lines):
        stripped = text.strip()
        if not stripped:
            tokens += line_tokens
            continue
        if stripped in prompt_lines:
            if written is None:
                written = Counter(line.strip() for line, _ in lines)
            if written[stripped] == 1:
                return False
        shapes.add(_NOT_LETTERS.sub("", text))
        if len(shapes) > LOOP_SHAPES:
            return False
        tokens += line_tokens
        count += 1
        if tokens >= LOOP_TOKENS and count >= LOOP_MIN_LINES:
            return True
    return False
# Added to the counted prompt when the GGUF has no chat template to count with.
_TEMPLATE_ALLOWANCE_PER_MESSAGE = 8


class ContextOverflow(LLMError):
    """The prompt does not fit the model's context window with room for a reply."""

    code = "llm_context_overflow"


@dataclass
class _LoadedModel:
    llama: Llama
    # llama.cpp contexts are not thread-safe: one generation at a time per model.
    lock: threading.Lock
    # The GGUF's chat template, rendered here only to count prompt tokens exactly.
    formatter: Jinja2ChatFormatter | None


# Deliberately process-wide: a loaded GGUF is hundreds of MB to GBs of weights plus its
# KV cache, and every job, agent role and wrapper in this process must share one copy
# per file instead of loading it again. Keyed by (resolved path, n_ctx) because the
# context size is fixed when the model is loaded. Guarded by _MODELS_LOCK, which is
# held while loading so that two first callers do not load the same file twice.
_MODELS: dict[tuple[Path, int], _LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


def _chat_formatter(llama: Llama) -> Jinja2ChatFormatter | None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None

    def token_text(token: int) -> str:
        if token < 0:
            return ""
        return llama.detokenize([token], special=True).decode("utf-8", errors="ignore")

    try:
        return Jinja2ChatFormatter(
            template=template,
            eos_token=token_text(llama.token_eos()),
            bos_token=token_text(llama.token_bos()),
        )
    except ValueError:  # a template jinja cannot compile: count approximately instead
        return None


def _load(path: Path, n_ctx: int, n_threads: int | None, pin: Pin | None = None) -> _LoadedModel:
    key = (path, n_ctx)
    with _MODELS_LOCK:
        if pin is not None:
            # Before every use, not only the first: llama.cpp maps the file, so a file
            # changed under a loaded model changes the model too. Cheap while the
            # file's stamp holds; a changed file is hashed again.
            try:
                verify_pinned_file(path, pin)
            except LLMUnavailable:
                _MODELS.pop(key, None)
                raise
        loaded = _MODELS.get(key)
        if loaded is not None:
            return loaded
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMUnavailable(
                "the local provider needs llama-cpp-python: pip install 'atelier[local]'"
            ) from exc
        if not path.is_file():
            raise LLMUnavailable(f"local model file not found: {path}")
        try:
            llama = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                verbose=False,
            )
        except ValueError as exc:  # llama.cpp's "Failed to load model from file"
            raise LLMUnavailable(f"llama.cpp cannot load {path}: {exc}") from exc
        loaded = _LoadedModel(llama, threading.Lock(), _chat_formatter(llama))
        _MODELS[key] = loaded
        return loaded


def loaded_models() -> list[tuple[Path, int]]:
    """The (path, n_ctx) of every model loaded in this process (for /health and tests)."""
    with _MODELS_LOCK:
        return list(_MODELS)


class LocalLLM:
    """A GGUF chat model run in this process by llama.cpp.

    The model is loaded on first use (in a worker thread) and shared process-wide with
    every other LocalLLM of the same file and context size. Calls run in a worker
    thread and are serialised per model. `default_max_tokens` is used when a request
    sets none; the reply budget is always clamped to what is left of the context window.
    Cost is always 0.
    """

    def __init__(
        self,
        model_path: str | Path,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        *,
        model_name: str | None = None,
        default_max_tokens: int = 2048,
        pin: Pin | None = None,
    ) -> None:
        self._path = Path(model_path).expanduser().resolve()
        self._pin = pin
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._model_name = model_name or self._path.name
        self._default_max_tokens = default_max_tokens

    def __repr__(self) -> str:
        return f"LocalLLM(model={self._model_name!r}, n_ctx={self._n_ctx})"

    @property
    def provider(self) -> str:
        return "local"

    @property
    def model(self) -> str:
        return self._model_name

    @property
    def context_window(self) -> int:
        return self._n_ctx

    @property
    def path(self) -> Path:
        return self._path

    async def load(self) -> None:
        """Load the model now rather than on the first call.

        Raises LLMUnavailable when llama-cpp-python is missing or the file cannot be loaded,
        ModelCorrupt when a catalog model's file no longer matches its pinned SHA-256.
        """
        await asyncio.to_thread(_load, self._path, self._n_ctx, self._n_threads, self._pin)

    async def count_prompt_tokens(self, request: ChatRequest) -> int:
        """Tokens the request's messages take once formatted with the chat template."""
        loaded = await asyncio.to_thread(
            _load, self._path, self._n_ctx, self._n_threads, self._pin
        )
        return await asyncio.to_thread(self._count_locked, loaded, request)

    def _count_locked(self, loaded: _LoadedModel, request: ChatRequest) -> int:
        with loaded.lock:
            return self._count(loaded, request)

    def _count(self, loaded: _LoadedModel, request: ChatRequest) -> int:
        messages = [m.model_dump() for m in request.messages]
        if loaded.formatter is not None:
            try:
                formatted = loaded.formatter(messages=cast(Any, messages))
            except ValueError:  # the template's raise_exception (e.g. role order)
                formatted = None
            if formatted is not None:
                return len(
                    loaded.llama.tokenize(
                        formatted.prompt.encode("utf-8"),
                        add_bos=not formatted.added_special,
                        special=True,
                    )
                )
        total = _TEMPLATE_ALLOWANCE_PER_MESSAGE
        for m in request.messages:
            total += len(loaded.llama.tokenize(m.content.encode("utf-8"), add_bos=False))
            total += _TEMPLATE_ALLOWANCE_PER_MESSAGE
        return total

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Generate a reply in a worker thread.

        Raises LLMUnavailable (llama-cpp-python missing, model unloadable),
        ContextOverflow (the prompt leaves fewer than MIN_REPLY_TOKENS of the window),
        LLMError (llama.cpp rejected the call, e.g. a schema it cannot compile),
        LLMOutputInvalid (no reply text).
        """
        loaded = await asyncio.to_thread(
            _load, self._path, self._n_ctx, self._n_threads, self._pin
        )
        # llama.cpp cannot be interrupted mid-generation from Python. If the caller gives
        # up (a timeout cancels this task) the worker finishes its bounded generation;
        # one still waiting for the model lock sees `abandoned` and skips its work.
        abandoned = threading.Event()
        try:
            return await asyncio.to_thread(self._generate, loaded, request, abandoned)
        except asyncio.CancelledError:
            abandoned.set()
            raise

    def _generate(
        self, loaded: _LoadedModel, request: ChatRequest, abandoned: threading.Event
    ) -> ChatResult:
        with loaded.lock:
            if abandoned.is_set():
                raise LLMTimeout("the call was abandoned before the model was free")
            prompt_tokens = self._count(loaded, request)
            room = self._n_ctx - prompt_tokens
            if room < MIN_REPLY_TOKENS:
                raise ContextOverflow(
                    f"the prompt is {prompt_tokens} tokens; {self._model_name} has a "
                    f"{self._n_ctx}-token context window and a reply needs at least "
                    f"{MIN_REPLY_TOKENS} more: shorten the input or raise local_context"
                )
            max_tokens = min(request.max_tokens or self._default_max_tokens, room)
            kwargs: dict[str, Any] = {}
            if request.json_schema is not None:
                kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
            if request.seed is not None:
                kwargs["seed"] = request.seed
            started = time.perf_counter()
            try:
                text, finish_reason = self._stream(loaded, request, max_tokens, kwargs, abandoned)
            except ValueError as exc:  # context exceeded after all, or a bad schema/grammar
                raise LLMError(f"llama.cpp rejected the call to {self._model_name}: {exc}") from exc
            latency = time.perf_counter() - started
            completion_tokens = len(
                loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        if finish_reason == "abandoned":
            raise LLMTimeout(f"the call to {self._model_name} was abandoned mid-generation")
        return self._result(text, finish_reason, prompt_tokens, completion_tokens, latency)

    def _stream(
        self, loaded: _LoadedModel, request: ChatRequest, max_tokens: int,
        kwargs: dict[str, Any], abandoned: threading.Event,
    ) -> tuple[str, str | None]:
        """Generate token by token so a call can stop early.

        Reasons to stop before llama.cpp would: the caller gave up (a timeout —
        otherwise the abandoned generation would hold the model for minutes), or a
        runaway — under a JSON grammar a small model that cannot close a string emits
        whitespace until max_tokens, and without one it may repeat a line pattern
        (`is_looping`); what came before is kept and salvaged.
        """
        parts: list[str] = []
        lines: list[tuple[str, int]] = []  # completed lines and the tokens each took
        line_start = 0  # where, in the joined parts, the current unfinished line starts
        line_tokens = 0
        finish_reason: str | None = None
        prompt_lines = frozenset(
            line.strip() for message in request.messages
            for line in message.content.splitlines() if line.strip())
        chunks = loaded.llama.create_chat_completion(
            messages=cast(Any, [m.model_dump() for m in request.messages]),
            temperature=request.temperature,
            max_tokens=max_tokens,
            stream=True,
            **kwargs,
        )
        for chunk in cast(Any, chunks):
            choice = chunk["choices"][0]
            delta = (choice.get("delta") or {}).get("content")
            if delta:
                parts.append(delta)
            if choice.get("finish_reason"):
                finish_reason = choice["finish_reason"]
            if abandoned.is_set():
                return "".join(parts), "abandoned"
            if len(parts) >= RUNAWAY_CHUNKS and not "".join(parts[-RUNAWAY_CHUNKS:]).strip():
                return "".join(parts).rstrip() + "\n", "length"
            line_tokens += 1
            if delta and "\n" in delta:
                text = "".join(parts)
                end = text.rfind("\n") + 1
                completed = text[line_start:end].splitlines()
                lines.extend((line, 0) for line in completed[:-1])
                lines.append((completed[-1] if completed else "", line_tokens))
                line_start, line_tokens = end, 0
                if is_looping(lines, prompt_lines):
                    # Keep what came before the loop; the callers salvage a cut-off reply.
                    return text[:end], "length"
        return "".join(parts), finish_reason

    def _result(
        self, text: str, finish_reason: str | None, prompt_tokens: int,
        completion_tokens: int, latency: float,
    ) -> ChatResult:
        if not text and finish_reason is None:
            raise LLMOutputInvalid(f"{self._model_name} returned no text")
        return ChatResult(
            text=text,
            usage=CallUsage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost_usd=0.0,
                latency_s=round(latency, 6),
            ),
            provider=self.provider,
            model=self._model_name,
            finish_reason=finish_reason,
        )
