"""The audit log: who did what and when, append-only, visible to admins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url

from atelier.cli.keys import _create, _revoke
from atelier.cli.serve import bootstrap
from atelier.settings import Settings
from atelier.store import AuditRepo, create_engine, create_sessionmaker, session_scope

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def _audit(api: Api, query: str = "") -> dict[str, Any]:
    r = await api.client.get(f"/admin/audit{query}", headers=api.admin.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _actions(page: dict[str, Any]) -> list[str]:
    return [e["action"] for e in page["items"]]


async def test_admin_actions_are_logged_without_secrets(api: Api) -> None:
    h = api.admin.headers
    created = (await api.client.post("/admin/users", headers=h, json={"name": "carol"})).json()
    carol = created["id"]
    key = (
        await api.client.post(f"/admin/users/{carol}/keys", headers=h, json={"name": "ci"})
    ).json()
    assert (await api.client.post(f"/admin/keys/{key['id']}/revoke", headers=h)).status_code == 200
    # A second revocation changes nothing, so it logs nothing.
    assert (await api.client.post(f"/admin/keys/{key['id']}/revoke", headers=h)).status_code == 200
    await api.client.patch(f"/admin/users/{carol}", headers=h, json={"active": False})
    await api.client.patch(f"/admin/users/{carol}", headers=h, json={"role": "admin"})
    await api.client.put(f"/admin/users/{carol}/quota", headers=h, json={"daily_tokens": 9})
    template = {"id": "audited", "name": "Audited", "prompt_hint": "x"}
    assert (await api.client.post("/api/templates", headers=h, json=template)).status_code == 201
    await api.client.patch("/api/templates/audited", headers=h, json={"name": "Audited 2"})
    await api.client.delete("/api/templates/audited", headers=h)

    page = await _audit(api)
    assert _actions(page) == [
        "template.deleted",
        "template.updated",
        "template.created",
        "user.quota_set",
        "user.role_changed",
        "user.disabled",
        "key.revoked",
        "key.created",
        "key.created",
        "user.created",
    ]
    assert page["total"] == 10
    entries = {e["action"]: e for e in page["items"]}
    assert entries["key.revoked"]["target_id"] == key["id"]
    assert entries["key.revoked"]["target_label"] == f"{key['prefix']} ci"
    assert entries["user.role_changed"]["detail"] == {"before": "user", "after": "admin"}
    assert entries["user.created"]["target_label"] == "carol"
    for entry in page["items"]:
        assert entry["actor"] == "root" and entry["actor_id"] == api.admin.id
        assert entry["ip"]
    text = json.dumps(page)
    for secret in (created["api_key"], key["api_key"], api.admin.key):
        assert secret not in text
        assert secret.split("_", 2)[2] not in text  # atl_<prefix>_<secret>


async def test_filters_and_pages(api: Api) -> None:
    h = api.admin.headers
    for name in ("u1", "u2", "u3"):
        await api.client.post("/admin/users", headers=h, json={"name": name})
    assert _actions(await _audit(api, "?action=user.created")) == ["user.created"] * 3
    assert len((await _audit(api, "?action=key."))["items"]) == 3
    assert (await _audit(api, "?actor=root"))["total"] == 6
    assert (await _audit(api, f"?actor={api.admin.id}"))["total"] == 6
    assert (await _audit(api, "?actor=alice"))["total"] == 0
    page = await _audit(api, "?limit=2&offset=1")
    assert len(page["items"]) == 2 and page["total"] == 6
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    r = await api.client.get("/admin/audit", headers=h, params={"since": later})
    assert r.json()["total"] == 0
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    r = await api.client.get("/admin/audit", headers=h, params={"since": earlier})
    assert r.json()["total"] == 6
    for bad in ("limit=0", "limit=501", "offset=-1", "since=yesterday"):
        assert (await api.client.get(f"/admin/audit?{bad}", headers=h)).status_code == 422
    for edge in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        r = await api.client.get("/admin/audit", headers=h, params={"since": edge})
        assert r.status_code == 422 and r.json()["error"] == "invalid_spec", r.text


async def test_job_actions_are_logged_and_outlive_the_job(api: Api) -> None:
    h = api.admin.headers
    done = await api.finished_job(api.alice, prompt="A calculator module for the audit.")
    retry = await api.client.post(f"/admin/jobs/{done}/retry", headers=h)
    assert retry.status_code == 202
    await api.wait(retry.json()["job_id"], api.alice)
    slow = await api.create_job(api.alice, script=api.script("slow", delay_s=5))
    assert (await api.client.post(f"/admin/jobs/{slow}/cancel", headers=h)).status_code == 202
    await api.wait(slow, api.alice)
    assert (await api.client.delete(f"/admin/jobs/{done}", headers=h)).status_code == 204

    page = await _audit(api, "?action=job.")
    assert _actions(page) == ["job.deleted", "job.cancelled", "job.retried"]
    deleted, _cancelled, retried = page["items"]
    assert deleted["target_id"] == done
    assert deleted["target_label"] == "A calculator module for the audit."
    assert deleted["detail"]["owner_id"] == api.alice.id
    assert retried["detail"]["new_job_id"] == retry.json()["job_id"]
    # The job is gone; its entries stay.
    assert (await api.client.get(f"/api/jobs/{done}", headers=h)).status_code == 404
    retried_entries = (await _audit(api, "?action=job.retried"))["items"]
    assert [e["target_id"] for e in retried_entries] == [done]


async def test_failed_sign_ins_are_logged_and_bad_keys_on_requests_rate_limited(
    api: Api,
) -> None:
    bad_key = "atl_deadbeef_" + "s" * 43
    r = await api.client.post("/api/validate-key", json={"api_key": bad_key})
    assert r.status_code == 401
    r = await api.client.post("/api/validate-key", json={"api_key": "not-a-key-but-a-secret"})
    assert r.status_code == 401
    # A flood of bad keys on requests: one entry per client IP per minute.
    for _ in range(25):
        r = await api.client.get("/api/jobs", headers={"X-API-Key": bad_key})
        assert r.status_code == 401
    for _ in range(5):
        r = await api.client.get("/api/jobs", headers={"Authorization": f"Bearer {bad_key}"})
        assert r.status_code == 401
    page = await _audit(api, "?action=signin.failed")
    assert page["total"] == 3
    by_via: dict[str, list[dict[str, Any]]] = {}
    for entry in page["items"]:
        assert entry["actor"] == "anonymous" and entry["actor_id"] is None
        assert entry["ip"]
        by_via.setdefault(entry["detail"]["via"], []).append(entry)
    assert len(by_via["validate-key"]) == 2 and len(by_via["request"]) == 1
    assert by_via["request"][0]["detail"]["key_prefix"] == "atl_deadbeef"
    text = json.dumps(page)
    assert "s" * 43 not in text and "not-a-key-but-a-secret" not in text

    # Once the window has passed the next failure is written, with the count of those
    # that were not.
    api.services.sign_in_failures.window_s = 0
    await api.client.get("/api/jobs", headers={"X-API-Key": bad_key})
    latest = (await _audit(api, "?action=signin.failed&limit=1"))["items"][0]
    assert latest["detail"]["via"] == "request"
    assert latest["detail"]["unwritten_since_last"] == 29


async def test_the_log_is_admin_only_and_append_only(api: Api) -> None:
    await api.client.post("/admin/users", headers=api.admin.headers, json={"name": "x"})
    assert (await api.client.get("/admin/audit", headers=api.alice.headers)).status_code == 403
    assert (await api.client.get("/admin/audit")).status_code == 401
    entry = (await _audit(api))["items"][0]["id"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for url in ("/admin/audit", f"/admin/audit/{entry}"):
            r = await api.client.request(method, url, headers=api.admin.headers, json={})
            assert r.status_code in (404, 405), (method, url, r.status_code)
    assert (await _audit(api))["total"] == 2


async def test_cli_key_commands_are_logged_as_cli(api: Api) -> None:
    lines = await _create(api.settings, "carol", False, "laptop")
    plaintext = lines[-1]
    prefix = await _revoke(api.settings, plaintext.split("_")[1])
    page = await _audit(api, "?actor=cli")
    assert _actions(page) == ["key.revoked", "key.created", "user.created"]
    assert page["items"][0]["target_label"] == f"{prefix} laptop"
    assert plaintext not in json.dumps(page)


async def test_the_first_admin_made_by_serve_is_logged(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}",
        _env_file=None,
    )
    key = await bootstrap(settings)
    assert key is not None
    engine = create_engine(settings.effective_database_url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            rows, total = await AuditRepo(session).list()
    finally:
        await engine.dispose()
    assert total == 2
    assert [(r.actor, r.action) for r in rows] == [
        ("cli", "key.created"),
        ("cli", "user.created"),
    ]
    assert all(key not in json.dumps(r.detail) and key not in (r.target_label or "") for r in rows)
