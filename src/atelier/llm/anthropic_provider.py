"""Anthropic's Messages API through the official `anthropic` SDK.

The SDK's own retries are switched off (`max_retries=0`): RetryingLLM owns retrying.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Literal

import anthropic
from anthropic.types import AssistantMessageParam, MessageParam, OutputConfigParam, UserMessageParam
from anthropic.types import Message as AnthropicMessage

from atelier.domain.errors import LLMError, LLMOutputInvalid
from atelier.llm.base import ChatRequest, ChatResult, Message
from atelier.llm.pricing import PriceTable
from atelier.llm.sdk_provider import SdkErrors, SdkProvider

ANTHROPIC_BASE_URL = "https://api.anthropic.com"

ANTHROPIC_ERRORS = SdkErrors(
    timeout=anthropic.APITimeoutError,
    connection=anthropic.APIConnectionError,
    status=anthropic.APIStatusError,
    # The API's own words when the body has them, not the SDK's "Error code: …" dump.
    status_message=lambda exc: exc.api_message or exc.message,
)

# "prompt": the schema goes into the system prompt and the reply is parsed downstream
#   (structured.py repairs what does not parse) — works on every model.
# "prefill": as "prompt", and the assistant turn is pre-filled with "{" so the reply
#   starts as a JSON object; not accepted by the newest models.
# "native": the API's structured outputs (`output_config.format`), constrained server-side;
#   only on models that support it.
AnthropicJsonMode = Literal["prompt", "prefill", "native"]


def json_instructions(schema: Mapping[str, Any]) -> str:
    """The system-prompt paragraph asking for a JSON reply matching `schema`."""
    return (
        "Reply with one JSON value that matches this JSON Schema, and nothing else: "
        "no prose, no Markdown code fences.\n"
        f"JSON Schema:\n{json.dumps(schema, indent=None, sort_keys=True)}"
    )


def split_messages(messages: list[Message]) -> tuple[str, list[MessageParam]]:
    """Anthropic's shape: the system prompt apart, and user/assistant turns alternating.

    System messages are joined into one system prompt; consecutive turns of the same
    role are merged. Raises LLMError when no user or assistant turn is left.
    """
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    turns: list[tuple[Literal["user", "assistant"], str]] = []
    for m in messages:
        if m.role == "system":
            continue
        if turns and turns[-1][0] == m.role:
            turns[-1] = (m.role, turns[-1][1] + "\n\n" + m.content)
        else:
            turns.append((m.role, m.content))
    if not turns:
        raise LLMError("an Anthropic request needs at least one user message")
    params: list[MessageParam] = [_turn(role, text) for role, text in turns]
    return system, params


def _turn(role: Literal["user", "assistant"], text: str) -> MessageParam:
    if role == "assistant":
        return AssistantMessageParam(role="assistant", content=text)
    return UserMessageParam(role="user", content=text)


class AnthropicLLM(SdkProvider[anthropic.AsyncAnthropic]):
    """A Claude model through Anthropic's Messages API.

    `default_max_tokens` is used when a request sets none (the API requires one).
    The Messages API as served by the installed SDK takes no sampling temperature or
    seed, so `ChatRequest.temperature` and `.seed` are not sent (resampling still varies,
    the model samples by default).
    See AnthropicJsonMode for how `ChatRequest.json_schema` is honoured.
    """

    def __init__(
        self,
        model: str,
        api_key: str,
        timeout_s: float = 300.0,
        prices: Mapping[str, tuple[float, float]] | None = None,
        *,
        base_url: str | None = None,
        default_max_tokens: int = 4096,
        context_window: int = 200_000,
        json_mode: AnthropicJsonMode = "prompt",
    ) -> None:
        resolved_url = base_url or ANTHROPIC_BASE_URL
        super().__init__(
            model,
            resolved_url,
            context_window,
            anthropic.AsyncAnthropic(
                api_key=api_key, base_url=resolved_url, timeout=timeout_s, max_retries=0
            ),
        )
        self._default_max_tokens = default_max_tokens
        self._json_mode = json_mode
        self._prices = PriceTable(prices)

    @property
    def provider(self) -> str:
        return "anthropic"

    def _prepare(
        self, request: ChatRequest
    ) -> tuple[str, list[MessageParam], OutputConfigParam | None, str]:
        """System prompt, turns, output config, and the prefill the reply continues."""
        system, turns = split_messages(request.messages)
        prefill = ""
        output_config: OutputConfigParam | None = None
        if request.json_schema is not None:
            if self._json_mode == "native":
                output_config = {"format": {"type": "json_schema", "schema": request.json_schema}}
            else:
                system = f"{system}\n\n{json_instructions(request.json_schema)}".strip()
                if self._json_mode == "prefill" and turns[-1]["role"] == "user":
                    prefill = "{"
                    turns.append(_turn("assistant", prefill))
        return system, turns, output_config, prefill

    async def _create(self, request: ChatRequest) -> tuple[AnthropicMessage, str]:
        system, turns, output_config, prefill = self._prepare(request)
        try:
            message = await self._client.messages.create(
                model=self._model,
                messages=turns,
                max_tokens=request.max_tokens or self._default_max_tokens,
                system=system or anthropic.omit,
                output_config=output_config if output_config is not None else anthropic.omit,
            )
        except anthropic.APIError as exc:
            raise ANTHROPIC_ERRORS.translate(exc, "anthropic", self._base_url) from exc
        return message, prefill

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Send one Messages API request.

        Raises LLMTimeout, ProviderUnreachable, RetryableLLMError (429/5xx/529),
        LLMUnavailable (401/403/404), LLMError (other 4xx, or no user turn),
        LLMOutputInvalid (a reply without text).
        """
        started = time.perf_counter()
        message, prefill = await self._create(request)
        latency = time.perf_counter() - started
        parts = [block.text for block in message.content if block.type == "text"]
        if not parts and not prefill:
            raise LLMOutputInvalid(f"anthropic returned no text (stop: {message.stop_reason})")
        text = prefill + "".join(parts)
        return self._prices.priced_result(
            text=text, provider=self.provider, model=self._model,
            prompt_tokens=message.usage.input_tokens,
            completion_tokens=message.usage.output_tokens,
            latency_s=latency, finish_reason=message.stop_reason,
        )
