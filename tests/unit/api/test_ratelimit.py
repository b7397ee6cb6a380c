"""Rate limiting per credential and per IP."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from atelier.api.ratelimit import RequestRateLimiter, credential_fingerprint
from atelier.domain.errors import InvalidSpec, RateLimited
from atelier.settings import Settings


def request(headers: dict[str, str] | None = None, ip: str = "10.0.0.1") -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/api/jobs",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": (ip, 1234),
    }
    return Request(scope)


def limiter(rate: str) -> RequestRateLimiter:
    return RequestRateLimiter(Settings(_env_file=None, rate_limit=rate))  # type: ignore[call-arg]


def test_fingerprints_hide_the_credential_and_tell_keys_apart() -> None:
    a = credential_fingerprint(request({"X-API-Key": "atl_1_secret"}))
    b = credential_fingerprint(request({"Authorization": "Bearer tok"}))
    assert a and b and a != b
    assert "secret" not in a
    assert credential_fingerprint(request()) is None


async def test_each_key_has_its_own_budget() -> None:
    rl = limiter("2/minute")
    for _ in range(2):
        await rl.check(request({"X-API-Key": "k1"}, ip="1.1.1.1"))
    with pytest.raises(RateLimited) as exc:
        await rl.check(request({"X-API-Key": "k1"}, ip="2.2.2.2"))
    assert 1 <= exc.value.retry_after_s <= 60
    await rl.check(request({"X-API-Key": "k2"}, ip="3.3.3.3"))


async def test_an_ip_is_limited_whatever_credentials_it_sends() -> None:
    rl = limiter("3/minute")
    for i in range(3):
        await rl.check(request({"X-API-Key": f"guess{i}"}, ip="6.6.6.6"))
    with pytest.raises(RateLimited):
        await rl.check(request({"X-API-Key": "guess9"}, ip="6.6.6.6"))


async def test_limits_can_be_switched_off() -> None:
    rl = limiter("off")
    assert not rl.enabled
    for _ in range(100):
        await rl.check(request())


def test_a_malformed_rate_is_a_clear_error() -> None:
    with pytest.raises(InvalidSpec):
        limiter("lots")


def test_local_windows_weigh_the_previous_window_and_recover(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from limits import parse

    from atelier.api import ratelimit

    clock = [600.0]  # the start of a 60 s window
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    windows = ratelimit.LocalWindows(parse("10/minute"))
    assert all(windows.hit("ip", "a") is None for _ in range(10))
    wait = windows.hit("ip", "a")
    assert wait is not None and 59 <= wait <= 60  # only the next window has room
    assert windows.hit("ip", "b") is None  # another identity has its own budget
    clock[0] = 690.0  # half-way into the next window: 10 * 0.5 still weighs
    assert all(windows.hit("ip", "a") is None for _ in range(5))
    wait = windows.hit("ip", "a")
    assert wait is not None and 0 < wait <= 30
    clock[0] += wait + 0.01
    assert windows.hit("ip", "a") is None
    clock[0] = 900.0  # two idle windows later everything is forgotten
    assert windows.hit("ip", "c") is None and ("ip", "a") not in windows._counts


async def test_with_redis_down_requests_are_counted_in_the_process() -> None:
    # Nothing listens on port 9: every Redis call fails at once.
    settings = Settings(_env_file=None, rate_limit="2/minute", event_bus="redis",  # type: ignore[call-arg]
                        redis_url="redis://127.0.0.1:9/0")
    rl = RequestRateLimiter(settings)
    for _ in range(2):
        await rl.check(request({"X-API-Key": "k1"}, ip="1.1.1.1"))
    with pytest.raises(RateLimited):
        await rl.check(request({"X-API-Key": "k1"}, ip="1.1.1.1"))
