"""The principal and job-view caches: expiry, invalidation, races."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import jwt

from atelier.api.job_views import JobViewCache
from atelier.api.principals import PrincipalCache
from atelier.api.schemas import JobOut, Links, TestsOut, UsageOut
from atelier.auth import Principal

ALICE = Principal(user_id="u1", name="alice", role="user")


def test_a_cached_credential_is_served_until_its_ttl() -> None:
    cache = PrincipalCache(ttl_s=0.05)
    assert cache.get("atl_k") is None
    cache.put("atl_k", ALICE)
    assert cache.get("atl_k") == ALICE
    time.sleep(0.06)
    assert cache.get("atl_k") is None


def test_a_jwt_is_never_cached_past_its_expiry() -> None:
    token = jwt.encode({"sub": "u1", "exp": int(time.time()) - 1}, "k" * 32, "HS256")
    cache = PrincipalCache(ttl_s=60)
    cache.put(token, ALICE)
    assert cache.get(token) is None


def test_clear_forgets_everyone() -> None:
    cache = PrincipalCache()
    cache.put("a", ALICE)
    cache.clear()
    assert cache.get("a") is None


def body(status: str = "running") -> JobOut:
    now = datetime.now(UTC)
    links = Links(self="", status="", events="", files="", download="", websocket="")
    return JobOut(
        job_id="j",
        user_id="u1",
        status=status,
        progress=0.0,  # type: ignore[arg-type]
        current_step=None,
        steps={},
        tests=TestsOut(),
        usage=UsageOut(),
        error=None,
        prompt="p",
        created_at=now,
        links=links,
    )


def test_job_views_are_invalidated_by_changes() -> None:
    cache = JobViewCache(ttl_s=60)
    cache.put("j", body(), cache.generation("j"))
    assert cache.get("j") is not None
    cache.invalidate("j")
    assert cache.get("j") is None


def test_a_read_that_raced_with_a_change_is_not_cached() -> None:
    cache = JobViewCache(ttl_s=60)
    generation = cache.generation("j")  # a request starts reading the database …
    cache.invalidate("j")  # … the runner commits a change meanwhile …
    cache.put("j", body("running"), generation)  # … the older read must not stick
    assert cache.get("j") is None


def test_job_views_expire() -> None:
    cache = JobViewCache(ttl_s=0.05)
    cache.put("j", body(), cache.generation("j"))
    time.sleep(0.06)
    assert cache.get("j") is None


def test_expired_job_views_are_dropped_when_the_next_is_stored() -> None:
    # A soak polls each job while it runs, then never again: without the sweep every
    # finished job's body (and its gzip copy) stayed until MAX_ENTRIES jobs later.
    cache = JobViewCache(ttl_s=0.05)
    for n in range(200):
        cache.put(f"j{n}", body(), cache.generation(f"j{n}"))
    assert len(cache) == 200
    time.sleep(0.06)
    cache.put("last", body(), cache.generation("last"))
    assert len(cache) == 1


def test_a_refreshed_job_view_is_not_dropped_with_older_ones() -> None:
    cache = JobViewCache(ttl_s=0.2)
    cache.put("a", body(), cache.generation("a"))
    cache.put("b", body(), cache.generation("b"))
    time.sleep(0.12)
    cache.put("a", body(), cache.generation("a"))  # "a" now expires after "b"
    time.sleep(0.12)
    cache.put("c", body(), cache.generation("c"))  # "b" expired, "a" not yet
    assert cache.get("b") is None
    assert cache.get("a") is not None


def test_reading_unknown_jobs_adds_no_generation() -> None:
    cache = JobViewCache(ttl_s=60)
    for n in range(100):
        cache.generation(f"nojob{n}")
    assert len(cache._generation) == 0
