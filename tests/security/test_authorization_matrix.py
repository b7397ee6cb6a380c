"""Who may call what: a matrix generated from the app's route table, so a route added
tomorrow fails here until it is classified — plus tokens that must never work and API
keys that must never be seen again (responses and logs)."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import websockets
from api_harness import Api, LiveServer, User, add_user, make_settings
from fastapi import FastAPI

from atelier.api.app import create_app
from atelier.web import install_web

# --- the route table ----------------------------------------------------------------
PUBLIC = "public"  # anyone: health, metrics, docs, the key exchange, UI shells
USER = "user"  # any signed-in user, about themselves or shared data
JOB = "job"  # a job's owner (or an admin); anyone else gets 404
ADMIN = "admin"  # admins only; other users get 403

# (method, path template) → class. Every HTTP route of the app must be here.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("POST", "/api/validate-key"): PUBLIC,
    ("POST", "/api/jobs"): USER,
    ("POST", "/api/generate"): USER,
    ("GET", "/api/jobs"): USER,
    ("GET", "/api/jobs/{job_id}"): JOB,
    ("GET", "/api/status/{job_id}"): JOB,
    ("POST", "/api/jobs/{job_id}/cancel"): JOB,
    ("POST", "/api/jobs/{job_id}/revise"): JOB,
    ("GET", "/api/jobs/{job_id}/events"): JOB,
    ("GET", "/api/jobs/{job_id}/files"): JOB,
    ("GET", "/api/jobs/{job_id}/files/{path}"): JOB,
    ("GET", "/api/jobs/{job_id}/versions"): JOB,
    ("GET", "/api/jobs/{job_id}/diff"): JOB,
    ("GET", "/api/jobs/{job_id}/report"): JOB,
    ("GET", "/api/download/{job_id}"): JOB,
    ("GET", "/api/templates"): USER,
    ("GET", "/api/templates/{template_id}"): USER,
    ("POST", "/api/templates"): ADMIN,
    ("PATCH", "/api/templates/{template_id}"): ADMIN,
    ("DELETE", "/api/templates/{template_id}"): ADMIN,
    ("GET", "/api/stats"): USER,
    ("GET", "/api/stats/series"): USER,
    ("GET", "/api/models"): USER,
    ("GET", "/api/usage"): USER,
    ("GET", "/admin/jobs"): ADMIN,
    ("POST", "/admin/jobs/{job_id}/retry"): ADMIN,
    ("POST", "/admin/jobs/{job_id}/cancel"): ADMIN,
    ("DELETE", "/admin/jobs/{job_id}"): ADMIN,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("PATCH", "/admin/users/{user_id}"): ADMIN,
    ("GET", "/admin/users/{user_id}/keys"): ADMIN,
    ("POST", "/admin/users/{user_id}/keys"): ADMIN,
    ("PATCH", "/admin/users/{user_id}/quota"): ADMIN,
    ("PUT", "/admin/users/{user_id}/quota"): ADMIN,
    ("GET", "/admin/users/{user_id}/quota"): ADMIN,
    ("GET", "/admin/keys"): ADMIN,
    ("POST", "/admin/keys/{key_id}/revoke"): ADMIN,
    ("DELETE", "/admin/keys/{key_id}"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
}
WEBSOCKETS = {"/ws"}
# The UI's HTML shells and static assets carry no data (pages call the API themselves).
WEB_MODULE = "atelier.web.pages"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the template, e.g. /api/jobs/{job_id}
    endpoint_module: str


def _walk(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        children = getattr(route, "effective_candidates", None)
        if children is not None:  # FastAPI's included router (newer versions)
            yield from _walk(children())
        else:
            yield route


def operations(app: FastAPI) -> tuple[list[Operation], set[str]]:
    """Every HTTP (method, path) of the app and every WebSocket path."""
    http: list[Operation] = []
    sockets: set[str] = set()
    for route in _walk(app.routes):
        original = getattr(route, "original_route", route)
        path = getattr(route, "path_format", None) or getattr(original, "path", None)
        endpoint = getattr(original, "endpoint", None)
        module = getattr(endpoint, "__module__", "") or ""
        if type(original).__name__.endswith("WebSocketRoute"):
            sockets.add(path or original.path)
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                http.append(Operation(method, str(path), module))
    return http, sockets


def full_app(api: Api) -> FastAPI:
    if not getattr(api.app.state, "web_installed", False):
        install_web(api.app)
        api.app.state.web_installed = True
    return api.app


async def test_every_route_is_classified(api: Api) -> None:
    http, sockets = operations(full_app(api))
    assert len(http) > 30
    unclassified = [
        f"{op.method} {op.path}"
        for op in http
        if (op.method, op.path) not in ROUTES and op.endpoint_module != WEB_MODULE
    ]
    assert not unclassified, f"classify these routes in ROUTES: {unclassified}"
    assert sockets == WEBSOCKETS


# --- the matrix ---------------------------------------------------------------------
@dataclass
class Targets:
    """Concrete ids for the path parameters; destructive routes get their own target."""

    job: str
    spare_job: str
    template: str
    user: str
    key: str
    spare_key: str


def _body(method: str, path: str, api_key: str) -> dict[str, Any] | None:
    if method not in ("POST", "PATCH", "PUT"):
        return None
    if path in ("/api/jobs", "/api/generate"):
        return {"prompt": "A calculator module.", "options": {"max_tokens": 1}}
    if path.endswith("/revise"):
        return {"instructions": "add sub"}
    if path == "/api/validate-key":
        return {"api_key": api_key}
    if path == "/api/templates":
        return {"id": f"t-{uuid.uuid4().hex[:8]}", "name": "T", "prompt_hint": "x"}
    if path.startswith("/api/templates/"):
        return {"description": "patched"}
    if path == "/admin/users":
        return {"name": f"u{uuid.uuid4().hex[:10]}"}
    if path == "/admin/users/{user_id}":
        return {"active": True}
    if path.endswith("/keys"):
        return {"name": "matrix"}
    if path.endswith("/quota"):
        return {}
    return {}


def _url(op: Operation, t: Targets) -> str:
    job = t.spare_job if (op.method, op.path) == ("DELETE", "/admin/jobs/{job_id}") else t.job
    key = t.spare_key if op.method == "DELETE" else t.key
    return (
        op.path.replace("{job_id}", job)
        .replace("{path}", "calc.py")
        .replace("{template_id}", t.template)
        .replace("{user_id}", t.user)
        .replace("{key_id}", key)
        .replace("{fingerprint}", "0")
        .replace("{name}", "app.js")
    )


def _allowed(status: int) -> bool:
    """What a caller entitled to a route may see: success or a validation/state answer
    (409 conflict, 422 validation, 429 quota), never an auth refusal or a crash."""
    return status < 500 and status not in (401, 403, 404)


async def _targets(api: Api) -> Targets:
    job = await api.finished_job(api.alice)
    spare = await api.finished_job(api.alice)
    r = await api.client.post(
        "/api/templates",
        headers=api.admin.headers,
        json={"id": "matrix-t", "name": "T", "prompt_hint": "x"},
    )
    assert r.status_code == 201, r.text
    keys = []
    for _ in range(2):
        r = await api.client.post(
            f"/admin/users/{api.bob.id}/keys", headers=api.admin.headers, json={"name": "k"}
        )
        assert r.status_code == 201, r.text
        keys.append(r.json()["id"])
    return Targets(job, spare, "matrix-t", api.bob.id, keys[0], keys[1])


async def test_authorization_matrix(api: Api) -> None:
    """anonymous → 401; another user → 404 on a job, 403 on admin; owner and admin →
    allowed (2xx or a validation answer) — for every route and method."""
    http, _ = operations(full_app(api))
    t = await _targets(api)
    wrong: list[str] = []

    async def call(op: Operation, user: User | None) -> int:
        headers = user.headers if user else {}
        r = await api.client.request(
            op.method, _url(op, t), headers=headers, json=_body(op.method, op.path, api.alice.key)
        )
        if r.status_code >= 400:
            body = r.json()
            if set(body) - {"request_id"} != {"error", "detail"}:
                wrong.append(f"{op.method} {op.path}: error body {body}")
        return r.status_code

    for op in http:
        kind = ROUTES[(op.method, op.path)] if op.endpoint_module != WEB_MODULE else PUBLIC
        if op.endpoint_module == WEB_MODULE:
            r = await api.client.request(op.method, _url(op, t))
            if r.status_code not in (200, 301, 302, 307, 308, 404):
                wrong.append(f"{op.method} {op.path} (web) anonymous: {r.status_code}")
            continue
        anonymous = await call(op, None)
        if kind == PUBLIC:
            if anonymous >= 500 or anonymous in (401, 403):
                wrong.append(f"{op.method} {op.path} anonymous: {anonymous}")
            continue
        if anonymous != 401:
            wrong.append(f"{op.method} {op.path} anonymous: {anonymous} (want 401)")
        other = await call(op, api.bob)
        want_other = {JOB: 404, ADMIN: 403}.get(kind)
        if want_other is not None and other != want_other:
            wrong.append(f"{op.method} {op.path} other user: {other} (want {want_other})")
        if want_other is None and not _allowed(other):
            wrong.append(f"{op.method} {op.path} other user: {other}")
        if kind in (JOB, USER):
            owner = await call(op, api.alice)
            if not _allowed(owner):
                wrong.append(f"{op.method} {op.path} owner: {owner}")
        admin = await call(op, api.admin)
        if not _allowed(admin):
            wrong.append(f"{op.method} {op.path} admin: {admin}")
    assert not wrong, "\n".join(wrong)


async def test_websocket_matrix(live: LiveServer) -> None:
    """/ws: no or a bad token → closed 4401; another user's job → not_found, exactly as
    a job that does not exist; the owner and an admin are subscribed."""
    api = live.api
    job_id = await api.finished_job(api.alice)
    for query in ("", "?token=atl_nope", "?token=e30.e30.e30", f"?token={api.alice.key}x"):
        async with websockets.connect(live.ws_url + query) as ws:
            if not query:
                await ws.send("{}")
            message = json.loads(await ws.recv())
            assert message["type"] == "error" and message["error"] == "unauthorized"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    for user, allowed in ((api.bob, False), (api.alice, True), (api.admin, True)):
        async with websockets.connect(f"{live.ws_url}?token={user.key}") as ws:
            assert json.loads(await ws.recv())["type"] == "welcome"
            await ws.send(json.dumps({"action": "subscribe", "job_id": job_id}))
            seen = await _until(ws, ("subscribed", "error"))
            if allowed:
                assert seen["type"] == "subscribed", seen
            else:
                assert seen == {
                    "type": "error",
                    "error": "not_found",
                    "detail": f"job {job_id} not found",
                    "job_id": job_id,
                }


async def _until(ws: websockets.ClientConnection, types: tuple[str, ...]) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message["type"] in types:
            return message


# --- tokens that must never work -----------------------------------------------------
def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(user: User, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": user.id,
        "name": user.name,
        "role": "admin",
        "iat": now,
        "exp": now + 600,
        "iss": "atelier",
        "jti": uuid.uuid4().hex,
        **extra,
    }


# HS512 signed with our (HS256-sized) secret is one of the forgeries: PyJWT warns.
@pytest.mark.filterwarnings("ignore:The HMAC key")
async def test_forged_expired_wrongly_signed_and_unsigned_tokens_are_refused(api: Api) -> None:
    secret = api.settings.jwt_secret.get_secret_value()  # type: ignore[union-attr]
    r = await api.client.post("/api/validate-key", json={"api_key": api.alice.key})
    good = r.json()["access_token"]
    issuer = jwt.decode(good, options={"verify_signature": False})["iss"]
    claims = _claims(api.alice, iss=issuer)
    header, payload, signature = good.split(".")
    bad = {
        "alg=none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg=None": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(claims)}.",
        "wrong secret": jwt.encode(claims, "not-the-secret-" + "y" * 32, algorithm="HS256"),
        "HS512 with our secret": jwt.encode(claims, secret, algorithm="HS512"),
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 5}, secret, "HS256"),
        "wrong issuer": jwt.encode({**claims, "iss": "evil"}, secret, algorithm="HS256"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, "HS256"),
        "unknown user": jwt.encode({**claims, "sub": "nobody"}, secret, algorithm="HS256"),
        "payload swapped (role=admin)": f"{header}.{_b64(claims)}.{signature}",
        "signature stripped": f"{header}.{payload}.",
        "garbage": "a.b.c",
    }
    for name, token in bad.items():
        for headers in ({"Authorization": f"Bearer {token}"},):
            r = await api.client.get("/api/jobs", headers=headers)
            assert r.status_code == 401, (name, r.status_code, r.text)
            assert r.json()["error"] == "unauthorized", name
            r = await api.client.get("/admin/users", headers=headers)
            assert r.status_code == 401, (name, r.status_code)
    r = await api.client.get("/api/jobs", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 200


async def test_a_disabled_users_keys_and_tokens_are_refused_at_once(api: Api) -> None:
    carol = await add_user(api.app, "carol")
    r = await api.client.post("/api/validate-key", json={"api_key": carol.key})
    token = r.json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    # Warm every cache first: the refusal must not wait for a cache to expire.
    for headers in (carol.headers, bearer):
        assert (await api.client.get("/api/jobs", headers=headers)).status_code == 200
    r = await api.client.patch(
        f"/admin/users/{carol.id}", headers=api.admin.headers, json={"active": False}
    )
    assert r.status_code == 200, r.text
    for headers in (carol.headers, bearer, {"Authorization": f"Bearer {carol.key}"}):
        r = await api.client.get("/api/jobs", headers=headers)
        assert r.status_code == 401, (headers, r.text)
    r = await api.client.post("/api/validate-key", json={"api_key": carol.key})
    assert r.status_code == 401


async def test_api_keys_are_shown_once_and_never_logged(
    db_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Create, use and revoke keys through the API with every log line on (DEBUG): the
    plaintext appears in the one creation response and nowhere else — no list endpoint,
    no log line."""
    caplog.set_level(logging.DEBUG)
    app = create_app(make_settings(tmp_path, db_url, log_level="DEBUG"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            admin = await add_user(app, "root", "admin")
            seen, token, listings = await _key_cycle(client, admin.headers)
    for response in listings:
        assert response.status_code == 200
        for key in seen:
            assert key not in response.text
            assert key.split("_", 2)[2] not in response.text
    logged = caplog.text + "".join(capsys.readouterr())
    assert "/admin/keys" in logged, "the log capture caught no request lines"
    assert token not in logged
    for key in seen:
        assert key not in logged
        assert key.split("_", 2)[2] not in logged


async def _key_cycle(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> tuple[list[str], str, list[httpx.Response]]:
    seen: list[str] = []
    r = await client.post("/admin/users", headers=admin, json={"name": "dave"})
    assert r.status_code == 201, r.text
    dave = r.json()
    seen.append(dave["api_key"])
    r = await client.post(f"/admin/users/{dave['id']}/keys", headers=admin, json={"name": "2"})
    second = r.json()
    seen.append(second["api_key"])
    r = await client.post("/api/validate-key", json={"api_key": second["api_key"]})
    token = r.json()["access_token"]
    for key in seen:
        assert (await client.get("/api/jobs", headers={"X-API-Key": key})).status_code == 200
    await client.get("/api/jobs", headers={"Authorization": f"Bearer {token}"})
    await client.get("/api/jobs", headers={"X-API-Key": seen[0] + "x"})  # a near miss
    await client.post("/api/validate-key", json={"api_key": seen[0] + "x"})
    listings = [
        await client.get("/admin/keys", headers=admin),
        await client.get(f"/admin/users/{dave['id']}/keys", headers=admin),
        await client.get("/admin/users", headers=admin),
    ]
    r = await client.post(f"/admin/keys/{second['id']}/revoke", headers=admin)
    listings.append(r)
    assert (await client.get("/api/jobs", headers={"X-API-Key": seen[1]})).status_code == 401
    return seen, token, listings
