"""What the web UI needs from the API: stats series, prompt search, the report, token
revocation with the key, gzip with Vary — on SQLite and PostgreSQL."""

from __future__ import annotations

from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url
from api_scripts import BUGGY_CODE

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def test_stats_series_has_jobs_durations_usage_and_models(api: Api) -> None:
    await api.finished_job(api.alice)
    buggy = await api.create_job(
        api.bob, script=api.script("buggy", code=BUGGY_CODE), options={"max_fix_rounds": 0}
    )
    await api.wait(buggy, api.bob)

    r = await api.client.get("/api/stats/series?days=7", headers=api.admin.headers)
    assert r.status_code == 200, r.text
    series = r.json()
    assert series["scope"] == "all" and len(series["days"]) == 7
    today = series["jobs_per_day"][-1]
    assert today["day"] == series["days"][-1] and today["succeeded"] == 2
    assert sum(b["count"] for b in series["duration_histogram"]) == 2
    assert series["usage_per_day"][-1]["calls"] >= 10 and series["usage_per_day"][-1]["tokens"] > 0
    models = {m["model"] for m in series["usage_per_model"]}
    assert {"script-default.json", "script-buggy.json"} <= models
    assert series["verdicts"] == {"verified": 1, "failing": 1, "untested": 0}

    own = (await api.client.get("/api/stats/series", headers=api.alice.headers)).json()
    assert own["scope"] == "own" and len(own["days"]) == 30
    assert own["jobs_per_day"][-1]["succeeded"] == 1 and own["verdicts"]["failing"] == 0
    assert {m["model"] for m in own["usage_per_model"]} == {"script-default.json"}

    bad = await api.client.get("/api/stats/series?days=0", headers=api.admin.headers)
    assert bad.status_code == 422
    assert (await api.client.get("/api/stats/series")).status_code == 401


async def test_jobs_are_searched_by_prompt_text(api: Api) -> None:
    stack = await api.create_job(api.alice, prompt="A Stack module stack.py")
    queue = await api.create_job(api.alice, prompt="A queue module queue.py")
    await api.create_job(api.bob, prompt="Bob's stack")
    for job in (stack, queue):
        await api.wait(job, api.alice)

    r = await api.client.get("/api/jobs?q=stack", headers=api.alice.headers)
    assert r.status_code == 200
    page = r.json()
    assert [j["job_id"] for j in page["items"]] == [stack] and page["total"] == 1
    assert page["items"][0]["usage"]["calls"] >= 4
    none = await api.client.get("/api/jobs?q=stack&status=failed", headers=api.alice.headers)
    assert none.json()["total"] == 0
    everyone = await api.client.get("/admin/jobs?q=STACK", headers=api.admin.headers)
    assert everyone.json()["total"] == 2
    too_long = await api.client.get("/api/jobs?q=" + "x" * 201, headers=api.alice.headers)
    assert too_long.status_code == 422


async def test_the_report_of_a_version_is_served_as_markdown_and_data(api: Api) -> None:
    job = await api.finished_job(api.alice)
    r = await api.client.get(f"/api/jobs/{job}/report", headers=api.alice.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["version"] == 1 and report["markdown"].startswith("# ")
    assert "VERIFIED" in report["markdown"] and report["report"]["status"] == "succeeded"
    other = await api.client.get(f"/api/jobs/{job}/report", headers=api.bob.headers)
    assert other.status_code == 404
    missing = await api.client.get(f"/api/jobs/{job}/report?version=9", headers=api.alice.headers)
    assert missing.status_code == 404


async def test_a_token_ends_when_its_api_key_is_revoked(api: Api) -> None:
    created = await api.client.post(
        f"/admin/users/{api.alice.id}/keys", headers=api.admin.headers, json={"name": "ui"}
    )
    key = created.json()
    token = (await api.client.post("/api/validate-key", json={"api_key": key["api_key"]})).json()[
        "access_token"
    ]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await api.client.get("/api/jobs", headers=bearer)).status_code == 200
    await api.client.post(f"/admin/keys/{key['id']}/revoke", headers=api.admin.headers)
    assert (await api.client.get("/api/jobs", headers=bearer)).status_code == 401
    # Tokens of the user's other keys still work.
    assert (await api.client.get("/api/jobs", headers=api.alice.headers)).status_code == 200


async def test_large_json_is_gzipped_with_vary_and_small_bodies_are_not(api: Api) -> None:
    for n in range(6):
        await api.create_job(api.alice, prompt=f"A module number {n} " + "with words " * 20)
    gz = {**api.alice.headers, "Accept-Encoding": "gzip"}
    r = await api.client.get("/api/jobs?limit=50", headers=gz)
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in r.headers["vary"].lower()
    assert int(r.headers["content-length"]) < len(r.content)  # httpx decoded it
    assert r.json()["total"] == 6

    plain = await api.client.get(
        "/api/jobs?limit=50", headers={**api.alice.headers, "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert "accept-encoding" in plain.headers["vary"].lower()
    assert plain.json()["total"] == r.json()["total"]

    small = await api.client.get("/health", headers=gz)
    assert "content-encoding" not in small.headers and "vary" not in small.headers


async def test_the_cached_job_body_is_compressed_only_when_large(api: Api) -> None:
    job = await api.finished_job(api.alice)
    gz = {**api.alice.headers, "Accept-Encoding": "gzip"}
    first = await api.client.get(f"/api/jobs/{job}", headers=gz)
    second = await api.client.get(f"/api/jobs/{job}", headers=gz)  # from the fast path
    assert first.json() == second.json()
    for r in (first, second):
        size = len(r.content)
        assert (r.headers.get("content-encoding") == "gzip") == (size >= 1024), size
