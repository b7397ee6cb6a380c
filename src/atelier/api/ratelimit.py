"""Request rate limits per credential and per client IP, as sliding-window counters.

One process counts in memory (`LocalWindows`); with the Redis event bus configured
(several processes) the counters live in Redis, through `limits`, so replicas share
one budget.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from atelier.domain.errors import InvalidSpec, RateLimited
from atelier.observability.logging import get_logger
from atelier.observability.metrics import Metrics
from atelier.settings import Settings

_DISABLED = {"", "0", "off", "none", "unlimited"}

log = get_logger("atelier.ratelimit")


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


class LocalWindows:
    """Sliding-window counters of this process: the same approximation as `limits`'
    sliding-window counter (the previous window's count, weighted by how much of it
    still overlaps, plus the current one), without its locks and awaits — checked on
    every request, this is measurably on the hot path."""

    def __init__(self, item: RateLimitItem) -> None:
        self.amount = item.amount
        self.window_s = float(item.get_expiry())
        # (scope, identity) → (window index, hits in that window, hits in the one before)
        self._counts: dict[tuple[str, str], tuple[int, int, int]] = {}
        self._swept_at = 0

    def hit(self, scope: str, identity: str) -> float | None:
        """Count one request; None when allowed, else seconds until one would be."""
        now = time.monotonic()
        index, into = divmod(now, self.window_s)
        window = int(index)
        self._sweep(window)
        key = (scope, identity)
        current, previous = 0, 0
        entry = self._counts.get(key)
        if entry is not None:
            if entry[0] == window:
                current, previous = entry[1], entry[2]
            elif entry[0] == window - 1:
                previous = entry[1]
        overlap = 1.0 - into / self.window_s
        if previous * overlap + current + 1 > self.amount:
            return self._retry_after(current, previous, into)
        self._counts[key] = (window, current + 1, previous)
        return None

    def _retry_after(self, current: int, previous: int, into: float) -> float:
        if current + 1 > self.amount or previous == 0:
            return self.window_s - into  # only the next window has room
        # The previous window's weight decays linearly; room appears when it has
        # decayed by the excess.
        excess = previous * (1.0 - into / self.window_s) + current + 1 - self.amount
        return max(0.001, excess / previous * self.window_s)

    def _sweep(self, window: int) -> None:
        # Identities idle for two windows count nothing; drop them once a window.
        if window == self._swept_at:
            return
        self._swept_at = window
        stale = [k for k, v in self._counts.items() if v[0] < window - 1]
        for key in stale:
            del self._counts[key]

    def reset(self) -> None:
        self._counts.clear()


class RequestRateLimiter:
    """Counts requests per credential and per IP; raises RateLimited when over."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.item = _parse_limit(settings.rate_limit)
        self.metrics = metrics
        self.local: LocalWindows | None = None
        self.shared: SlidingWindowCounterRateLimiter | None = None
        self.storage: Storage | None = None
        if self.item is None:
            return
        if settings.event_bus == "redis":
            import redis.exceptions

            self.storage = RedisStorage(_async_uri(settings.redis_url), implementation="redispy")
            self.shared = SlidingWindowCounterRateLimiter(self.storage)
            # Redis down or restarting: count in this process meanwhile rather than
            # answer every request with a 500.
            self.fallback = LocalWindows(self.item)
            self._storage_errors: tuple[type[BaseException], ...] = (
                OSError, redis.exceptions.RedisError)
        else:
            self.local = LocalWindows(self.item)

    @property
    def enabled(self) -> bool:
        return self.item is not None

    async def check(self, conn: HTTPConnection) -> None:
        """Count this request against its credential and its IP (each has the full rate)."""
        if self.item is None:
            return
        fingerprint = credential_fingerprint(conn)
        if fingerprint is not None:
            await self._hit("key", fingerprint)
        await self._hit("ip", conn.client.host if conn.client else "unknown")

    async def _hit(self, scope: str, identity: str) -> None:
        assert self.item is not None
        if self.local is not None:
            wait_s = self.local.hit(scope, identity)
        else:
            assert self.shared is not None
            wait_s = None
            try:
                if not await self.shared.hit(self.item, scope, identity):
                    stats = await self.shared.get_window_stats(self.item, scope, identity)
                    wait_s = stats.reset_time - time.time()
            except self._storage_errors as exc:
                log.warning("rate_limit_storage_failed", error=str(exc)[:200])
                wait_s = self.fallback.hit(scope, identity)
        if wait_s is None:
            return
        if self.metrics is not None:
            self.metrics.rate_limited.labels(scope=scope).inc()
        raise RateLimited(max(1, math.ceil(wait_s)), f"rate limit {self.item} per {scope} exceeded")

    async def reset(self) -> None:
        if self.local is not None:
            self.local.reset()
        if self.storage is not None:
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
