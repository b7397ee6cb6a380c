"""Retrying a model call: per-attempt timeouts and exponential backoff with full jitter.

Providers raise `RetryableLLMError` (rate limits, 5xx) or `ProviderUnreachable`
(connection failures) for failures worth another try, and `LLMTimeout` for a call that
ran out of time. Everything else (bad requests, authentication, invalid output) is
final: retrying it would only pay for the same failure again.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from atelier.domain.errors import LLMError, LLMOutputInvalid, LLMTimeout, LLMUnavailable
from atelier.llm.base import LLM, ChatRequest, ChatResult, DelegatingLLM

# A Retry-After longer than this is not waited out: the call fails instead, so that a
# provider asking for an hour's pause does not hold a job silently.
MAX_RETRY_AFTER_S = 120.0


class RetryableLLMError(LLMError):
    """The provider failed in a way that may pass on a later try (HTTP 429, 5xx).

    `retry_after_s` is the provider's own Retry-After hint, when it gave one.
    """

    code = "llm_retryable"

    def __init__(
        self,
        detail: Any = None,
        *,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.retry_after_s = retry_after_s
        super().__init__(detail)


class ProviderUnreachable(LLMUnavailable, RetryableLLMError):
    """The provider could not be reached (connection refused, reset, DNS failure)."""


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait according to `retry-after-ms` or `Retry-After` (seconds or a date).

    Returns None when neither header is present or parseable.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# Statuses worth another try: request timeout, conflict (a lock on the provider's side),
# rate limit, and every server error (Anthropic's 529 "overloaded" included).
RETRYABLE_STATUSES = frozenset({408, 409, 429})


def error_for_status(
    provider: str, status_code: int, message: str, *, retry_after_s: float | None = None
) -> LLMError:
    """The LLMError for an HTTP error status from a provider.

    429/408/409/5xx → RetryableLLMError; 401/403/404 → LLMUnavailable (a wrong key,
    account or model name: configuration, not chance); any other 4xx → LLMError.
    """
    detail = f"{provider} answered HTTP {status_code}: {message}"
    if status_code in RETRYABLE_STATUSES or status_code >= 500:
        return RetryableLLMError(detail, status_code=status_code, retry_after_s=retry_after_s)
    if status_code in (401, 403, 404):
        return LLMUnavailable(detail)
    return LLMError(detail)


# A token is a few characters; a reply longer than this many per token asked for did
# not come from a model that honoured max_tokens (a broken or hostile server), and
# would otherwise become a generated file of any size.
MAX_CHARS_PER_TOKEN = 32
MAX_REPLY_CHARS = 2_000_000  # when the request sets no max_tokens


def bounded_reply(result: ChatResult, request: ChatRequest) -> ChatResult:
    """`result`, unless its text is longer than `request.max_tokens` tokens can be.

    Raises LLMOutputInvalid (not retried) for a reply over the bound.
    """
    limit = (
        request.max_tokens * MAX_CHARS_PER_TOKEN if request.max_tokens else MAX_REPLY_CHARS
    )
    if len(result.text) > limit:
        raise LLMOutputInvalid(
            f"the model's reply is too large: {len(result.text)} characters for at most "
            f"{request.max_tokens or 'unlimited'} tokens (limit {limit} characters)"
        )
    return result


def is_retryable(exc: LLMError) -> bool:
    """True for the failures RetryingLLM tries again: timeouts, rate limits, 5xx, unreachable."""
    return isinstance(exc, RetryableLLMError | LLMTimeout)


class RetryingLLM(DelegatingLLM):
    """Wraps an LLM with a per-attempt timeout and exponential backoff with full jitter.

    An attempt longer than `timeout_s` is cancelled and counts as an `LLMTimeout`.
    Retryable failures (see `is_retryable`) are tried again up to `max_retries` times,
    waiting `uniform(0, min(max_delay_s, base_delay_s * 2**attempt))`, or the provider's
    Retry-After if that is longer. When the retries are spent the last error is raised;
    non-retryable errors are raised at once.
    """

    def __init__(
        self,
        inner: LLM,
        *,
        max_retries: int = 4,
        base_delay_s: float = 0.5,
        timeout_s: float | None = 300.0,
        max_delay_s: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        super().__init__(inner)
        self.max_retries = max_retries
        self.base_delay_s = base_delay_s
        self.timeout_s = timeout_s
        self.max_delay_s = max_delay_s
        self._sleep = sleep
        self._rng = rng or random.Random()

    def backoff_s(self, attempt: int, retry_after_s: float | None = None) -> float:
        """The wait before retry number `attempt + 1` (attempt counts from 0)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        delay = self._rng.uniform(0.0, ceiling)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)
        return delay

    async def _attempt(self, request: ChatRequest) -> ChatResult:
        if self.timeout_s is None:
            return await self.inner.chat(request)
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self.inner.chat(request)
        except TimeoutError as exc:
            raise LLMTimeout(
                f"{self.provider}/{self.model} did not answer within {self.timeout_s:g}s"
            ) from exc

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Call the inner model, retrying transient failures.

        Raises the inner model's LLMError when it is not retryable, or the last one once
        `max_retries` retries are spent or the provider asks to wait longer than
        MAX_RETRY_AFTER_S.
        """
        attempt = 0
        while True:
            try:
                return bounded_reply(await self._attempt(request), request)
            except LLMError as exc:
                if not is_retryable(exc) or attempt >= self.max_retries:
                    raise
                retry_after = exc.retry_after_s if isinstance(exc, RetryableLLMError) else None
                if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
                    raise
                delay = self.backoff_s(attempt, retry_after)
            await self._sleep(delay)
            attempt += 1
