"""PATCH /admin/users/{id}: no admin disables or demotes themselves or the last admin."""

from __future__ import annotations

from api_harness import Api, add_user, api, api_postgres_url, api_sqlite_template, db_url

from atelier.store import UserRepo, session_scope

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def test_an_admin_cannot_disable_or_demote_themselves(api: Api) -> None:
    url = f"/admin/users/{api.admin.id}"
    for body, word in (({"active": False}, "disable"), ({"role": "user"}, "demote")):
        r = await api.client.patch(url, headers=api.admin.headers, json=body)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "conflict"
        assert f"cannot {word} themselves" in r.json()["detail"]
    # Still an active admin, still signed in.
    users = await api.client.get("/admin/users", headers=api.admin.headers)
    assert users.status_code == 200
    me = next(u for u in users.json() if u["id"] == api.admin.id)
    assert me["active"] is True and me["role"] == "admin"
    # A no-op change of oneself is fine.
    same = await api.client.patch(url, headers=api.admin.headers, json={"active": True})
    assert same.status_code == 200


async def test_admins_change_other_users_roles_and_state(api: Api) -> None:
    h = api.admin.headers
    promoted = await api.client.patch(
        f"/admin/users/{api.alice.id}", headers=h, json={"role": "admin"}
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert (await api.client.get("/admin/users", headers=api.alice.headers)).status_code == 200
    # Two active admins: one may demote or disable the other.
    demoted = await api.client.patch(
        f"/admin/users/{api.alice.id}", headers=h, json={"role": "user", "active": False}
    )
    assert demoted.status_code == 200
    assert demoted.json()["role"] == "user" and demoted.json()["active"] is False
    assert (await api.client.get("/api/jobs", headers=api.alice.headers)).status_code == 401


async def test_the_last_active_admin_cannot_be_disabled_or_demoted(api: Api) -> None:
    other = await add_user(api.app, "second-admin", "admin")
    # `root` was demoted meanwhile (say by another replica) but still holds a cached
    # admin principal; `second-admin` is now the only active admin.
    await api.client.get("/admin/users", headers=api.admin.headers)  # cache root
    async with session_scope(api.services.sessionmaker) as session:
        await UserRepo(session).set_role(api.admin.id, "user")
    for body in ({"active": False}, {"role": "user"}):
        r = await api.client.patch(f"/admin/users/{other.id}", headers=api.admin.headers, json=body)
        assert r.status_code == 409, r.text
        assert "last active admin" in r.json()["detail"]
    assert (await api.client.get("/admin/users", headers=other.headers)).status_code == 200


async def test_patch_validates_the_role(api: Api) -> None:
    r = await api.client.patch(
        f"/admin/users/{api.bob.id}", headers=api.admin.headers, json={"role": "root"}
    )
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"
