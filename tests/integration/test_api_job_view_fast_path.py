"""GET /api/jobs/{id} served from the caches before routing: same answers, same
access rules, the route only on a miss."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url

from atelier.api.routers import jobs as jobs_router

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


@pytest.fixture
def route_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Job ids the GET route itself answered (the fast path bypasses it)."""
    calls: list[str] = []
    original = jobs_router._job

    async def spy(job_id: str, *args: Any) -> Any:
        calls.append(job_id)
        return await original(job_id, *args)

    monkeypatch.setattr(jobs_router, "_job", spy)
    return calls


async def test_a_cached_job_is_served_without_the_route(api: Api, route_calls: list[str]) -> None:
    job_id = await api.finished_job(api.alice)  # its polling warmed the caches …
    api.app.state.services.job_views.invalidate(job_id)  # … start cold instead
    route_calls.clear()
    first = await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)
    second = await api.client.get(f"/api/status/{job_id}", headers=api.alice.headers)

    assert first.status_code == second.status_code == 200
    assert first.content == second.content and first.json()["status"] == "succeeded"
    assert second.headers["content-type"] == "application/json"
    assert second.headers["x-request-id"]
    assert route_calls == [job_id]  # the first filled the caches; the second used them


async def test_the_fast_path_keeps_the_access_rules(api: Api, route_calls: list[str]) -> None:
    job_id = await api.finished_job(api.alice)
    assert (await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)).is_success

    # Someone else's cached job: passed on to the route, which says it does not exist.
    bob = await api.client.get(f"/api/jobs/{job_id}", headers=api.bob.headers)
    assert bob.status_code == 404 and bob.json()["error"] == "not_found"
    admin = await api.client.get(f"/api/jobs/{job_id}", headers=api.admin.headers)
    assert admin.status_code == 200
    # A credential nobody validated yet is never trusted by the fast path.
    forged = await api.client.get(f"/api/jobs/{job_id}", headers={"X-API-Key": "atl_nope"})
    assert forged.status_code == 401
    anonymous = await api.client.get(f"/api/jobs/{job_id}")
    assert anonymous.status_code == 401


async def test_a_revoked_key_stops_at_once(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    assert (await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)).is_success
    keys = await api.client.get("/admin/keys", headers=api.admin.headers)
    assert keys.status_code == 200, keys.text
    for key in keys.json():
        if key["user_id"] == api.alice.id:
            r = await api.client.post(f"/admin/keys/{key['id']}/revoke",
                                      headers=api.admin.headers)
            assert r.status_code in (200, 204), r.text
    after = await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)
    assert after.status_code == 401
