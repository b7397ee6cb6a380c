"""The verdict of a finished job in GET /api/jobs/{id} and the jobs list, on both engines.

Jobs run through the real pipeline (scripted LLM, real sandbox): a job whose tests fail
still succeeds, and its verdict says the code fails.
"""

from __future__ import annotations

from typing import Any

from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url
from api_scripts import BUGGY_CODE

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def listed(api: Api, job_id: str) -> dict[str, Any]:
    r = await api.client.get("/api/jobs", headers=api.alice.headers)
    assert r.status_code == 200, r.text
    item: dict[str, Any] = next(i for i in r.json()["items"] if i["job_id"] == job_id)
    return item


async def test_a_job_whose_tests_pass_is_verified(api: Api) -> None:
    job_id = await api.finished_job(api.alice)

    body = await api.wait(job_id, api.alice)

    assert body["verdict"] == "verified"
    assert body["verdict_detail"] == {
        "passed": 2, "failed": 0, "errors": 0, "failing_tests": [], "set_aside": [],
        "reason": "all 2 tests pass",
    }
    assert (await listed(api, job_id))["verdict"] == "verified"


async def test_a_succeeded_job_whose_tests_fail_is_failing_and_names_them(api: Api) -> None:
    script = api.script("buggy", code=BUGGY_CODE)
    job_id = await api.create_job(api.alice, script=script,
                                  options={"max_fix_rounds": 0, "review": False})

    body = await api.wait(job_id, api.alice)

    assert body["status"] == "succeeded", body
    assert body["verdict"] == "failing"
    detail = body["verdict_detail"]
    assert detail["failing_tests"] == ["tests.test_calc::test_add"]
    assert (detail["passed"], detail["failed"], detail["errors"]) == (1, 1, 0)
    assert detail["reason"] == "1 of 2 tests fails: tests.test_calc::test_add"
    assert (await listed(api, job_id))["verdict"] == "failing"
    # Polled again, the body comes from the job-view cache: the same verdict.
    again = await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)
    assert again.json()["verdict"] == "failing"
    assert again.json()["verdict_detail"] == detail


async def test_an_unfinished_job_has_no_verdict_and_a_cancelled_one_is_untested(
    api: Api,
) -> None:
    job_id = await api.create_job(api.alice, script=api.script("slow", delay_s=2.0))
    r = await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)
    assert r.json()["status"] in ("queued", "running")
    assert r.json()["verdict"] is None and r.json()["verdict_detail"] is None
    assert (await listed(api, job_id))["verdict"] is None

    cancel = await api.client.post(f"/api/jobs/{job_id}/cancel", headers=api.alice.headers)
    assert cancel.status_code == 202, cancel.text
    body = await api.wait(job_id, api.alice)

    assert body["status"] == "cancelled"
    assert body["verdict"] == "untested"
    assert body["verdict_detail"]["reason"] == "the job was cancelled before any test ran"
