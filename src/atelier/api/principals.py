"""A short-lived cache of who a credential belongs to.

Authenticating costs database round trips (and, for API keys, a write recording the
key's use) on every request. A credential seen in the last few seconds is trusted
again without them. Revoking a key or disabling a user clears this process's cache
at once; other processes notice within `TTL_S`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable

import jwt

from atelier.api.singleflight import SingleFlight
from atelier.auth import Principal

TTL_S = 10.0
MAX_ENTRIES = 10_000


def _fingerprint(credential: str) -> str:
    return hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()


def _token_expiry(credential: str) -> float | None:
    """The `exp` of a JWT (already verified by whoever cached it), None for an API key."""
    if credential.count(".") != 2:
        return None
    try:
        claims = jwt.decode(credential, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


class PrincipalCache:
    """credential fingerprint → (principal, valid until)."""

    def __init__(self, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._flights: SingleFlight[Principal] = SingleFlight()

    def get(self, credential: str) -> Principal | None:
        key = _fingerprint(credential)
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, until = entry
        if time.time() >= until:
            del self._entries[key]
            return None
        return principal

    def put(self, credential: str, principal: Principal) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        until = time.time() + self.ttl_s
        expiry = _token_expiry(credential)
        if expiry is not None:
            until = min(until, expiry)
        self._entries[_fingerprint(credential)] = (principal, until)

    async def resolve(self, credential: str, load: Callable[[], Awaitable[Principal]]) -> Principal:
        """The cached principal, or `load()`'s (one load for concurrent misses), cached."""
        principal = self.get(credential)
        if principal is not None:
            return principal

        async def load_and_keep() -> Principal:
            loaded = await load()
            self.put(credential, loaded)
            return loaded

        return await self._flights.run(_fingerprint(credential), load_and_keep)

    def clear(self) -> None:
        """Forget everything (after a key was revoked or a user changed)."""
        self._entries.clear()
