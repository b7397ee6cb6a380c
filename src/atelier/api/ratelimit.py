"""Request rate limits per credential and per client IP, on `limits`' async storage.

Memory storage serves one process; with the Redis event bus configured (several
processes) the counters live in Redis too, so replicas share one budget.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from atelier.domain.errors import InvalidSpec, RateLimited
from atelier.observability.metrics import Metrics
from atelier.settings import Settings

_DISABLED = {"", "0", "off", "none", "unlimited"}


def _parse_limit(text: str) -> RateLimitItem | None:
    if text.strip().lower() in _DISABLED:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise InvalidSpec(f"ATELIER_RATE_LIMIT {text!r} is not a rate like '120/minute'") from exc


def _async_uri(url: str) -> str:
    return url if url.startswith("async+") else "async+" + url


def credential_fingerprint(conn: HTTPConnection) -> str | None:
    """A stable, non-reversible name for the credential a request carries, if any."""
    raw = conn.headers.get("x-api-key")
    if not raw:
        auth = conn.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        raw = token.strip() if scheme.lower() == "bearer" else None
    if not raw:
        raw = conn.query_params.get("token") if conn.scope["type"] == "websocket" else None
    if not raw:
        return None
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


class RequestRateLimiter:
    """Counts requests per credential and per IP; raises RateLimited when over."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.item = _parse_limit(settings.rate_limit)
        self.storage: Storage = (
            RedisStorage(_async_uri(settings.redis_url), implementation="redispy")
            if settings.event_bus == "redis"
            else MemoryStorage()
        )
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)
        self.metrics = metrics

    @property
    def enabled(self) -> bool:
        return self.item is not None

    async def check(self, conn: HTTPConnection) -> None:
        """Count this request against its IP and its credential (each has the full rate)."""
        if self.item is None:
            return
        scopes: list[tuple[str, str]] = []
        fingerprint = credential_fingerprint(conn)
        if fingerprint is not None:
            scopes.append(("key", fingerprint))
        scopes.append(("ip", conn.client.host if conn.client else "unknown"))
        for scope, identity in scopes:
            if not await self.strategy.hit(self.item, scope, identity):
                stats = await self.strategy.get_window_stats(self.item, scope, identity)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                if self.metrics is not None:
                    self.metrics.rate_limited.labels(scope=scope).inc()
                raise RateLimited(retry_after, f"rate limit {self.item} per {scope} exceeded")

    async def reset(self) -> None:
        await self.storage.reset()


LIMITED_PREFIXES = ("/api/", "/admin/")


class RateLimitMiddleware:
    """Applies the app's `RequestRateLimiter` to every /api and /admin request.

    A middleware rather than a route dependency: it runs before routing and costs no
    dependency resolution. The WebSocket endpoint checks the limiter itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        services = getattr(scope["app"].state, "services", None)
        if services is not None:
            try:
                await services.limiter.check(HTTPConnection(scope))
            except RateLimited as exc:
                request_id = scope.get("state", {}).get("request_id")
                body = {"error": exc.code, "detail": exc.detail}
                if request_id:
                    body["request_id"] = request_id
                response = JSONResponse(
                    body, status_code=429, headers={"Retry-After": str(exc.retry_after_s)}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
