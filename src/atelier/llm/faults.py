"""A provider wrapper that injects the faults real model servers show, for chaos runs.

`FaultyLLM` sits *under* the retries (between `RetryingLLM` and the real provider),
where a real server's failures arrive: transport faults are raised as the errors the
providers raise, so the retry policy meets them exactly as in production; content
faults (empty, garbage, invalid JSON, endless output) are returned as paid replies,
so the agents' validation and repair meet them too.

Tests build it directly (a fixed `schedule`, or a seeded `rate`); a chaos run of the
service selects it with `ATELIER_LLM_FAULT_RATE` (and `ATELIER_LLM_FAULT_KINDS`,
`ATELIER_LLM_FAULT_SEED`), see `llm.factory.build_llm`.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from enum import StrEnum

from atelier.domain.usage import CallUsage
from atelier.llm.base import LLM, ChatRequest, ChatResult, DelegatingLLM
from atelier.llm.retry import ProviderUnreachable, RetryableLLMError


class Fault(StrEnum):
    """One kind of misbehaviour of a model server."""

    TIMEOUT = "timeout"  # no answer at all: hangs until the caller's timeout cancels it
    RATE_LIMIT = "rate_limit"  # HTTP 429 with Retry-After
    SERVER_ERROR = "server_error"  # HTTP 500
    CONNECTION_RESET = "connection_reset"  # the connection dropped mid-request
    EMPTY = "empty"  # 200 with an empty reply
    GARBAGE = "garbage"  # 200 with text that is neither code nor JSON
    INVALID_JSON = "invalid_json"  # 200 with JSON cut off in the middle
    ENDLESS = "endless"  # output that never ends, cut at the token limit ("length")


TRANSPORT_FAULTS = frozenset(
    {Fault.TIMEOUT, Fault.RATE_LIMIT, Fault.SERVER_ERROR, Fault.CONNECTION_RESET}
)
CONTENT_FAULTS = frozenset(set(Fault) - TRANSPORT_FAULTS)

GARBAGE_TEXT = "\x00\ufffd lorem ipsum }{ <|im_end|> ```` ]]>\x1b[31m"
INVALID_JSON_TEXT = '{"name": calc, "files": [path: ]]}} {{'
ENDLESS_CHUNK = "and then the model went on "


def parse_faults(names: Iterable[str]) -> tuple[Fault, ...]:
    """The faults named (e.g. ``["timeout", "rate_limit"]``); none named means all of them.

    Raises ValueError naming the unknown ones.
    """
    wanted = [n.strip().lower() for n in names if n.strip()]
    unknown = [n for n in wanted if n not in Fault._value2member_map_]
    if unknown:
        known = ", ".join(f.value for f in Fault)
        raise ValueError(f"unknown LLM fault(s) {', '.join(unknown)}; known: {known}")
    return tuple(Fault(n) for n in wanted) if wanted else tuple(Fault)


class FaultyLLM(DelegatingLLM):
    """Fails some calls of `inner` on purpose; the others go through unchanged.

    Which calls fail: the next entry of `schedule` while it lasts (None = no fault),
    then each call with probability `rate`, the fault drawn from `faults` by a
    generator seeded with `seed` (a chaos run is reproducible from its seed).
    `retry_after_s` is the Retry-After a 429 carries; `hang_s` how long a timeout
    hangs (None: until cancelled — put a timeout around it, as `RetryingLLM` does).

    `injected` counts the faults served, `delivered` the calls `inner` answered.
    """

    def __init__(
        self,
        inner: LLM,
        *,
        rate: float = 0.0,
        faults: Sequence[Fault] = tuple(Fault),
        seed: int | None = None,
        schedule: Sequence[Fault | None] = (),
        retry_after_s: float = 0.0,
        hang_s: float | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if rate and not faults:
            raise ValueError("a fault rate needs at least one fault kind")
        super().__init__(inner)
        self.rate = rate
        self.faults = tuple(faults)
        self.retry_after_s = retry_after_s
        self.hang_s = hang_s
        self._schedule = list(schedule)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: Counter[Fault] = Counter()
        self.delivered = 0

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self._schedule:
                return self._schedule.pop(0)
            if self.rate and self._rng.random() < self.rate:
                return self._rng.choice(self.faults)
            return None

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Answer as `inner` does, or with the fault drawn for this call.

        Raises RetryableLLMError (429 with `retry_after_s`, 500), ProviderUnreachable
        (reset), hangs (timeout), or returns a broken reply (content faults).
        """
        fault = self._next_fault()
        if fault is None:
            result = await self.inner.chat(request)
            self.delivered += 1
            return result
        self.injected[fault] += 1
        if fault is Fault.TIMEOUT:
            if self.hang_s is None:
                await asyncio.Event().wait()  # forever, until the caller's timeout
            await asyncio.sleep(self.hang_s or 0.0)
            raise RetryableLLMError(f"{self.provider} hung for {self.hang_s}s (injected)",
                                    status_code=504)
        if fault is Fault.RATE_LIMIT:
            raise RetryableLLMError(
                f"{self.provider} answered HTTP 429: rate limited (injected)",
                status_code=429,
                retry_after_s=self.retry_after_s,
            )
        if fault is Fault.SERVER_ERROR:
            raise RetryableLLMError(
                f"{self.provider} answered HTTP 500: internal error (injected)", status_code=500
            )
        if fault is Fault.CONNECTION_RESET:
            raise ProviderUnreachable(
                f"cannot reach {self.provider}: connection reset by peer (injected)"
            )
        return self._broken_reply(fault, request)

    def _broken_reply(self, fault: Fault, request: ChatRequest) -> ChatResult:
        finish = "stop"
        if fault is Fault.EMPTY:
            text = ""
        elif fault is Fault.GARBAGE:
            text = GARBAGE_TEXT
        elif fault is Fault.INVALID_JSON:
            text = INVALID_JSON_TEXT
        else:  # ENDLESS: what a runaway generation leaves once the token limit cuts it
            limit = request.max_tokens or 2048
            text = (ENDLESS_CHUNK * (limit * 4 // len(ENDLESS_CHUNK) + 1))[: limit * 4]
            finish = "length"
        prompt = sum(len(m.content) for m in request.messages) // 4
        usage = CallUsage(prompt_tokens=max(1, prompt), completion_tokens=len(text) // 4)
        self.delivered += 1
        return ChatResult(
            text=text, usage=usage, provider=self.provider, model=self.model, finish_reason=finish
        )
