"""GET /api/stats and GET /api/models."""

from __future__ import annotations

from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def test_stats_show_system_jobs_and_usage(api: Api) -> None:
    await api.finished_job(api.alice)
    queued = await api.create_job(api.alice, script=api.script("slow", delay_s=5))
    await api.client.post(f"/api/jobs/{queued}/cancel", headers=api.alice.headers)
    await api.wait(queued, api.alice)

    r = await api.client.get("/api/stats", headers=api.alice.headers)
    assert r.status_code == 200, r.text
    stats = r.json()
    system = stats["system"]
    assert system["cpu"]["count"] >= 1
    assert system["memory"]["total_bytes"] > 0 and 0 <= system["disk"]["percent"] <= 100
    jobs = stats["jobs"]
    assert stats["scope"] == "own"
    assert jobs["by_status"]["succeeded"] == 1 and jobs["by_status"]["cancelled"] == 1
    assert jobs["total"] == 2
    assert jobs["success_rate"] == 0.5
    assert jobs["duration_s"]["count"] == 2
    assert jobs["duration_s"]["mean"] > 0 and jobs["duration_s"]["p95"] > 0
    day = stats["usage_per_day"][-1]
    assert day["calls"] == 5 and day["prompt_tokens"] > 0 and day["jobs"] == 2


async def test_stats_are_scoped_to_the_user_and_global_for_admins(api: Api) -> None:
    await api.finished_job(api.alice)
    bob = (await api.client.get("/api/stats", headers=api.bob.headers)).json()
    assert bob["jobs"]["total"] == 0 and bob["jobs"]["success_rate"] is None
    admin = (await api.client.get("/api/stats", headers=api.admin.headers)).json()
    assert admin["scope"] == "all" and admin["jobs"]["total"] == 1


async def test_failures_are_counted_by_reason(api: Api) -> None:
    broken = api.tmp_path / "not-json.json"
    broken.write_text("{not json", encoding="utf-8")
    r = await api.client.post(
        "/api/jobs",
        headers=api.alice.headers,
        json={"prompt": "x", "options": {"script": str(broken)}},
    )
    job = await api.wait(r.json()["job_id"], api.alice)
    assert job["status"] == "failed" and job["error"]
    stats = (await api.client.get("/api/stats", headers=api.alice.headers)).json()
    assert sum(stats["jobs"]["failures_by_reason"].values()) >= 1


async def test_stats_bad_input_and_no_auth(api: Api) -> None:
    assert (await api.client.get("/api/stats")).status_code == 401
    r = await api.client.get("/api/stats?days=0", headers=api.alice.headers)
    assert r.status_code == 422


async def test_models_lists_the_pinned_catalog(api: Api) -> None:
    r = await api.client.get("/api/models", headers=api.alice.headers)
    assert r.status_code == 200
    body = r.json()
    ids = {m["id"] for m in body["models"]}
    assert {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"} <= ids
    qwen = next(m for m in body["models"] if m["id"] == "qwen2.5-coder-0.5b")
    assert qwen["size_bytes"] == 491_400_064 and len(qwen["sha256"]) == 64
    assert qwen["pull_command"] == "atelier models pull qwen2.5-coder-0.5b"
    assert isinstance(qwen["installed"], bool)
    assert sum(m["default"] for m in body["models"]) == 1
    assert (await api.client.get("/api/models")).status_code == 401
    bad = await api.client.get("/api/models", headers={"X-API-Key": "atl_12345678_x"})
    assert bad.status_code == 401
