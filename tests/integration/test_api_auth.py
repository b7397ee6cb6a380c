"""POST /api/validate-key, bearer tokens, roles, and rate limiting."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest
from api_harness import (
    Api,
    add_user,
    api,
    api_postgres_url,
    api_sqlite_template,
    db_url,
    make_settings,
)

from atelier.api.app import create_app

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def test_validate_key_returns_a_bearer_token_and_the_user(api: Api) -> None:
    r = await api.client.post("/api/validate-key", json={"api_key": api.alice.key})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == api.settings.jwt_ttl_s
    assert body["user"]["name"] == "alice" and body["user"]["role"] == "user"
    me = await api.client.get(
        "/api/jobs", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200


@pytest.mark.parametrize("key", ["atl_00000000_unknown", "not-a-key", "atl_deadbeef_" + "x" * 43])
async def test_unknown_keys_are_401(api: Api, key: str) -> None:
    r = await api.client.post("/api/validate-key", json={"api_key": key})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    "body", [{}, {"api_key": ""}, {"api_key": 5}, {"key": "x"}, {"api_key": "x" * 300}]
)
async def test_validate_key_bad_input_is_422(api: Api, body: dict[str, object]) -> None:
    r = await api.client.post("/api/validate-key", json=body)
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"


async def test_a_revoked_key_and_its_user_stop_working(api: Api) -> None:
    keys = (
        await api.client.get(f"/admin/users/{api.alice.id}/keys", headers=api.admin.headers)
    ).json()
    r = await api.client.post(f"/admin/keys/{keys[0]['id']}/revoke", headers=api.admin.headers)
    assert r.status_code == 200
    assert (
        await api.client.post("/api/validate-key", json={"api_key": api.alice.key})
    ).status_code == 401
    assert (await api.client.get("/api/jobs", headers=api.alice.headers)).status_code == 401


async def test_expired_and_forged_tokens_are_401(api: Api) -> None:
    secret = api.settings.jwt_secret.get_secret_value()  # type: ignore[union-attr]
    now = int(time.time())
    claims = {"sub": api.alice.id, "name": "alice", "role": "admin", "iss": "atelier"}
    expired = jwt.encode({**claims, "iat": now - 100, "exp": now - 10}, secret, "HS256")
    forged = jwt.encode(
        {**claims, "iat": now, "exp": now + 100},
        "another-secret-of-sufficient-length-0123456789",
        "HS256",
    )
    for token in (expired, forged, "garbage"):
        r = await api.client.get("/api/jobs", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
        assert r.headers["www-authenticate"] == "Bearer"


async def test_admin_routes_are_403_for_users_and_401_without_auth(api: Api) -> None:
    for url in ("/admin/jobs", "/admin/users", "/admin/keys"):
        assert (await api.client.get(url, headers=api.alice.headers)).status_code == 403
        assert (await api.client.get(url)).status_code == 401
        assert (await api.client.get(url, headers=api.admin.headers)).status_code == 200


async def test_rate_limit_per_key_answers_429_with_retry_after(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, db_url, rate_limit="3/minute")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        alice = await add_user(app, "alice")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            codes = [
                (await client.get("/api/jobs", headers={"X-API-Key": alice.key})).status_code
                for _ in range(4)
            ]
            assert codes == [200, 200, 200, 429]
            r = await client.get("/api/jobs", headers={"X-API-Key": alice.key})
            assert r.status_code == 429
            assert r.json()["error"] == "rate_limited"
            assert 1 <= int(r.headers["retry-after"]) <= 60
            # Health and metrics are never limited.
            assert (await client.get("/health")).status_code == 200
            assert "atelier_rate_limited_total" in (await client.get("/metrics")).text


async def test_rate_limit_per_ip_covers_unauthenticated_guessing(
    db_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url, rate_limit="5/minute")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            codes = [
                (
                    await client.post(
                        "/api/validate-key", json={"api_key": f"atl_0000000{i}_guess"}
                    )
                ).status_code
                for i in range(7)
            ]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]
