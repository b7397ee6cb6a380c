"""A deterministic provider for tests, demos and replays.

The script is a JSON object: ``{"planner": [...], "coder": [...], "tester": [...],
"reviewer": [...], "documenter": [...], "delay_s": 0.0}``. Each role consumes its
list in order; a string is the raw reply text, anything else is sent as its JSON
encoding. A role whose list is used up repeats its last reply.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atelier.domain.errors import LLMUnavailable
from atelier.domain.usage import CallUsage
from atelier.llm.base import ChatRequest, ChatResult


def _as_text(reply: Any) -> str:
    return reply if isinstance(reply, str) else json.dumps(reply)


def _approx_tokens(text: str) -> int:
    # A stable, cheap stand-in for a tokenizer: roughly four characters per token.
    return max(1, len(text) // 4)


class ScriptedLLM:
    """Serves each agent role the next reply of its list."""

    def __init__(
        self, replies: Mapping[str, list[Any]], *, delay_s: float = 0.0, model: str = "script"
    ) -> None:
        self._replies = {role: [_as_text(r) for r in items] for role, items in replies.items()}
        self._cursor: dict[str, int] = {}
        self._lock = threading.Lock()
        self._delay_s = delay_s
        self._model = model
        self.calls: list[ChatRequest] = []

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedLLM:
        """Load a script file. Raises LLMUnavailable when it is missing or malformed."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise LLMUnavailable(f"cannot read LLM script {path}: {exc}") from exc
        return cls.from_mapping(data, model=Path(path).name)

    @classmethod
    def from_mapping(cls, data: Any, *, model: str = "script") -> ScriptedLLM:
        if not isinstance(data, dict):
            raise LLMUnavailable("LLM script must be a JSON object of role -> list of replies")
        delay = float(data.get("delay_s", 0.0) or 0.0)
        replies: dict[str, list[Any]] = {}
        for role, items in data.items():
            if role == "delay_s":
                continue
            replies[role] = items if isinstance(items, list) else [items]
        return cls(replies, delay_s=delay, model=model)

    @property
    def provider(self) -> str:
        return "scripted"

    @property
    def model(self) -> str:
        return self._model

    @property
    def context_window(self) -> int:
        return 1_000_000

    def _next_reply(self, agent: str) -> str:
        with self._lock:
            items = self._replies.get(agent) or self._replies.get("default")
            if not items:
                raise LLMUnavailable(f"the LLM script has no replies for role '{agent}'")
            index = self._cursor.get(agent, 0)
            self._cursor[agent] = index + 1
            return items[min(index, len(items) - 1)]

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.calls.append(request)
        if self._delay_s:
            await asyncio.sleep(self._delay_s)
        text = self._next_reply(request.agent)
        prompt_text = "".join(m.content for m in request.messages)
        usage = CallUsage(
            prompt_tokens=_approx_tokens(prompt_text),
            completion_tokens=_approx_tokens(text),
            latency_s=self._delay_s,
        )
        return ChatResult(
            text=text, usage=usage, provider=self.provider, model=self.model, finish_reason="stop"
        )
