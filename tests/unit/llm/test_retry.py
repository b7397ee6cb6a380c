"""RetryingLLM: which failures are retried, how long it waits, and per-attempt timeouts."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from atelier.domain.errors import LLMError, LLMOutputInvalid, LLMTimeout, LLMUnavailable
from atelier.llm.base import LLM, ChatRequest, ChatResult, Message
from atelier.llm.retry import (
    MAX_RETRY_AFTER_S,
    ProviderUnreachable,
    RetryableLLMError,
    RetryingLLM,
    error_for_status,
    parse_retry_after,
)


class FlakyLLM:
    """Fails with the given errors in order, then answers 'ok'. A failure of None hangs."""

    def __init__(self, failures: list[BaseException | None]) -> None:
        self.failures = list(failures)
        self.calls = 0

    @property
    def provider(self) -> str:
        return "fake"

    @property
    def model(self) -> str:
        return "flaky"

    @property
    def context_window(self) -> int:
        return 4096

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.calls += 1
        if self.failures:
            failure = self.failures.pop(0)
            if failure is None:
                await asyncio.sleep(3600)
            else:
                raise failure
        return ChatResult(text="ok", provider=self.provider, model=self.model)


REQUEST = ChatRequest(messages=[Message(role="user", content="hi")])


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def wrap(inner: FlakyLLM, sleeps: Sleeps, **kw: float) -> RetryingLLM:
    params: dict[str, float] = {"max_retries": 4, "base_delay_s": 1.0, "timeout_s": 5.0, **kw}
    return RetryingLLM(
        inner,
        max_retries=int(params["max_retries"]),
        base_delay_s=params["base_delay_s"],
        timeout_s=params["timeout_s"],
        max_delay_s=params.get("max_delay_s", 30.0),
        sleep=sleeps,
        rng=random.Random(1),
    )


async def test_retries_rate_limits_and_server_errors_until_success() -> None:
    inner = FlakyLLM(
        [
            RetryableLLMError("429", status_code=429),
            RetryableLLMError("502", status_code=502),
            ProviderUnreachable("refused"),
        ]
    )
    sleeps = Sleeps()
    result = await wrap(inner, sleeps).chat(REQUEST)
    assert result.text == "ok"
    assert inner.calls == 4
    assert len(sleeps.waits) == 3


async def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    inner = FlakyLLM([RetryableLLMError("x")] * 6)
    sleeps = Sleeps()
    result = await wrap(inner, sleeps, max_retries=6, base_delay_s=1.0, max_delay_s=8.0).chat(
        REQUEST
    )
    assert result.text == "ok"
    caps = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert all(0.0 <= w <= cap for w, cap in zip(sleeps.waits, caps, strict=True))
    assert len(set(sleeps.waits)) == len(sleeps.waits)  # jittered, not a fixed schedule


async def test_retry_after_is_honoured_as_a_minimum_wait() -> None:
    inner = FlakyLLM([RetryableLLMError("429", status_code=429, retry_after_s=9.5)])
    sleeps = Sleeps()
    await wrap(inner, sleeps, base_delay_s=0.01).chat(REQUEST)
    assert sleeps.waits == [9.5]


async def test_retry_after_beyond_the_limit_fails_at_once() -> None:
    inner = FlakyLLM([RetryableLLMError("429", retry_after_s=MAX_RETRY_AFTER_S + 1)])
    sleeps = Sleeps()
    with pytest.raises(RetryableLLMError):
        await wrap(inner, sleeps).chat(REQUEST)
    assert inner.calls == 1 and sleeps.waits == []


@pytest.mark.parametrize(
    "error",
    [
        LLMError("HTTP 400: bad request"),
        LLMOutputInvalid("not JSON"),
        LLMUnavailable("no key configured"),
    ],
)
async def test_final_errors_are_not_retried(error: LLMError) -> None:
    inner = FlakyLLM([error])
    sleeps = Sleeps()
    with pytest.raises(type(error)) as info:
        await wrap(inner, sleeps).chat(REQUEST)
    assert info.value is error
    assert inner.calls == 1 and sleeps.waits == []


async def test_gives_up_after_max_retries_with_the_last_error() -> None:
    errors = [RetryableLLMError(f"fail {i}") for i in range(5)]
    inner = FlakyLLM(list(errors))
    sleeps = Sleeps()
    with pytest.raises(RetryableLLMError) as info:
        await wrap(inner, sleeps, max_retries=2).chat(REQUEST)
    assert info.value is errors[2]
    assert inner.calls == 3 and len(sleeps.waits) == 2


async def test_hung_attempt_times_out_and_is_retried() -> None:
    inner = FlakyLLM([None])
    sleeps = Sleeps()
    result = await wrap(inner, sleeps, timeout_s=0.05).chat(REQUEST)
    assert result.text == "ok"
    assert inner.calls == 2


async def test_timeouts_on_every_attempt_raise_llm_timeout() -> None:
    inner = FlakyLLM([None, None])
    with pytest.raises(LLMTimeout, match=r"0\.05s"):
        await wrap(inner, Sleeps(), timeout_s=0.05, max_retries=1).chat(REQUEST)
    assert inner.calls == 2


async def test_provider_timeouts_are_retried() -> None:
    inner = FlakyLLM([LLMTimeout("read timeout")])
    result = await wrap(inner, Sleeps()).chat(REQUEST)
    assert result.text == "ok" and inner.calls == 2


async def test_real_sleep_is_used_by_default() -> None:
    inner = FlakyLLM([RetryableLLMError("x")])
    llm = RetryingLLM(inner, max_retries=1, base_delay_s=0.01)
    assert (await llm.chat(REQUEST)).text == "ok"


def test_wrapper_is_an_llm_and_forwards_identity() -> None:
    llm = RetryingLLM(FlakyLLM([]))
    assert isinstance(llm, LLM)
    assert (llm.provider, llm.model, llm.context_window) == ("fake", "flaky", 4096)


def test_negative_retries_are_rejected() -> None:
    with pytest.raises(ValueError):
        RetryingLLM(FlakyLLM([]), max_retries=-1)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "4"}) == 4.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    later = datetime.now(UTC) + timedelta(seconds=30)
    parsed = parse_retry_after({"retry-after": format_datetime(later, usegmt=True)})
    assert parsed is not None and 25 <= parsed <= 31


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (429, RetryableLLMError, True),
        (408, RetryableLLMError, True),
        (500, RetryableLLMError, True),
        (503, RetryableLLMError, True),
        (529, RetryableLLMError, True),
        (401, LLMUnavailable, False),
        (404, LLMUnavailable, False),
        (400, LLMError, False),
        (422, LLMError, False),
    ],
)
def test_error_for_status(status: int, kind: type[LLMError], retryable: bool) -> None:
    error = error_for_status("p", status, "msg", retry_after_s=2.0)
    assert isinstance(error, kind)
    assert isinstance(error, RetryableLLMError) is retryable
    assert f"HTTP {status}" in str(error)
    if retryable:
        assert isinstance(error, RetryableLLMError) and error.retry_after_s == 2.0


def test_a_reply_larger_than_its_token_limit_allows_is_refused() -> None:
    from atelier.llm.retry import MAX_CHARS_PER_TOKEN, bounded_reply

    request = ChatRequest(messages=[Message(role="user", content="hi")], max_tokens=10)
    fits = ChatResult(text="x" * 10 * MAX_CHARS_PER_TOKEN)
    assert bounded_reply(fits, request) is fits
    with pytest.raises(LLMOutputInvalid, match="too large"):
        bounded_reply(ChatResult(text="x" * (10 * MAX_CHARS_PER_TOKEN + 1)), request)
