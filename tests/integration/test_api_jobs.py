"""Jobs: create, status, list, cancel, revise, events — happy path, bad input, wrong
user, no auth. Jobs run through the real pipeline (scripted LLM, real sandbox)."""

from __future__ import annotations

import pytest
from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url
from api_scripts import CALLS_PER_JOB, REVISED_CODE, write_script

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]

STEPS = ("plan", "code", "test", "fix", "review", "docs", "package")


async def test_a_job_runs_through_the_pipeline_and_reports_everything(api: Api) -> None:
    r = await api.client.post(
        "/api/jobs",
        headers=api.alice.headers,
        json={
            "prompt": "A calculator module.",
            "language": "python",
            "options": {"provider": "scripted", "script": api.script(), "max_fix_rounds": 1},
        },
    )
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status"] == "queued"
    job_id = accepted["job_id"]
    assert accepted["links"]["self"] == f"/api/jobs/{job_id}"

    body = await api.wait(job_id, api.alice)
    assert body["status"] == "succeeded", body
    assert body["progress"] == 1.0
    assert body["error"] is None
    assert body["user_id"] == api.alice.id
    assert set(STEPS) <= set(body["steps"])
    assert all(body["steps"][s]["status"] == "done" for s in STEPS)
    assert body["tests"]["passed"] == 2 and body["tests"]["failed"] == 0
    assert body["usage"]["calls"] == CALLS_PER_JOB
    assert body["usage"]["prompt_tokens"] > 0 and body["usage"]["completion_tokens"] > 0
    assert [v["number"] for v in body["versions"]] == [1]
    assert body["duration_s"] is not None

    status = await api.client.get(f"/api/status/{job_id}", headers=api.alice.headers)
    assert status.status_code == 200
    assert status.json()["status"] == "succeeded"


async def test_generate_is_an_alias_of_create(api: Api) -> None:
    r = await api.client.post(
        "/api/generate",
        headers=api.alice.headers,
        json={"prompt": "A calculator.", "options": {"script": api.script()}},
    )
    assert r.status_code == 202
    assert (await api.wait(r.json()["job_id"], api.alice))["status"] == "succeeded"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, None),
        ({"prompt": "x" * 20_001}, "prompt"),
        ({"prompt": "ok", "colour": "red"}, "colour"),
        ({"prompt": "ok", "options": {"max_fix_rounds": -1}}, "max_fix_rounds"),
        ({"prompt": "ok", "options": {"strategy": "magic"}}, "strategy"),
        ({"prompt": "ok", "options": {"budgets": {"max_tokens": 0}}}, "max_tokens"),
        ({"prompt": "ok", "options": {"nonsense": 1}}, "nonsense"),
        ({"prompt": 42}, "prompt"),
    ],
)
async def test_bad_job_bodies_are_422_with_field_details(
    api: Api, body: dict[str, object], field: str | None
) -> None:
    r = await api.client.post("/api/jobs", headers=api.alice.headers, json=body)
    assert r.status_code == 422, r.text
    payload = r.json()
    assert payload["error"] == "validation_error"
    if field is not None:
        assert any(field in map(str, item["loc"]) for item in payload["detail"]), payload


async def test_malformed_json_is_422_not_500(api: Api) -> None:
    r = await api.client.post(
        "/api/jobs",
        headers={**api.alice.headers, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"


@pytest.mark.parametrize(
    ("options", "extra", "status", "error"),
    [
        ({"provider": "nope"}, {}, 422, "invalid_spec"),
        ({"script": "/does/not/exist.json"}, {}, 422, "invalid_spec"),
        ({"base_url": "http://169.254.169.254/"}, {}, 403, "forbidden"),
        ({}, {"template": "no-such-template"}, 422, "invalid_spec"),
    ],
)
async def test_unacceptable_options_are_refused_before_queueing(
    api: Api, options: dict[str, str], extra: dict[str, str], status: int, error: str
) -> None:
    r = await api.client.post(
        "/api/jobs", headers=api.alice.headers, json={"prompt": "ok", "options": options, **extra}
    )
    assert r.status_code == status, r.text
    assert r.json()["error"] == error
    listed = await api.client.get("/api/jobs", headers=api.alice.headers)
    assert listed.json()["total"] == 0


async def test_no_auth_is_401_everywhere(api: Api) -> None:
    job_id = await api.create_job(api.alice)
    for method, url in [
        ("POST", "/api/jobs"),
        ("POST", "/api/generate"),
        ("GET", "/api/jobs"),
        ("GET", f"/api/jobs/{job_id}"),
        ("GET", f"/api/status/{job_id}"),
        ("POST", f"/api/jobs/{job_id}/cancel"),
        ("POST", f"/api/jobs/{job_id}/revise"),
        ("GET", f"/api/jobs/{job_id}/events"),
    ]:
        r = await api.client.request(method, url, json={"prompt": "x", "instructions": "y"})
        assert r.status_code == 401, (method, url, r.text)
        assert r.json()["error"] == "unauthorized"
    bad = await api.client.get("/api/jobs", headers={"X-API-Key": "atl_00000000_nope"})
    assert bad.status_code == 401
    bearer = await api.client.get("/api/jobs", headers={"Authorization": "Bearer not.a.jwt"})
    assert bearer.status_code == 401
    basic = await api.client.get("/api/jobs", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert basic.status_code == 401


async def test_another_users_job_is_404_for_every_job_route(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    for method, url, body in [
        ("GET", f"/api/jobs/{job_id}", None),
        ("GET", f"/api/status/{job_id}", None),
        ("POST", f"/api/jobs/{job_id}/cancel", None),
        ("POST", f"/api/jobs/{job_id}/revise", {"instructions": "more"}),
        ("GET", f"/api/jobs/{job_id}/events", None),
    ]:
        r = await api.client.request(method, url, headers=api.bob.headers, json=body)
        assert r.status_code == 404, (method, url, r.text)
        assert r.json()["error"] == "not_found"
    # …exactly like a job that does not exist at all.
    missing = await api.client.get("/api/jobs/no-such-job", headers=api.bob.headers)
    assert missing.status_code == 404
    # Admins see everyone's jobs.
    as_admin = await api.client.get(f"/api/jobs/{job_id}", headers=api.admin.headers)
    assert as_admin.status_code == 200


async def test_list_shows_only_own_jobs_paginated_and_filtered(api: Api) -> None:
    first = await api.finished_job(api.alice)
    slow = await api.create_job(api.alice, script=api.script("slow", delay_s=5))
    await api.create_job(api.bob)
    r = await api.client.get("/api/jobs", headers=api.alice.headers)
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2
    assert {j["job_id"] for j in page["items"]} == {first, slow}
    assert all(j["user_id"] == api.alice.id for j in page["items"])

    one = (await api.client.get("/api/jobs?limit=1", headers=api.alice.headers)).json()
    assert len(one["items"]) == 1 and one["total"] == 2 and one["limit"] == 1
    two = (await api.client.get("/api/jobs?limit=1&offset=1", headers=api.alice.headers)).json()
    assert {one["items"][0]["job_id"], two["items"][0]["job_id"]} == {first, slow}

    done = (await api.client.get("/api/jobs?status=succeeded", headers=api.alice.headers)).json()
    assert [j["job_id"] for j in done["items"]] == [first]

    for query in ("status=bogus", "limit=0", "limit=100000", "offset=-1", "limit=abc"):
        bad = await api.client.get(f"/api/jobs?{query}", headers=api.alice.headers)
        assert bad.status_code == 422, query
        assert bad.json()["error"] == "validation_error"


async def test_cancel_stops_a_running_job(api: Api) -> None:
    job_id = await api.create_job(api.alice, script=api.script("slow", delay_s=1.0))
    for _ in range(100):
        body = (await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)).json()
        if body["status"] == "running":
            break
        await api_sleep()
    r = await api.client.post(f"/api/jobs/{job_id}/cancel", headers=api.alice.headers)
    assert r.status_code == 202, r.text
    assert r.json()["status"] in ("running", "cancelled")
    body = await api.wait(job_id, api.alice, timeout_s=30)
    assert body["status"] == "cancelled"
    assert body["error"]

    again = await api.client.post(f"/api/jobs/{job_id}/cancel", headers=api.alice.headers)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


async def test_cancel_of_a_queued_job_is_immediate(api: Api) -> None:
    slow = api.script("slow", delay_s=3.0)
    # Two slots: the third job waits in the queue.
    for _ in range(2):
        await api.create_job(api.alice, script=slow)
    queued = await api.create_job(api.alice, script=slow)
    r = await api.client.post(f"/api/jobs/{queued}/cancel", headers=api.alice.headers)
    assert r.status_code == 202
    assert r.json()["status"] == "cancelled"
    body = (await api.client.get(f"/api/jobs/{queued}", headers=api.alice.headers)).json()
    assert body["status"] == "cancelled"


async def test_revise_makes_the_next_version(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    # The revision runs with the job's own options, so its script file now answers
    # with the revised code.
    write_script(api.scripts["default"], code=REVISED_CODE)
    r = await api.client.post(
        f"/api/jobs/{job_id}/revise",
        headers=api.alice.headers,
        json={"instructions": "Add sub(a, b)."},
    )
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["parent_job_id"] == job_id
    assert accepted["version"] == 2
    revision = await api.wait(accepted["job_id"], api.alice)
    assert revision["status"] == "succeeded", revision
    assert revision["instructions"] == "Add sub(a, b)."

    versions = (
        await api.client.get(f"/api/jobs/{job_id}/versions", headers=api.alice.headers)
    ).json()
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[1]["instructions"] == "Add sub(a, b)."
    project = (await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)).json()
    assert [v["number"] for v in project["versions"]] == [1, 2]


async def test_revise_bad_input_and_nothing_to_revise(api: Api) -> None:
    job_id = await api.create_job(api.alice, script=api.script("slow", delay_s=5))
    for body in ({}, {"instructions": ""}, {"instructions": 5}, {"instructions": "x", "y": 1}):
        r = await api.client.post(
            f"/api/jobs/{job_id}/revise", headers=api.alice.headers, json=body
        )
        assert r.status_code == 422, body
    r = await api.client.post(
        f"/api/jobs/{job_id}/revise", headers=api.alice.headers, json={"instructions": "more"}
    )
    assert r.status_code == 409
    assert r.json()["error"] == "conflict"


async def test_events_are_the_ordered_log_and_since_skips(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    r = await api.client.get(f"/api/jobs/{job_id}/events", headers=api.alice.headers)
    assert r.status_code == 200
    page = r.json()
    events = page["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(events) + 1))
    assert page["last_seq"] == seqs[-1]
    types = [e["type"] for e in events]
    assert types[0] == "job_queued" and types[-1] == "job_finished"
    assert "step_started" in types and "agent_call" in types and "test_run" in types
    assert events[-1]["data"]["status"] == "succeeded"
    assert events[-1]["data"]["version"] == 1

    later = (
        await api.client.get(f"/api/jobs/{job_id}/events?since=3", headers=api.alice.headers)
    ).json()
    assert [e["seq"] for e in later["events"]] == seqs[3:]
    empty = (
        await api.client.get(f"/api/jobs/{job_id}/events?since=100000", headers=api.alice.headers)
    ).json()
    assert empty["events"] == [] and empty["last_seq"] == seqs[-1]
    bad = await api.client.get(f"/api/jobs/{job_id}/events?since=-1", headers=api.alice.headers)
    assert bad.status_code == 422


async def test_a_bearer_token_from_validate_key_works_for_jobs(api: Api) -> None:
    token = (await api.client.post("/api/validate-key", json={"api_key": api.alice.key})).json()[
        "access_token"
    ]
    r = await api.client.post(
        "/api/jobs",
        headers={"Authorization": f"Bearer {token}"},
        json={"prompt": "A calculator.", "options": {"script": api.script()}},
    )
    assert r.status_code == 202
    job = await api.wait(r.json()["job_id"], api.alice)
    assert job["user_id"] == api.alice.id


async def api_sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)
