"""Token and cost accounting."""

from __future__ import annotations

from pydantic import BaseModel


class CallUsage(BaseModel):
    """What one model call cost."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0


class Usage(BaseModel):
    """Totals over many calls. Only calls actually sent to a provider count, never replays."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, call: CallUsage) -> None:
        self.calls += 1
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cost_usd = round(self.cost_usd + call.cost_usd, 8)
