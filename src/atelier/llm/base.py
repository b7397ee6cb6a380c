"""The one protocol every model provider implements, and its request/result types."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from atelier.domain.usage import CallUsage


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """One call to a model.

    `agent` names the role asking (planner, coder …): providers ignore it except the
    scripted one, which serves each role its own list of replies.
    `json_schema`, when set, asks for a JSON reply matching it (constrained decoding
    where the provider supports it).
    """

    messages: list[Message]
    agent: str = "default"
    temperature: float = 0.0
    max_tokens: int | None = None
    json_schema: dict[str, Any] | None = None
    seed: int | None = None

    def cache_key(self, provider: str, model: str) -> str:
        """A stable hash of everything that determines the reply."""
        payload = {"provider": provider, "model": model, **self.model_dump(mode="json")}
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


class ChatResult(BaseModel):
    text: str
    usage: CallUsage = Field(default_factory=CallUsage)
    provider: str = ""
    model: str = ""
    finish_reason: str | None = None
    replayed: bool = False  # served from the call record, not paid for again


@runtime_checkable
class LLM(Protocol):
    """A chat model. Implementations raise atelier.domain.errors.LLMError subclasses."""

    @property
    def provider(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def context_window(self) -> int: ...

    async def chat(self, request: ChatRequest) -> ChatResult: ...


class DelegatingLLM(ABC):
    """Base of the wrappers that add behaviour around another LLM (retries, recording,
    metering): they describe themselves as the model they wrap, so a cache key, a log
    line or a context budget sees the real provider and model, not the wrapper."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner

    @property
    def provider(self) -> str:
        return self.inner.provider

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    @abstractmethod
    async def chat(self, request: ChatRequest) -> ChatResult: ...
