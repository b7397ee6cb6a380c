"""What one client may make the server hold: body size (413), JSON nesting (422),
open WebSockets per user (closed 4429), and how long its request headers may take
(a real ``atelier serve``: the socket is closed)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from api_harness import Api, make_settings
from served import atelier_serve

from atelier.api.app import create_app


def _assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text[:300]
    body = r.json()
    assert body["error"] == code and isinstance(body["detail"], str), body


async def test_an_oversized_body_is_413(api: Api) -> None:
    limit = api.settings.max_body_bytes
    big = {"prompt": "x" * (limit + 10)}
    r = await api.client.post("/api/jobs", headers=api.alice.headers, json=big)
    _assert_error(r, 413, "payload_too_large")
    assert str(limit) in r.json()["detail"]


async def test_an_oversized_streamed_body_without_length_is_413(api: Api) -> None:
    limit = api.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"prompt": "'
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536
        yield b'"}'

    r = await api.client.post(
        "/api/jobs",
        headers={**api.alice.headers, "Content-Type": "application/json"},
        content=chunks(),
    )
    _assert_error(r, 413, "payload_too_large")


async def test_a_lying_content_length_header_is_413_before_reading(api: Api) -> None:
    r = await api.client.post(
        "/admin/users",
        headers={**api.admin.headers, "Content-Length": str(10**12)},
        content=b'{"name": "x"}',
    )
    assert r.status_code in (400, 413), r.text


@pytest.mark.parametrize("opener", ["[", '{"a":'])
async def test_deeply_nested_json_is_422_not_a_recursion_crash(api: Api, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    depth = 100_000
    raw = '{"prompt": "ok", "options": ' + opener * depth + "1" + closer * depth + "}"
    for url, user in (("/api/jobs", api.alice), ("/admin/users", api.admin)):
        r = await api.client.post(
            url,
            content=raw.encode(),
            headers={**user.headers, "Content-Type": "application/json"},
        )
        _assert_error(r, 422, "validation_error")
        assert "nested deeper" in r.json()["detail"]
    # Unauthenticated callers get the same answer, before any parser runs.
    r = await api.client.post(
        "/api/validate-key", content=raw.encode(), headers={"Content-Type": "application/json"}
    )
    _assert_error(r, 422, "validation_error")


async def test_nesting_within_the_limit_and_brackets_in_strings_are_fine(api: Api) -> None:
    prompt = "A parser for [[[[nested]]]] lists and {{{{maps}}}} " * 50
    body = {"prompt": prompt, "options": {"script": api.script(), "roles": {"coder": {}}}}
    r = await api.client.post("/api/jobs", headers=api.alice.headers, json=body)
    assert r.status_code == 202, r.text


async def test_limits_come_from_settings(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, db_url, max_body_bytes=200, max_json_depth=3)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.post("/api/validate-key", json={"api_key": "k" * 300})
            _assert_error(r, 413, "payload_too_large")
            r = await client.post("/api/validate-key", json={"api_key": [[["k"]]]})
            _assert_error(r, 422, "validation_error")
            assert "nested deeper than 3" in r.json()["detail"]
            r = await client.post("/api/validate-key", json={"api_key": [["k"]]})
            assert r.status_code == 422 and isinstance(r.json()["detail"], list), r.text


# --- against a real server ----------------------------------------------------------
def _create_user(base: str, admin: dict[str, str], name: str) -> str:
    r = httpx.post(base + "/admin/users", headers=admin, json={"name": name}, timeout=30)
    assert r.status_code == 201, r.text
    key: str = r.json()["api_key"]
    return key


async def _closed_with(ws: websockets.ClientConnection) -> tuple[dict[str, object], int]:
    message = json.loads(await ws.recv())
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    return message, closed.value.rcvd.code


@pytest.mark.integration
async def test_too_many_websockets_per_user_are_closed_4429(tmp_path: Path) -> None:
    with atelier_serve(tmp_path, ATELIER_WS_MAX_PER_USER="3") as served:
        ws_url = f"ws://127.0.0.1:{served.port}/ws"
        alice = await asyncio.to_thread(_create_user, served.base_url, served.headers(), "alice")
        bob = await asyncio.to_thread(_create_user, served.base_url, served.headers(), "bob")
        held = []
        for _ in range(3):
            ws = await websockets.connect(f"{ws_url}?token={alice}")
            assert json.loads(await ws.recv())["type"] == "welcome"
            held.append(ws)
        async with websockets.connect(f"{ws_url}?token={alice}") as extra:
            message, code = await _closed_with(extra)
        assert code == 4429
        assert message["error"] == "too_many_connections" and "3" in str(message["detail"])
        # Another user is not affected; a closed socket frees its place.
        async with websockets.connect(f"{ws_url}?token={bob}") as other:
            assert json.loads(await other.recv())["type"] == "welcome"
        await held.pop().close()
        await asyncio.sleep(0.3)
        async with websockets.connect(f"{ws_url}?token={alice}") as again:
            assert json.loads(await again.recv())["type"] == "welcome"
        for ws in held:
            await ws.close()


def _closed_by_server(sock: socket.socket, trickle: bytes, every_s: float, limit_s: float) -> float:
    """Send `trickle` one byte every `every_s` (then nothing); seconds until the server
    closed the connection. Fails when it is still open after `limit_s`."""
    started = time.monotonic()
    sock.settimeout(every_s)
    position = 0
    while time.monotonic() - started < limit_s:
        if position < len(trickle):
            try:
                sock.send(trickle[position : position + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            position += 1
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
        if data == b"":
            return time.monotonic() - started
        raise AssertionError(f"server answered a request that never ended: {data[:200]!r}")
    raise AssertionError(f"connection still open after {limit_s}s")


@pytest.mark.integration
def test_slow_clients_are_cut_off_after_the_header_timeout(tmp_path: Path) -> None:
    """slowloris: request line and headers sent one byte at a time (each byte well
    within any idle timeout) — the server closes the socket at the header deadline."""
    headers = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 500
    with atelier_serve(tmp_path, ATELIER_HEADER_TIMEOUT_S="2") as served:
        address = ("127.0.0.1", served.port)
        with socket.create_connection(address) as trickler:
            took = _closed_by_server(trickler, headers, every_s=0.2, limit_s=15)
        assert 1.5 <= took <= 6, took
        # A connection that sends nothing at all is closed too.
        with socket.create_connection(address) as silent:
            assert _closed_by_server(silent, b"", every_s=0.2, limit_s=15) <= 6
        # After a first, complete request, a trickled second one on the same connection.
        with socket.create_connection(address) as keep_alive:
            keep_alive.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            first = b""
            while b"}" not in first:  # the whole first response: headers and JSON body
                chunk = keep_alive.recv(4096)
                assert chunk, first
                first += chunk
            assert first.startswith(b"HTTP/1.1 200"), first
            assert _closed_by_server(keep_alive, headers, every_s=0.2, limit_s=15) <= 6
        # Ordinary clients are unaffected.
        assert httpx.get(served.base_url + "/health", timeout=10).status_code == 200
