"""Gzip for text responses above a small size, with `Vary: Accept-Encoding`.

Pure ASGI and cheap on the hot path: a response whose type is not text-like, which is
already encoded, or whose `Content-Length` is below the threshold passes through
untouched. The job bodies the fast path serves never reach this layer: the fast path
sits outside it and sends their gzip form, encoded once per cached body, itself.
Only compressible bodies get `Vary: Accept-Encoding` — whether or not this client
accepts gzip — so a shared cache never hands a gzip body to a client that cannot
read it. Streamed bodies (no `Content-Length`) are compressed chunk by chunk.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_SIZE = 1024
VARY = (b"vary", b"Accept-Encoding")
_COMPRESSIBLE = (
    b"application/json",
    b"application/javascript",
    b"text/",
    b"image/svg+xml",
    b"application/xml",
)


def accepts_gzip(scope: Scope) -> bool:
    """Whether the request's `Accept-Encoding` names gzip."""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value.lower()
    return False


def gzip_body(body: bytes, level: int = 6) -> bytes:
    """`body` as one gzip member (no timestamp: the same body gives the same bytes)."""
    return gzip.compress(body, level, mtime=0)


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, minimum_size: int = MIN_SIZE, level: int = 6) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not accepts_gzip(scope):
            await self.app(scope, receive, self._vary_only(send))
            return
        start: Message | None = None
        stream: zlib._Compress | None = None
        passthrough = True

        async def send_compressed(message: Message) -> None:
            nonlocal start, stream, passthrough
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                passthrough = not self._compressible(headers)
                if passthrough:
                    await send(message)
                    return
                start = {**message, "headers": [*headers, VARY]}
                return
            if passthrough or message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if stream is None and not more:
                # The whole body at once: one gzip member, exact Content-Length.
                packed = gzip_body(body, self.level)
                await send(self._start(start, len(packed)))
                await send({"type": "http.response.body", "body": packed})
                return
            if stream is None:
                stream = zlib.compressobj(self.level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                await send(self._start(start, None))
            chunk = stream.compress(body)
            if not more:
                chunk += stream.flush()
            elif chunk:
                chunk += stream.flush(zlib.Z_SYNC_FLUSH)
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

        await self.app(scope, receive, send_compressed)

    def _vary_only(self, send: Send) -> Send:
        """`send` for a client that takes no gzip: bodies stay as they are, but those
        another client would get compressed say that they vary."""

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start" and self._compressible(
                message.get("headers", ())
            ):
                message = {**message, "headers": [*message["headers"], VARY]}
            await send(message)

        return send_with_vary

    def _compressible(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        kind = b""
        for name, value in headers:
            if name == b"content-encoding":
                return False
            if name == b"content-type":
                kind = value
            elif name == b"content-length" and int(value) < self.minimum_size:
                return False
        return kind.startswith(_COMPRESSIBLE)

    @staticmethod
    def _start(start: Message, length: int | None) -> Message:
        headers = [(n, v) for n, v in start["headers"] if n != b"content-length"]
        headers.append((b"content-encoding", b"gzip"))
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        return {**start, "headers": headers}
