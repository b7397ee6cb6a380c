"""AnthropicLLM against a real loopback HTTP server speaking the Messages API wire format."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atelier.domain.errors import LLMError, LLMOutputInvalid, LLMTimeout, LLMUnavailable
from atelier.llm.anthropic_provider import AnthropicLLM, split_messages
from atelier.llm.base import LLM, ChatRequest, Message
from atelier.llm.retry import RetryableLLMError

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def message(text: str = "hi", input_tokens: int = 12, output_tokens: int = 4) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


def request(**kw: Any) -> ChatRequest:
    return ChatRequest(
        messages=[
            Message(role="system", content="You are terse."),
            Message(role="user", content="Name a colour."),
        ],
        **kw,
    )


def make_llm(url: str, **kw: Any) -> AnthropicLLM:
    return AnthropicLLM("claude-sonnet-4-6", "sk-ant-secret", 5.0, base_url=url, **kw)


async def test_chat_splits_system_and_reports_usage_and_cost(http_stub: Any) -> None:
    http_stub.reply(200, message("Teal.", input_tokens=1_000_000, output_tokens=100_000))
    result = await make_llm(http_stub.url, default_max_tokens=321).chat(request())

    assert result.text == "Teal."
    assert result.provider == "anthropic"
    assert result.finish_reason == "end_turn"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (1_000_000, 100_000)
    assert result.usage.cost_usd == pytest.approx(3.0 + 1.5)  # sonnet-4-6: $3 / $15 per 1M
    assert result.usage.latency_s > 0
    sent = http_stub.requests[0]
    assert sent.path == "/v1/messages"
    auth = sent.headers.get("x-api-key") or sent.headers["authorization"].removeprefix("Bearer ")
    assert auth == "sk-ant-secret"
    assert "anthropic-version" in sent.headers
    assert sent.body["system"] == "You are terse."
    assert sent.body["messages"] == [{"role": "user", "content": "Name a colour."}]
    assert sent.body["max_tokens"] == 321


async def test_json_schema_goes_into_system_instructions(http_stub: Any) -> None:
    http_stub.reply(200, message('{"name": "teal"}'))
    result = await make_llm(http_stub.url).chat(request(json_schema=SCHEMA, max_tokens=50))
    assert json.loads(result.text) == {"name": "teal"}
    sent = http_stub.requests[0].body
    assert sent["system"].startswith("You are terse.")
    assert json.dumps(SCHEMA, sort_keys=True) in sent["system"]
    assert sent["max_tokens"] == 50
    assert "output_config" not in sent


async def test_prefill_mode_starts_the_reply_with_a_brace(http_stub: Any) -> None:
    http_stub.reply(200, message('"name": "teal"}'))
    result = await make_llm(http_stub.url, json_mode="prefill").chat(request(json_schema=SCHEMA))
    assert json.loads(result.text) == {"name": "teal"}
    assert http_stub.requests[0].body["messages"][-1] == {"role": "assistant", "content": "{"}


async def test_native_mode_sends_output_config(http_stub: Any) -> None:
    http_stub.reply(200, message('{"name": "teal"}'))
    await make_llm(http_stub.url, json_mode="native").chat(request(json_schema=SCHEMA))
    sent = http_stub.requests[0].body
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}


async def test_overloaded_529_is_retryable(http_stub: Any) -> None:
    http_stub.reply(529, error("overloaded_error", "Overloaded"))
    with pytest.raises(RetryableLLMError) as info:
        await make_llm(http_stub.url).chat(request())
    assert info.value.status_code == 529
    assert len(http_stub.requests) == 1  # SDK retries are off


async def test_rate_limit_is_retryable_with_retry_after(http_stub: Any) -> None:
    http_stub.reply(429, error("rate_limit_error", "Too many"), headers={"retry-after": "7"})
    with pytest.raises(RetryableLLMError) as info:
        await make_llm(http_stub.url).chat(request())
    assert info.value.retry_after_s == 7.0


async def test_invalid_request_is_final_with_the_api_message(http_stub: Any) -> None:
    http_stub.reply(400, error("invalid_request_error", "max_tokens: too large"))
    with pytest.raises(LLMError) as info:
        await make_llm(http_stub.url).chat(request())
    assert not isinstance(info.value, RetryableLLMError)
    assert "max_tokens: too large" in str(info.value)


async def test_bad_key_is_unavailable(http_stub: Any) -> None:
    http_stub.reply(401, error("authentication_error", "invalid x-api-key"))
    with pytest.raises(LLMUnavailable):
        await make_llm(http_stub.url).chat(request())


async def test_empty_content_is_invalid_output(http_stub: Any) -> None:
    http_stub.reply(200, message(""))
    with pytest.raises(LLMOutputInvalid):
        await make_llm(http_stub.url).chat(request())


async def test_slow_server_times_out(http_stub: Any) -> None:
    http_stub.reply(200, message(), delay_s=1.5)
    llm = AnthropicLLM("claude-haiku-4-5", "k", 0.3, base_url=http_stub.url)
    with pytest.raises(LLMTimeout):
        await llm.chat(request())


def test_split_messages_merges_turns_and_joins_system() -> None:
    system, turns = split_messages(
        [
            Message(role="system", content="a"),
            Message(role="user", content="u1"),
            Message(role="user", content="u2"),
            Message(role="system", content="b"),
            Message(role="assistant", content="x"),
        ]
    )
    assert system == "a\n\nb"
    assert turns == [
        {"role": "user", "content": "u1\n\nu2"},
        {"role": "assistant", "content": "x"},
    ]


def test_split_messages_without_turns_fails() -> None:
    with pytest.raises(LLMError):
        split_messages([Message(role="system", content="only")])


def test_provider_satisfies_protocol_and_hides_key() -> None:
    llm = AnthropicLLM("claude-haiku-4-5", "sk-ant-very-secret")
    assert isinstance(llm, LLM)
    assert "sk-ant-very-secret" not in repr(llm)
