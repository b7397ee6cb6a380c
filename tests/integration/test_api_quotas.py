"""Per-user quotas: set by admins, refused at submission (429), enforced on running
jobs, shown to the user by GET /api/usage."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from api_harness import Api, User, api, api_postgres_url, api_sqlite_template, db_url

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def _set_quota(api: Api, user: User, **quota: Any) -> dict[str, Any]:
    r = await api.client.put(f"/admin/users/{user.id}/quota", headers=api.admin.headers, json=quota)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _usage(api: Api, user: User) -> dict[str, Any]:
    r = await api.client.get("/api/usage", headers=user.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _submit(api: Api, user: User, script: str | None = None) -> httpx.Response:
    return await api.client.post(
        "/api/jobs",
        headers=user.headers,
        json={"prompt": "A calculator module.", "options": {"script": script or api.script()}},
    )


def _refused(r: httpx.Response, words: str) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "quota_exceeded"
    assert words in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1


async def test_quotas_default_to_unlimited_and_admins_set_them(api: Api) -> None:
    usage = await _usage(api, api.alice)
    assert usage["tokens"] == {"used": 0, "limit": None, "remaining": None}
    assert usage["cost_usd"]["limit"] is None
    assert usage["concurrent_jobs"] == {"used": 0, "limit": None, "remaining": None}
    assert usage["resets_at"].startswith(usage["day"]) is False  # the next day

    url = f"/admin/users/{api.alice.id}/quota"
    assert (await api.client.get(url, headers=api.admin.headers)).json() == {
        "user_id": api.alice.id,
        "daily_tokens": None,
        "daily_cost_usd": None,
        "max_concurrent_jobs": None,
    }
    body = await _set_quota(api, api.alice, daily_tokens=1000, daily_cost_usd=2.5)
    assert body["daily_tokens"] == 1000 and body["max_concurrent_jobs"] is None
    assert (await api.client.get(url, headers=api.admin.headers)).json() == body
    usage = await _usage(api, api.alice)
    assert usage["tokens"] == {"used": 0, "limit": 1000, "remaining": 1000}
    assert usage["cost_usd"] == {"used": 0, "limit": 2.5, "remaining": 2.5}

    assert (await api.client.put(url, headers=api.alice.headers, json={})).status_code == 403
    assert (await api.client.get(url, headers=api.alice.headers)).status_code == 403
    missing = "/admin/users/missing/quota"
    assert (await api.client.put(missing, headers=api.admin.headers, json={})).status_code == 404
    for bad in ({"daily_tokens": -1}, {"daily_cost_usd": "lots"}, {"max_jobs": 1}):
        r = await api.client.put(url, headers=api.admin.headers, json=bad)
        assert r.status_code == 422, bad
    # Back to unlimited.
    await _set_quota(api, api.alice)
    assert (await _usage(api, api.alice))["tokens"]["limit"] is None


async def test_concurrent_jobs_beyond_the_quota_are_refused(api: Api) -> None:
    await _set_quota(api, api.alice, max_concurrent_jobs=1)
    slow = api.script("slow", delay_s=3)
    first = await _submit(api, api.alice, slow)
    assert first.status_code == 202
    _refused(await _submit(api, api.alice, slow), "your limit is 1 at once")
    assert (await _usage(api, api.alice))["concurrent_jobs"] == {
        "used": 1,
        "limit": 1,
        "remaining": 0,
    }
    # Others are not held to alice's quota.
    assert (await _submit(api, api.bob)).status_code == 202
    job_id = first.json()["job_id"]
    await api.client.post(f"/api/jobs/{job_id}/cancel", headers=api.alice.headers)
    await api.wait(job_id, api.alice)
    assert (await _submit(api, api.alice)).status_code == 202


async def test_simultaneous_submissions_cannot_overrun_the_concurrency_quota(api: Api) -> None:
    await _set_quota(api, api.alice, max_concurrent_jobs=2)
    slow = api.script("slow", delay_s=3)
    answers = await asyncio.gather(*(_submit(api, api.alice, slow) for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [202, 202, 429, 429, 429, 429]


async def test_a_spent_day_refuses_new_jobs_and_revisions(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    spent = (await api.wait(job_id, api.alice))["usage"]
    tokens = spent["prompt_tokens"] + spent["completion_tokens"]
    assert tokens > 0
    assert (await _usage(api, api.alice))["tokens"]["used"] == tokens

    await _set_quota(api, api.alice, daily_tokens=tokens)
    usage = await _usage(api, api.alice)
    assert usage["tokens"] == {"used": tokens, "limit": tokens, "remaining": 0}
    _refused(await _submit(api, api.alice), "daily token quota used up")
    r = await api.client.post(
        f"/api/jobs/{job_id}/revise", headers=api.alice.headers, json={"instructions": "more"}
    )
    _refused(r, "daily token quota used up")

    await _set_quota(api, api.alice, daily_cost_usd=0)
    _refused(await _submit(api, api.alice), "daily cost quota used up")
    await _set_quota(api, api.alice, daily_tokens=tokens * 10)
    assert (await _submit(api, api.alice)).status_code == 202


async def test_a_running_job_stops_where_the_days_allowance_ends(api: Api) -> None:
    # A whole job's tokens, measured on bob.
    full = (await api.wait(await api.finished_job(api.bob), api.bob))["usage"]
    full_tokens = full["prompt_tokens"] + full["completion_tokens"]
    limit = full_tokens // 2
    await _set_quota(api, api.alice, daily_tokens=limit)

    r = await _submit(api, api.alice)
    assert r.status_code == 202
    body = await api.wait(r.json()["job_id"], api.alice)
    # Stopped with what it has: the files written so far are version 1, untested.
    assert body["status"] == "succeeded" and len(body["versions"]) == 1
    assert body["verdict"] == "untested"
    reason = body["verdict_detail"]["reason"]
    assert "stopped early by your daily quota: token budget exhausted" in reason
    used = body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    assert limit <= used < full_tokens
    usage = await _usage(api, api.alice)
    assert usage["tokens"]["used"] == used and usage["tokens"]["remaining"] == 0
    _refused(await _submit(api, api.alice), "daily token quota used up")
