"""build_llm: which provider each name builds, its wrapping, and clear configuration errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from atelier.domain.errors import LLMUnavailable, ModelNotInstalled
from atelier.llm.anthropic_provider import AnthropicLLM
from atelier.llm.base import LLM, ChatRequest, Message
from atelier.llm.factory import build_llm
from atelier.llm.local import LocalLLM
from atelier.llm.openai_provider import OpenAICompatibleLLM
from atelier.llm.recording import InMemoryCallRecorder, RecordingLLM
from atelier.llm.retry import RetryingLLM
from atelier.settings import Settings


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, **kw)  # type: ignore[arg-type]


def inner_of(llm: LLM) -> LLM:
    assert isinstance(llm, RetryingLLM)
    return llm.inner


def test_unknown_provider_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable, match="unknown LLM provider 'gemini'"):
        build_llm("gemini", "x", settings(tmp_path))


def test_openai_without_key_or_base_url_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable, match="API key"):
        build_llm("openai", "gpt-4o-mini", settings(tmp_path))


def test_openai_without_model_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable, match="model name"):
        build_llm("openai", None, settings(tmp_path), base_url="http://127.0.0.1:9/v1")


def test_openai_compatible_server_by_base_url(tmp_path: Path) -> None:
    s = settings(tmp_path, llm_max_retries=7, llm_timeout_s=12.0)
    llm = build_llm("openai", "qwen", s, base_url="http://127.0.0.1:9/v1")
    assert isinstance(llm, RetryingLLM)
    assert llm.max_retries == 7 and llm.timeout_s == 12.0
    inner = inner_of(llm)
    assert isinstance(inner, OpenAICompatibleLLM)
    assert inner.base_url == "http://127.0.0.1:9/v1"
    assert (llm.provider, llm.model) == ("openai", "qwen")


def test_openai_key_comes_from_settings_and_is_never_shown(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        llm_provider="openai",
        llm_model="gpt-4o-mini",
        llm_api_key=SecretStr("sk-from-settings"),
    )
    llm = build_llm("openai", None, s)
    inner = inner_of(llm)
    assert isinstance(inner, OpenAICompatibleLLM)
    assert inner.model == "gpt-4o-mini"
    assert inner.base_url == "https://api.openai.com/v1"
    assert "sk-from-settings" not in repr(inner)


def test_settings_model_applies_only_to_the_configured_provider(tmp_path: Path) -> None:
    s = settings(tmp_path, llm_provider="openai", llm_model="gpt-4o")
    with pytest.raises(LLMUnavailable, match="model name"):
        build_llm("anthropic", None, s, api_key="k")


def test_anthropic_needs_a_key(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable, match="API key"):
        build_llm("anthropic", "claude-haiku-4-5", settings(tmp_path))


def test_anthropic_is_built(tmp_path: Path) -> None:
    llm = build_llm("anthropic", "claude-haiku-4-5", settings(tmp_path), api_key="sk-ant")
    assert isinstance(inner_of(llm), AnthropicLLM)
    assert llm.provider == "anthropic" and llm.context_window == 200_000


async def test_scripted_provider_from_a_script_file(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"planner": ["the plan"]}), encoding="utf-8")
    llm = build_llm("scripted", None, settings(tmp_path), script=script)
    result = await llm.chat(
        ChatRequest(messages=[Message(role="user", content="plan")], agent="planner")
    )
    assert result.text == "the plan" and result.provider == "scripted"


def test_scripted_without_script_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable, match="script"):
        build_llm("scripted", None, settings(tmp_path))


def test_local_with_a_gguf_path_builds_without_loading(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")  # never loaded: build_llm contacts and loads nothing
    s = settings(tmp_path, local_context=1024, local_threads=1)
    llm = build_llm(" Local ", str(gguf), s)
    assert isinstance(llm, RetryingLLM) and llm.max_retries == 0
    inner = inner_of(llm)
    assert isinstance(inner, LocalLLM)
    assert inner.context_window == 1024 and inner.model == "tiny.gguf"
    assert inner.path == gguf.resolve()


def test_local_catalog_model_not_pulled(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalled):
        build_llm("local", "qwen2.5-coder-0.5b", settings(tmp_path))


def test_local_unknown_model_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable):
        build_llm("local", str(tmp_path / "missing.gguf"), settings(tmp_path))


async def test_recorder_wraps_outside_the_retries(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"default": ["a", "b"]}), encoding="utf-8")
    recorder = InMemoryCallRecorder()
    llm = build_llm("scripted", None, settings(tmp_path), script=script, recorder=recorder)
    assert isinstance(llm, RecordingLLM) and isinstance(llm.inner, RetryingLLM)
    request = ChatRequest(messages=[Message(role="user", content="x")])
    assert (await llm.chat(request)).text == "a"
    assert len(recorder) == 1
