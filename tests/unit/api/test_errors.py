"""Domain errors map to status codes in one place; every error has one body shape."""

from __future__ import annotations

import errno
import sqlite3

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from atelier.api.errors import install_error_handlers, status_for
from atelier.domain import errors as e


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (e.NotFound(), 404),
        (e.Unauthorized(), 401),
        (e.Forbidden(), 403),
        (e.Conflict(), 409),
        (e.RateLimited(3), 429),
        (e.InvalidSpec(), 422),
        (e.InvalidPath("x"), 422),
        (e.InvalidPlan(), 422),
        (e.ModelNotInstalled(), 422),
        (e.BudgetExceeded("tokens"), 422),
        (e.Cancelled(), 409),
        (e.LLMTimeout(), 504),
        (e.LLMUnavailable(), 503),
        (e.LLMOutputInvalid(), 502),
        (e.SandboxError(), 503),
        (e.DiskFull(), 507),
        (e.AtelierError(), 500),
    ],
)
def test_each_domain_error_has_its_status(error: e.AtelierError, status: int) -> None:
    assert status_for(error) == status


class Body(BaseModel):
    n: int


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/missing")
    async def missing() -> None:
        raise e.NotFound("job x not found")

    @app.get("/limited")
    async def limited() -> None:
        raise e.RateLimited(7)

    @app.get("/db-full")
    async def db_full() -> None:
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))

    @app.get("/enospc")
    async def enospc() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/srv/atelier/x")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    @app.post("/body")
    async def body(b: Body) -> int:
        return b.n

    return app


async def _client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_domain_error_body_shape() -> None:
    async with await _client() as client:
        r = await client.get("/missing")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "detail": "job x not found"}


async def test_rate_limited_sets_retry_after() -> None:
    async with await _client() as client:
        r = await client.get("/limited")
    assert r.status_code == 429
    assert r.headers["retry-after"] == "7"
    assert r.json()["error"] == "rate_limited"


async def test_unexpected_errors_are_500_without_internals() -> None:
    async with await _client() as client:
        r = await client.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"error": "internal_error", "detail": "internal server error"}
    assert "secret" not in r.text


async def test_validation_errors_are_422_with_fields_and_no_echoed_input() -> None:
    async with await _client() as client:
        r = await client.post("/body", json={"n": "not-a-number-SECRET"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation_error"
    assert body["detail"][0]["loc"] == ["body", "n"]
    assert "SECRET" not in r.text


async def test_http_errors_keep_the_shape() -> None:
    async with await _client() as client:
        r = await client.get("/nowhere")
        m = await client.post("/missing")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert m.status_code == 405 and m.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/db-full", "/enospc"])
async def test_a_full_disk_is_507_disk_full_never_500(path: str) -> None:
    async with await _client() as client:
        r = await client.get(path)
    assert r.status_code == 507
    body = r.json()
    assert body["error"] == "disk_full" and "space" in body["detail"]
    assert "/srv" not in r.text  # the server's paths stay in its log
    assert r.headers["retry-after"] == "30"
