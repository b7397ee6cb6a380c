"""Files, versions, diffs and the ZIP download of a job's project."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from api_harness import Api, api, api_postgres_url, api_sqlite_template, db_url
from api_scripts import REVISED_CODE, write_script

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url"]


async def _revised(api: Api) -> str:
    job_id = await api.finished_job(api.alice)
    write_script(api.scripts["default"], code=REVISED_CODE)
    r = await api.client.post(
        f"/api/jobs/{job_id}/revise", headers=api.alice.headers, json={"instructions": "Add sub."}
    )
    assert r.status_code == 202
    assert (await api.wait(r.json()["job_id"], api.alice))["status"] == "succeeded"
    return job_id


async def test_file_tree_lists_paths_hashes_and_sizes(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    r = await api.client.get(f"/api/jobs/{job_id}/files", headers=api.alice.headers)
    assert r.status_code == 200, r.text
    tree = r.json()
    assert tree["version"] == 1
    paths = {f["path"] for f in tree["files"]}
    assert {"calc.py", "tests/test_calc.py", "README.md"} <= paths
    for f in tree["files"]:
        assert len(f["sha256"]) == 64 and f["size"] > 0
    assert tree["tree"]["tests"]["test_calc.py"] is None
    assert tree["tree"]["calc.py"] is None


async def test_file_content_raw_and_highlighted(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    raw = await api.client.get(f"/api/jobs/{job_id}/files/calc.py", headers=api.alice.headers)
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert "def add(a, b):" in raw.text

    html = await api.client.get(
        f"/api/jobs/{job_id}/files/calc.py?format=html", headers=api.alice.headers
    )
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert '<span class="k">def</span>' in html.text  # Pygments tokens

    nested = await api.client.get(
        f"/api/jobs/{job_id}/files/tests/test_calc.py?version=1", headers=api.alice.headers
    )
    assert nested.status_code == 200 and "def test_add" in nested.text


@pytest.mark.parametrize(
    ("suffix", "status"),
    [
        ("files/nope.py", 404),
        ("files/calc.py?version=9", 404),
        ("files/calc.py?version=0", 422),
        ("files/calc.py?version=x", 422),
        ("files/calc.py?format=pdf", 422),
        ("files/..%2F..%2Fetc%2Fpasswd", 422),
        ("files/.git/config", 422),
        ("files?version=7", 404),
        ("diff?from=1&to=7", 404),
        ("diff?from=0", 422),
        ("diff", 422),  # only one version: nothing earlier to compare with
    ],
)
async def test_bad_file_requests_are_4xx(api: Api, suffix: str, status: int) -> None:
    job_id = await api.finished_job(api.alice)
    r = await api.client.get(f"/api/jobs/{job_id}/{suffix}", headers=api.alice.headers)
    assert r.status_code == status, r.text
    assert "error" in r.json()


async def test_files_of_a_job_without_a_version_are_404(api: Api) -> None:
    job_id = await api.create_job(api.alice, script=api.script("slow", delay_s=5))
    r = await api.client.get(f"/api/jobs/{job_id}/files", headers=api.alice.headers)
    assert r.status_code == 404
    r = await api.client.get(f"/api/download/{job_id}", headers=api.alice.headers)
    assert r.status_code == 404


async def test_versions_and_unified_diff(api: Api) -> None:
    job_id = await _revised(api)
    versions = (
        await api.client.get(f"/api/jobs/{job_id}/versions", headers=api.alice.headers)
    ).json()
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["files"] >= 3 and versions[0]["tests"]["passed"] == 2

    r = await api.client.get(f"/api/jobs/{job_id}/diff?from=1&to=2", headers=api.alice.headers)
    assert r.status_code == 200, r.text
    diff = r.json()
    assert diff["from_version"] == 1 and diff["to_version"] == 2
    assert "calc.py" in diff["changed"]
    assert "--- a/calc.py" in diff["diff"] and "+++ b/calc.py" in diff["diff"]
    assert "+def sub(a, b):" in diff["diff"]

    default = (await api.client.get(f"/api/jobs/{job_id}/diff", headers=api.alice.headers)).json()
    assert default["diff"] == diff["diff"]
    same = (
        await api.client.get(f"/api/jobs/{job_id}/diff?from=2&to=2", headers=api.alice.headers)
    ).json()
    assert same["diff"] == "" and same["changed"] == []

    old = await api.client.get(
        f"/api/jobs/{job_id}/files/calc.py?version=1", headers=api.alice.headers
    )
    assert "def sub" not in old.text
    new = await api.client.get(f"/api/jobs/{job_id}/files/calc.py", headers=api.alice.headers)
    assert "def sub" in new.text


async def test_download_is_a_zip_of_files_and_reports(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    r = await api.client.get(f"/api/download/{job_id}", headers=api.alice.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert archive.testzip() is None
    names = archive.namelist()
    root = names[0].split("/")[0]
    assert root == "calc"
    assert {
        f"{root}/calc.py",
        f"{root}/tests/test_calc.py",
        f"{root}/README.md",
        f"{root}/ATELIER_REPORT.json",
        f"{root}/ATELIER_REPORT.md",
    } <= set(names)
    report = json.loads(archive.read(f"{root}/ATELIER_REPORT.json"))
    assert report["status"] == "succeeded"
    assert report["tests"]["passed"] == 2
    assert "report_md" not in report
    assert archive.read(f"{root}/ATELIER_REPORT.md").decode().startswith("# Atelier report")
    assert "def add" in archive.read(f"{root}/calc.py").decode()


async def test_download_of_an_older_version(api: Api) -> None:
    job_id = await _revised(api)
    r = await api.client.get(f"/api/download/{job_id}?version=1", headers=api.alice.headers)
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert "def sub" not in archive.read("calc/calc.py").decode()
    assert "v1" in r.headers["content-disposition"]
    bad = await api.client.get(f"/api/download/{job_id}?version=0", headers=api.alice.headers)
    assert bad.status_code == 422
    missing = await api.client.get(f"/api/download/{job_id}?version=3", headers=api.alice.headers)
    assert missing.status_code == 404


async def test_files_download_and_diff_are_404_for_another_user(api: Api) -> None:
    job_id = await api.finished_job(api.alice)
    for url in (
        f"/api/jobs/{job_id}/files",
        f"/api/jobs/{job_id}/files/calc.py",
        f"/api/jobs/{job_id}/versions",
        f"/api/jobs/{job_id}/diff?from=1&to=1",
        f"/api/download/{job_id}",
    ):
        r = await api.client.get(url, headers=api.bob.headers)
        assert r.status_code == 404, url
        assert r.json()["error"] == "not_found"
        anon = await api.client.get(url)
        assert anon.status_code == 401, url
        admin = await api.client.get(url, headers=api.admin.headers)
        assert admin.status_code == 200, url
