"""No input produces a 500: NUL characters, huge numbers, non-finite floats, odd ids,
oversized and malformed bodies — on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]

HUGE = str(10**30)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/jobs/%00"),
        ("GET", "/api/jobs/abc%00def/events"),
        ("GET", "/api/jobs?status=queued%00"),
        ("GET", "/api/templates/%00"),
        ("GET", "/api/templates?language=py%00"),
        ("GET", "/admin/jobs?user_id=%00"),
        ("PATCH", "/admin/users/%00"),
        ("POST", "/admin/keys/%00/revoke"),
        ("GET", f"/api/jobs?offset={HUGE}"),
        ("GET", "/api/jobs/x/events?since=" + HUGE),
        ("GET", "/api/jobs/x/files?version=" + HUGE),
        ("GET", f"/api/jobs/x/diff?from={HUGE}&to=1"),
        ("GET", "/api/download/x?version=" + HUGE),
        ("GET", "/api/jobs/" + "x" * 5000),
        ("GET", "/api/jobs/%F0%9F%92%A9"),
        ("GET", "/api/jobs/x/files/%F0%9F%92%A9.py"),
        ("GET", "/api/templates/" + "y" * 500),
        ("POST", "/admin/keys/" + "z" * 500 + "/revoke"),
    ],
)
async def test_hostile_urls_are_4xx(api: Api, method: str, url: str) -> None:
    r = await api.client.request(method, url, headers=api.admin.headers, json={"active": True})
    assert 400 <= r.status_code < 500, (url, r.status_code, r.text)
    assert "error" in r.json()


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/jobs", {"prompt": "a\u0000b"}),
        ("/api/jobs", {"prompt": "ok", "language": "py\u0000"}),
        ("/api/jobs", {"prompt": "ok", "options": {"model": "m\u0000"}}),
        ("/api/jobs", {"prompt": "ok", "options": {"roles": {"coder": {"model": "\u0000"}}}}),
        ("/api/validate-key", {"api_key": "atl_12345678_\u0000"}),
        ("/api/templates", {"id": "t1", "name": "n", "prompt_hint": "\u0000"}),
        ("/admin/users", {"name": "a\u0000"}),
    ],
)
async def test_nul_characters_in_bodies_are_422(api: Api, url: str, body: object) -> None:
    r = await api.client.post(url, headers=api.admin.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "validation_error"


@pytest.mark.parametrize("number", ["Infinity", "NaN", "-Infinity", "1e400"])
async def test_non_finite_numbers_are_422(api: Api, number: str) -> None:
    options = f'{{"max_cost_usd": {number}, "max_wall_time_s": {number}}}'
    raw = '{"prompt": "ok", "options": ' + options + "}"
    r = await api.client.post(
        "/api/jobs",
        content=raw.encode(),
        headers={**api.alice.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text


async def test_huge_numbers_in_bodies_are_refused_or_stored(api: Api) -> None:
    r = await api.client.post(
        "/api/jobs",
        headers=api.alice.headers,
        json={"prompt": "ok", "options": {"max_tokens": 10**30, "script": api.script()}},
    )
    assert r.status_code in (202, 422), r.text
    if r.status_code == 202:
        job = await api.wait(r.json()["job_id"], api.alice)
        assert job["status"] == "succeeded"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b'"prompt"', "application/json"),
        (b"prompt=x", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/json"),
        (b'{"prompt": "unterminated', "application/json"),
        (b"[" * 5000 + b"]" * 5000, "application/json"),
    ],
)
async def test_malformed_bodies_are_422(api: Api, content: bytes, content_type: str) -> None:
    r = await api.client.post(
        "/api/jobs", content=content, headers={**api.alice.headers, "Content-Type": content_type}
    )
    assert 400 <= r.status_code < 500, r.text


async def test_unicode_survives_the_round_trip(api: Api) -> None:
    prompt = 'Ein Rechner — 计算器 🧮 with \\ and " quotes'
    r = await api.client.post(
        "/api/jobs",
        headers=api.alice.headers,
        json={"prompt": prompt, "options": {"script": api.script()}},
    )
    assert r.status_code == 202
    job = await api.wait(r.json()["job_id"], api.alice)
    assert job["prompt"] == prompt


async def test_odd_credentials_are_401_not_500(api: Api) -> None:
    for headers in (
        {"X-API-Key": "x" * 10_000},
        {"X-API-Key": ("atl_" + "é" * 8 + "_x").encode("latin-1")},
        {"Authorization": "Bearer " + "a." * 3000},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer  "},
    ):
        r = await api.client.get("/api/jobs", headers=headers)
        assert r.status_code == 401, (headers, r.text)
