"""Pure ASGI middleware: request id, log context, access log and latency metrics.

Pure ASGI (not BaseHTTPMiddleware) keeps the per-request overhead small and lets
the route template — set in the scope by the router — label the latency histogram.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier.observability.logging import get_logger
from atelier.observability.metrics import Metrics

log = get_logger("atelier.http")

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Probes and scrapes are not worth a log line each.
_QUIET_PATHS = frozenset({"/health", "/metrics"})


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            return text if _SAFE_REQUEST_ID.match(text) else None
    return None


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


async def _refuse_nul(scope: Scope, send: Send, request_id: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": "NUL in URL"})
        return
    body = json.dumps(
        {
            "error": "validation_error",
            "detail": "NUL characters are not allowed in the URL",
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (REQUEST_ID_HEADER, request_id.encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def route_template(scope: Scope) -> str:
    """The path template of the matched route (`/api/jobs/{job_id}`), or "unmatched"."""
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    """Gives every request an id (echoed in `X-Request-ID`), binds it for logging,
    and records latency by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        # 32 random hex digits, like uuid4().hex, without building a UUID object.
        request_id = _incoming_request_id(scope) or secrets.token_hex(16)
        if _has_nul(scope):
            # No database stores a NUL character; refuse it here, once, for every route.
            await _refuse_nul(scope, send, request_id)
            return
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500 if scope["type"] == "http" else 101

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            if scope["type"] == "http":
                route = route_template(scope)
                method = scope.get("method", "GET")
                self.metrics.http_duration.labels(method, route, str(status)).observe(elapsed)
                if scope.get("path") not in _QUIET_PATHS:
                    log.info(
                        "request",
                        method=method,
                        path=scope.get("path"),
                        route=route,
                        status=status,
                        duration_ms=round(elapsed * 1000, 2),
                    )
            structlog.contextvars.clear_contextvars()
