"""Any OpenAI-compatible chat endpoint: OpenAI, Ollama, vLLM, LM Studio, OpenRouter,
llama.cpp's server — through the official `openai` SDK with a configurable base_url.

The SDK's own retries are switched off (`max_retries=0`): RetryingLLM owns retrying,
so that backoff, Retry-After and the per-call timeout are decided in one place.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from atelier.domain.errors import LLMError, LLMOutputInvalid
from atelier.llm.base import ChatRequest, ChatResult, Message
from atelier.llm.pricing import PriceTable
from atelier.llm.sdk_provider import SdkErrors, SdkProvider

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Local servers (llama.cpp, Ollama, vLLM without --api-key) ignore the key, but the SDK
# insists on one. Passing it explicitly also stops the SDK reading OPENAI_API_KEY from
# the environment behind settings.py's back.
NO_KEY = "sk-no-key-required"

JsonMode = Literal["auto", "json_schema", "json_object"]

OPENAI_ERRORS = SdkErrors(
    timeout=openai.APITimeoutError,
    connection=openai.APIConnectionError,
    status=openai.APIStatusError,
    status_message=lambda exc: exc.message,
)


def _schema_name(schema: Mapping[str, Any], agent: str) -> str:
    raw = str(schema.get("title") or f"{agent}_output")
    return re.sub(r"[^a-zA-Z0-9_-]", "_", raw)[:64] or "output"


def _message_param(message: Message) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


def _rejects_json_schema(cause: BaseException | None) -> bool:
    """True if the server refused OpenAI's json_schema response format.

    A 400/422 is the usual refusal. llama.cpp's Python server answers a request
    validation error with a 500 whose body names the field ("response_format ...
    Input should be 'text' or 'json_object'"), so a 5xx counts when it says so.
    """
    if not isinstance(cause, openai.APIStatusError):
        return False
    if cause.status_code in (400, 422):
        return True
    return cause.status_code >= 500 and "response_format" in cause.message


class OpenAICompatibleLLM(SdkProvider[openai.AsyncOpenAI]):
    """A chat model behind an OpenAI-compatible HTTP API.

    `json_mode` picks how `ChatRequest.json_schema` is sent: "json_schema" is OpenAI's
    structured outputs (`{"type": "json_schema", "json_schema": {...}}`); "json_object"
    is `{"type": "json_object", "schema": ...}`, which llama.cpp's Python server turns
    into grammar-constrained decoding; "auto" tries json_schema and, if the server
    rejects it (see `_rejects_json_schema`), switches to json_object for the rest of this
    instance's life.
    `max_tokens_param` names the request field for the reply budget (OpenAI's newer
    models want "max_completion_tokens"; most compatible servers only know "max_tokens").
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 300.0,
        prices: Mapping[str, tuple[float, float]] | None = None,
        *,
        context_window: int = 128_000,
        json_mode: JsonMode = "auto",
        max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens",
        provider_name: str = "openai",
    ) -> None:
        resolved_url = base_url or OPENAI_BASE_URL
        super().__init__(
            model,
            resolved_url,
            context_window,
            openai.AsyncOpenAI(
                api_key=api_key or NO_KEY, base_url=resolved_url, timeout=timeout_s, max_retries=0
            ),
        )
        self._json_mode: JsonMode = json_mode
        self._max_tokens_param = max_tokens_param
        self._provider_name = provider_name
        self._prices = PriceTable(prices)

    @property
    def provider(self) -> str:
        return self._provider_name

    def _response_format(self, request: ChatRequest, mode: JsonMode) -> dict[str, Any]:
        schema = request.json_schema or {}
        if mode == "json_object":
            return {"type": "json_object", "schema": schema}
        return {
            "type": "json_schema",
            "json_schema": {"name": _schema_name(schema, request.agent), "schema": schema},
        }

    async def _create(self, request: ChatRequest, mode: JsonMode) -> ChatCompletion:
        body: dict[str, Any] = {}
        if request.max_tokens is not None:
            body[self._max_tokens_param] = request.max_tokens
        if request.seed is not None:
            body["seed"] = request.seed
        if request.json_schema is not None:
            # Sent as a raw body field: the json_object-with-schema form is not in the
            # SDK's types, and both forms then travel the same way.
            body["response_format"] = self._response_format(request, mode)
        return await self._client.chat.completions.create(
            model=self._model,
            messages=[_message_param(m) for m in request.messages],
            temperature=request.temperature,
            extra_body=body or None,
        )

    async def _create_mapped(self, request: ChatRequest, mode: JsonMode) -> ChatCompletion:
        try:
            return await self._create(request, mode)
        except openai.APIError as exc:  # e.g. a response body that is not a completion
            raise OPENAI_ERRORS.translate(exc, self._provider_name, self._base_url) from exc

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Send one chat completion request.

        Raises LLMTimeout (the HTTP call timed out), ProviderUnreachable (no connection),
        RetryableLLMError (429/5xx), LLMUnavailable (401/403/404: misconfigured),
        LLMError (other 4xx), LLMOutputInvalid (a reply without a message).
        """
        started = time.perf_counter()
        mode = self._json_mode
        try:
            completion = await self._create_mapped(request, mode)
        except LLMError as exc:
            if not (
                request.json_schema is not None
                and mode == "auto"
                and _rejects_json_schema(exc.__cause__)
            ):
                raise
            self._json_mode = mode = "json_object"
            completion = await self._create_mapped(request, mode)
        latency = time.perf_counter() - started
        if mode == "auto" and request.json_schema is not None:
            self._json_mode = "json_schema"  # the server took it; no need to probe again
        return self._result(completion, latency)

    def _result(self, completion: ChatCompletion, latency: float) -> ChatResult:
        if not completion.choices:
            raise LLMOutputInvalid(f"{self._provider_name} returned no choices")
        choice = completion.choices[0]
        text = choice.message.content
        if text is None:
            refusal = choice.message.refusal
            raise LLMOutputInvalid(
                f"{self._provider_name} returned no text"
                + (f" (refusal: {refusal})" if refusal else "")
            )
        return self._prices.priced_result(
            text=text, provider=self._provider_name, model=self._model,
            prompt_tokens=completion.usage.prompt_tokens if completion.usage else 0,
            completion_tokens=completion.usage.completion_tokens if completion.usage else 0,
            latency_s=latency, finish_reason=choice.finish_reason,
        )
