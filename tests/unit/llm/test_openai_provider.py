"""OpenAICompatibleLLM against a real loopback HTTP server speaking chat completions."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from atelier.domain.errors import LLMError, LLMOutputInvalid, LLMTimeout, LLMUnavailable
from atelier.llm.base import LLM, ChatRequest, Message
from atelier.llm.openai_provider import OpenAICompatibleLLM
from atelier.llm.retry import ProviderUnreachable, RetryableLLMError, RetryingLLM


def completion(
    text: str | None = "hello", prompt: int = 11, completion_tokens: int = 5
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "served-model-name",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        },
    }


def error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def request(**kw: Any) -> ChatRequest:
    return ChatRequest(
        messages=[Message(role="system", content="be brief"), Message(role="user", content="hi")],
        **kw,
    )


def make_llm(url: str, **kw: Any) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM("gpt-4o-mini", f"{url}/v1", "sk-test-secret", 5.0, **kw)


async def test_chat_returns_text_usage_cost_and_latency(http_stub: Any) -> None:
    http_stub.reply(200, completion("hello there", prompt=1000, completion_tokens=2000))
    llm = make_llm(http_stub.url)
    result = await llm.chat(request(max_tokens=64, seed=7, temperature=0.3))

    assert result.text == "hello there"
    assert result.provider == "openai" and result.model == "gpt-4o-mini"
    assert result.finish_reason == "stop"
    assert result.usage.prompt_tokens == 1000 and result.usage.completion_tokens == 2000
    # gpt-4o-mini: $0.15 / 1M prompt, $0.60 / 1M completion
    assert result.usage.cost_usd == pytest.approx(0.00015 + 0.0012)
    assert result.usage.latency_s > 0
    sent = http_stub.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-secret"
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert sent.body["max_tokens"] == 64 and sent.body["seed"] == 7
    assert sent.body["temperature"] == 0.3
    assert "response_format" not in sent.body


async def test_price_overrides_apply(http_stub: Any) -> None:
    http_stub.reply(200, completion(prompt=1_000_000, completion_tokens=0))
    llm = make_llm(http_stub.url, prices={"gpt-4o-mini": (1.0, 2.0)})
    result = await llm.chat(request())
    assert result.usage.cost_usd == pytest.approx(1.0)


async def test_json_schema_is_sent_as_openai_structured_output(http_stub: Any) -> None:
    http_stub.reply(200, completion('{"a": 1}'))
    schema = {"title": "Plan Output", "type": "object", "properties": {"a": {"type": "integer"}}}
    llm = make_llm(http_stub.url, json_mode="json_schema")
    result = await llm.chat(request(json_schema=schema))
    assert result.text == '{"a": 1}'
    fmt = http_stub.requests[0].body["response_format"]
    assert fmt == {"type": "json_schema", "json_schema": {"name": "Plan_Output", "schema": schema}}


async def test_auto_json_mode_falls_back_to_json_object_when_server_rejects_json_schema(
    http_stub: Any,
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    http_stub.reply(422, {"detail": [{"msg": "Input should be 'text' or 'json_object'"}]})
    http_stub.reply(200, completion('{"a": 1}'))
    http_stub.reply(200, completion('{"a": 2}'))
    llm = make_llm(http_stub.url)  # json_mode="auto"

    first = await llm.chat(request(json_schema=schema))
    second = await llm.chat(request(json_schema=schema))

    assert (first.text, second.text) == ('{"a": 1}', '{"a": 2}')
    formats = [r.body["response_format"]["type"] for r in http_stub.requests]
    assert formats == ["json_schema", "json_object", "json_object"]  # remembered
    assert http_stub.requests[1].body["response_format"]["schema"] == schema


async def test_auto_json_mode_falls_back_on_llama_cpp_servers_500_naming_response_format(
    http_stub: Any,
) -> None:
    schema = {"type": "object"}
    http_stub.reply(
        500,
        {"error": {"message": "('body', 'response_format', 'type'): Input should be 'text'"}},
    )
    http_stub.reply(200, completion("{}"))
    result = await make_llm(http_stub.url).chat(request(json_schema=schema))
    assert result.text == "{}"
    assert http_stub.requests[1].body["response_format"] == {
        "type": "json_object",
        "schema": schema,
    }


async def test_a_plain_500_is_not_taken_for_a_json_schema_refusal(http_stub: Any) -> None:
    http_stub.reply(500, error_body("out of memory"))
    with pytest.raises(RetryableLLMError):
        await make_llm(http_stub.url).chat(request(json_schema={"type": "object"}))
    assert len(http_stub.requests) == 1


async def test_rate_limit_maps_to_retryable_error_with_retry_after(http_stub: Any) -> None:
    http_stub.reply(429, error_body("slow down"), headers={"retry-after": "3"})
    with pytest.raises(RetryableLLMError) as info:
        await make_llm(http_stub.url).chat(request())
    assert info.value.status_code == 429
    assert info.value.retry_after_s == 3.0
    assert "slow down" in str(info.value)
    assert len(http_stub.requests) == 1  # the SDK's own retries are off


async def test_server_error_maps_to_retryable_error(http_stub: Any) -> None:
    http_stub.reply(500, error_body("boom"))
    with pytest.raises(RetryableLLMError) as info:
        await make_llm(http_stub.url).chat(request())
    assert info.value.status_code == 500
    assert len(http_stub.requests) == 1


async def test_bad_request_maps_to_plain_llm_error_with_message(http_stub: Any) -> None:
    http_stub.reply(400, error_body("messages must not be empty"))
    with pytest.raises(LLMError) as info:
        await make_llm(http_stub.url).chat(request())
    assert not isinstance(info.value, RetryableLLMError)
    assert "messages must not be empty" in str(info.value)
    assert "sk-test-secret" not in str(info.value)


async def test_authentication_failure_maps_to_unavailable(http_stub: Any) -> None:
    http_stub.reply(401, error_body("invalid api key"))
    with pytest.raises(LLMUnavailable) as info:
        await make_llm(http_stub.url).chat(request())
    assert not isinstance(info.value, RetryableLLMError)


async def test_reply_without_text_is_invalid_output(http_stub: Any) -> None:
    http_stub.reply(200, completion(None))
    with pytest.raises(LLMOutputInvalid):
        await make_llm(http_stub.url).chat(request())


async def test_slow_server_maps_to_timeout(http_stub: Any) -> None:
    http_stub.reply(200, completion(), delay_s=1.5)
    llm = OpenAICompatibleLLM("m", f"{http_stub.url}/v1", None, timeout_s=0.3)
    with pytest.raises(LLMTimeout):
        await llm.chat(request())


async def test_closed_port_maps_to_provider_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = OpenAICompatibleLLM("m", f"http://127.0.0.1:{port}/v1", None, timeout_s=2.0)
    with pytest.raises(ProviderUnreachable) as info:
        await llm.chat(request())
    assert isinstance(info.value, LLMUnavailable)


async def test_retrying_wrapper_retries_5xx_then_succeeds(http_stub: Any) -> None:
    http_stub.reply(503, error_body("overloaded"))
    http_stub.reply(429, error_body("rate"), headers={"retry-after-ms": "10"})
    http_stub.reply(200, completion("finally"))
    waits: list[float] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)

    llm = RetryingLLM(make_llm(http_stub.url), max_retries=3, base_delay_s=0.01, sleep=record_sleep)
    result = await llm.chat(request())
    assert result.text == "finally"
    assert len(http_stub.requests) == 3
    assert len(waits) == 2 and waits[1] >= 0.01


async def test_retrying_wrapper_does_not_retry_4xx(http_stub: Any) -> None:
    http_stub.reply(400, error_body("bad"))
    http_stub.reply(200, completion())
    llm = RetryingLLM(make_llm(http_stub.url), max_retries=3, base_delay_s=0.0)
    with pytest.raises(LLMError):
        await llm.chat(request())
    assert len(http_stub.requests) == 1


def test_provider_satisfies_protocol_and_hides_key() -> None:
    llm = OpenAICompatibleLLM("m", "http://127.0.0.1:1/v1", "sk-very-secret")
    assert isinstance(llm, LLM)
    assert "sk-very-secret" not in repr(llm)
    assert llm.context_window == 128_000
