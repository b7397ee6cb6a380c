"""/admin: every user's jobs (retry, cancel, delete), users and API keys."""

from __future__ import annotations

import pytest
from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def test_admin_lists_all_jobs_with_filters(api: Api) -> None:
    a = await api.finished_job(api.alice)
    b = await api.create_job(api.bob, script=api.script("slow", delay_s=5))
    h = api.admin.headers
    everything = (await api.client.get("/admin/jobs", headers=h)).json()
    assert {j["job_id"] for j in everything["items"]} == {a, b}
    bobs = (await api.client.get(f"/admin/jobs?user_id={api.bob.id}", headers=h)).json()
    assert [j["job_id"] for j in bobs["items"]] == [b]
    done = (await api.client.get("/admin/jobs?status=succeeded", headers=h)).json()
    assert [j["job_id"] for j in done["items"]] == [a]
    for query in ("status=nope", "limit=0", "offset=-3"):
        assert (await api.client.get(f"/admin/jobs?{query}", headers=h)).status_code == 422


async def test_admin_cancels_and_retries_anyones_job(api: Api) -> None:
    h = api.admin.headers
    job_id = await api.create_job(api.bob, script=api.script("slow", delay_s=1))
    r = await api.client.post(f"/admin/jobs/{job_id}/cancel", headers=h)
    assert r.status_code == 202
    assert (await api.wait(job_id, api.bob, timeout_s=30))["status"] == "cancelled"
    assert (await api.client.post(f"/admin/jobs/{job_id}/cancel", headers=h)).status_code == 409

    retry = await api.client.post(f"/admin/jobs/{job_id}/retry", headers=h)
    assert retry.status_code == 202, retry.text
    new_id = retry.json()["job_id"]
    assert new_id != job_id
    new = await api.wait(new_id, api.bob)
    assert new["user_id"] == api.bob.id
    assert new["status"] == "succeeded"
    assert new["prompt"] == "A calculator module."


async def test_retry_of_an_active_job_is_409(api: Api) -> None:
    job_id = await api.create_job(api.bob, script=api.script("slow", delay_s=5))
    r = await api.client.post(f"/admin/jobs/{job_id}/retry", headers=api.admin.headers)
    assert r.status_code == 409


async def test_admin_deletes_a_job_and_everything_of_it(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    running = await api.create_job(api.alice, script=api.script("slow", delay_s=2))
    h = api.admin.headers
    for target in (job_id, running):
        r = await api.client.delete(f"/admin/jobs/{target}", headers=h)
        assert r.status_code == 204
        for url in (
            f"/api/jobs/{target}",
            f"/api/jobs/{target}/events",
            f"/api/jobs/{target}/files",
        ):
            assert (await api.client.get(url, headers=api.alice.headers)).status_code == 404
    assert (await api.client.delete(f"/admin/jobs/{job_id}", headers=h)).status_code == 404


async def test_admin_job_routes_for_unknown_jobs_are_404_and_for_users_403(api: Api) -> None:
    job_id = await api.create_job(api.alice, script=api.script("slow", delay_s=5))
    for method, suffix in (("POST", "retry"), ("POST", "cancel")):
        r = await api.client.request(
            method, f"/admin/jobs/missing/{suffix}", headers=api.admin.headers
        )
        assert r.status_code == 404
        r = await api.client.request(
            method, f"/admin/jobs/{job_id}/{suffix}", headers=api.alice.headers
        )
        assert r.status_code == 403
        r = await api.client.request(method, f"/admin/jobs/{job_id}/{suffix}")
        assert r.status_code == 401
    assert (
        await api.client.delete(f"/admin/jobs/{job_id}", headers=api.alice.headers)
    ).status_code == 403


async def test_admin_manages_users_and_keys(api: Api) -> None:
    h = api.admin.headers
    created = await api.client.post("/admin/users", headers=h, json={"name": "carol"})
    assert created.status_code == 201, created.text
    carol = created.json()
    assert carol["role"] == "user" and carol["api_key"].startswith("atl_")
    carol_headers = {"X-API-Key": carol["api_key"]}
    assert (await api.client.get("/api/jobs", headers=carol_headers)).status_code == 200
    assert (
        await api.client.post("/admin/users", headers=h, json={"name": "carol"})
    ).status_code == 409

    names = {u["name"] for u in (await api.client.get("/admin/users", headers=h)).json()}
    assert {"root", "alice", "bob", "carol"} <= names

    key = await api.client.post(f"/admin/users/{carol['id']}/keys", headers=h, json={"name": "ci"})
    assert key.status_code == 201
    second = key.json()
    assert second["api_key"].startswith(second["prefix"] + "_")
    listed = (await api.client.get(f"/admin/users/{carol['id']}/keys", headers=h)).json()
    assert len(listed) == 2 and all("api_key" not in k for k in listed)
    all_keys = (await api.client.get(f"/admin/keys?user_id={carol['id']}", headers=h)).json()
    assert {k["id"] for k in all_keys} == {k["id"] for k in listed}

    revoked = await api.client.delete(f"/admin/keys/{second['id']}", headers=h)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (
        await api.client.get("/api/jobs", headers={"X-API-Key": second["api_key"]})
    ).status_code == 401
    by_prefix = await api.client.post(f"/admin/keys/{second['prefix']}/revoke", headers=h)
    assert by_prefix.status_code == 200  # idempotent, by prefix

    disabled = await api.client.patch(
        f"/admin/users/{carol['id']}", headers=h, json={"active": False}
    )
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert (await api.client.get("/api/jobs", headers=carol_headers)).status_code == 401


async def test_admin_creates_another_admin(api: Api) -> None:
    r = await api.client.post(
        "/admin/users", headers=api.admin.headers, json={"name": "dave", "role": "admin"}
    )
    assert r.status_code == 201
    dave = {"X-API-Key": r.json()["api_key"]}
    assert (await api.client.get("/admin/users", headers=dave)).status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("POST", "/admin/users", {}, 422),
        ("POST", "/admin/users", {"name": ""}, 422),
        ("POST", "/admin/users", {"name": "has space"}, 422),
        ("POST", "/admin/users", {"name": "x", "role": "god"}, 422),
        ("PATCH", "/admin/users/missing", {"active": False}, 404),
        ("PATCH", "/admin/users/missing", {"active": "maybe"}, 422),
        ("GET", "/admin/users/missing/keys", None, 404),
        ("POST", "/admin/users/missing/keys", {}, 404),
        ("POST", "/admin/keys/missing/revoke", None, 404),
        ("DELETE", "/admin/keys/missing", None, 404),
    ],
)
async def test_admin_bad_input_is_4xx(
    api: Api, method: str, url: str, body: object, status: int
) -> None:
    r = await api.client.request(method, url, headers=api.admin.headers, json=body)
    assert r.status_code == status, r.text
    assert "error" in r.json()


async def test_users_cannot_manage_users_or_keys(api: Api) -> None:
    h = api.alice.headers
    assert (
        await api.client.post("/admin/users", headers=h, json={"name": "mallory", "role": "admin"})
    ).status_code == 403
    assert (
        await api.client.post(f"/admin/users/{api.alice.id}/keys", headers=h, json={})
    ).status_code == 403
    assert (await api.client.get("/admin/keys", headers=h)).status_code == 403
    assert (await api.client.post("/admin/users", json={"name": "x"})).status_code == 401
