"""Health, readiness, metrics, and the error shape of anything unknown."""

from __future__ import annotations

from pathlib import Path

import httpx
from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url, make_settings

from atelier.api.app import create_app

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def test_health_answers_without_auth(api: Api) -> None:
    r = await api.client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_ready_reports_database_runner_and_llm(api: Api) -> None:
    r = await api.client.get("/health/ready")
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["runner"] == "ok"
    assert checks["llm"]["status"] == "ok"


async def test_ready_is_503_with_reasons_when_the_llm_is_not_configured(
    db_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url, llm_script=tmp_path / "missing.json")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["error"] == "not_ready"
    assert any("llm" in reason for reason in body["detail"])


async def test_metrics_are_prometheus_text_labelled_by_route_template(api: Api) -> None:
    await api.client.get("/api/jobs/some-id", headers=api.alice.headers)
    r = await api.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "atelier_http_request_duration_seconds_bucket" in text
    assert 'route="/api/jobs/{job_id}"' in text
    assert "some-id" not in text
    for name in (
        "atelier_jobs_total",
        "atelier_step_duration_seconds",
        "atelier_llm_tokens_total",
        "atelier_sandbox_runs_total",
    ):
        assert name in text


async def test_every_response_carries_a_request_id(api: Api) -> None:
    r = await api.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await api.client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"


async def test_unknown_route_is_404_in_the_error_shape(api: Api) -> None:
    r = await api.client.get("/api/nope", headers=api.alice.headers)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


async def test_wrong_method_is_405_in_the_error_shape(api: Api) -> None:
    r = await api.client.delete("/health")
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"


async def test_cors_allows_only_listed_origins(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, db_url, cors_origins=["https://ui.example"])
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            preflight = {
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key",
            }
            ok = await client.options(
                "/api/jobs", headers={"Origin": "https://ui.example", **preflight}
            )
            bad = await client.options(
                "/api/jobs", headers={"Origin": "https://evil.example", **preflight}
            )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://ui.example"
    assert "access-control-allow-origin" not in bad.headers


async def test_openapi_schema_and_docs_are_served(api: Api) -> None:
    schema = await api.client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/files/{path}",
        "/api/download/{job_id}",
        "/admin/jobs",
        "/api/templates",
        "/api/models",
    ):
        assert path in paths, path
    docs = await api.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
