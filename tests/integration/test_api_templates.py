"""Templates: the built-in catalog for everyone, custom ones managed by admins."""

from __future__ import annotations

import pytest
from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]

BUILTIN_NAMES = {
    "Python CLI tool",
    "Python library",
    "FastAPI service",
    "Flask web app",
    "Node.js Express API",
    "Static website",
}
CUSTOM = {
    "id": "data-pipeline",
    "name": "Data pipeline",
    "language": "python",
    "description": "ETL scripts",
    "prompt_hint": "Use generators.",
    "suggested_files": ["etl.py"],
    "tags": ["data"],
}


async def test_the_builtin_catalog_is_listed(api: Api) -> None:
    r = await api.client.get("/api/templates", headers=api.alice.headers)
    assert r.status_code == 200
    templates = r.json()
    assert {t["name"] for t in templates} >= BUILTIN_NAMES
    assert all(t["builtin"] for t in templates)
    node = next(t for t in templates if t["id"] == "node-express-api")
    assert node["language"] == "javascript" and node["prompt_hint"]
    python_only = (
        await api.client.get("/api/templates?language=python", headers=api.alice.headers)
    ).json()
    assert {t["language"] for t in python_only} == {"python"}
    one = await api.client.get("/api/templates/python-cli", headers=api.alice.headers)
    assert one.status_code == 200 and one.json()["name"] == "Python CLI tool"


async def test_templates_need_auth_and_unknown_is_404(api: Api) -> None:
    assert (await api.client.get("/api/templates")).status_code == 401
    r = await api.client.get("/api/templates/nope", headers=api.alice.headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


async def test_admin_adds_edits_and_deletes_a_custom_template(api: Api) -> None:
    h = api.admin.headers
    created = await api.client.post("/api/templates", headers=h, json=CUSTOM)
    assert created.status_code == 201, created.text
    assert created.json()["builtin"] is False
    dup = await api.client.post("/api/templates", headers=h, json=CUSTOM)
    assert dup.status_code == 409

    patched = await api.client.patch(
        "/api/templates/data-pipeline", headers=h, json={"name": "Data pipelines", "tags": ["etl"]}
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Data pipelines" and patched.json()["tags"] == ["etl"]
    listed = (await api.client.get("/api/templates", headers=api.alice.headers)).json()
    assert "data-pipeline" in {t["id"] for t in listed}

    deleted = await api.client.delete("/api/templates/data-pipeline", headers=h)
    assert deleted.status_code == 204
    gone = await api.client.get("/api/templates/data-pipeline", headers=h)
    assert gone.status_code == 404
    assert (await api.client.delete("/api/templates/data-pipeline", headers=h)).status_code == 404


async def test_builtins_are_read_only_and_users_cannot_manage(api: Api) -> None:
    h = api.admin.headers
    assert (
        await api.client.patch("/api/templates/python-cli", headers=h, json={"name": "x"})
    ).status_code == 403
    assert (await api.client.delete("/api/templates/python-cli", headers=h)).status_code == 403
    u = api.alice.headers
    assert (await api.client.post("/api/templates", headers=u, json=CUSTOM)).status_code == 403
    assert (
        await api.client.patch("/api/templates/python-cli", headers=u, json={"name": "x"})
    ).status_code == 403
    assert (await api.client.delete("/api/templates/python-cli", headers=u)).status_code == 403
    assert (await api.client.post("/api/templates", json=CUSTOM)).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {**CUSTOM, "id": "Bad Id"},
        {**CUSTOM, "id": ""},
        {**CUSTOM, "name": ""},
        {**CUSTOM, "unknown": 1},
        {"name": "no id"},
        {**CUSTOM, "suggested_files": "etl.py"},
    ],
)
async def test_bad_template_bodies_are_422(api: Api, body: dict[str, object]) -> None:
    r = await api.client.post("/api/templates", headers=api.admin.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "validation_error"


async def test_a_job_on_a_template_takes_its_language(api: Api) -> None:
    r = await api.client.post(
        "/api/jobs",
        headers=api.alice.headers,
        json={
            "prompt": "A word counter.",
            "template": "python-cli",
            "options": {"script": api.script()},
        },
    )
    assert r.status_code == 202, r.text
    job = await api.wait(r.json()["job_id"], api.alice)
    assert job["template"] == "python-cli"
    assert job["language"] == "python"
    assert job["status"] == "succeeded"
