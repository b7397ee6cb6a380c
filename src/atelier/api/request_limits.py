"""Bounds on what one request may make the server hold: body size and JSON nesting.

Pure ASGI, ahead of routing: a body over `max_body_bytes` is refused with 413 (at once
when its Content-Length says so, else as soon as the streamed bytes pass the limit),
and a JSON body nested deeper than `max_json_depth` with 422 before any parser
recurses into it. Requests without a body (every GET of the hot path) pass untouched.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENERS = frozenset(b"[{")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(body: bytes, limit: int) -> bool:
    """True when the JSON text `body` nests arrays/objects more than `limit` levels.

    Brackets inside strings do not count. Linear in the body's size, no recursion.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for char in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if char in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class BodyTooLarge(Exception):
    """The streamed body passed the limit (raised inside `receive`, caught here)."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class RequestLimitsMiddleware:
    """Refuses oversized (413) and too deeply nested JSON (422) request bodies."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await self._refuse(scope, send, 413, "payload_too_large", self._too_large())
            return
        try:
            body = await self._read_body(receive)
        except BodyTooLarge:
            await self._refuse(scope, send, 413, "payload_too_large", self._too_large())
            return
        content_type = (_header(scope, b"content-type") or b"").lower()
        if b"json" in content_type and json_too_deep(body, self.max_json_depth):
            detail = f"JSON nested deeper than {self.max_json_depth} levels"
            await self._refuse(scope, send, 422, "validation_error", detail)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"request body larger than {self.max_body_bytes} bytes"

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: nothing to answer.
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, send: Send, status: int, code: str, detail: str) -> None:
        payload: dict[str, str] = {"error": code, "detail": detail}
        request_id = scope.get("state", {}).get("request_id")
        if request_id:
            payload["request_id"] = request_id
        body = json.dumps(payload).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 413:
            # The rest of the body is not read: the connection cannot be reused.
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
