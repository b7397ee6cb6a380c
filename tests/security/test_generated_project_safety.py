"""Generated projects are untrusted: hostile paths from a model are refused, sizes are
bounded, every downloaded ZIP extracts inside its root, and sandboxed code of one job
cannot read another job's files."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from api_harness import Api
from api_scripts import CODE, NO_FINDINGS, PLAN, README, TESTS

from atelier.domain.errors import InvalidPath
from atelier.domain.paths import MAX_PATH_LENGTH, validate_project_path
from atelier.domain.plan import MAX_PLAN_FILES
from atelier.sandbox import SandboxLimits, run_command

HOSTILE_PATHS = [
    "../evil.py",
    "../../etc/cron.d/evil.py",
    "src/../../evil.py",
    "./../evil.py",
    "..\\evil.py",
    "src\\..\\..\\evil.py",
    "/etc/evil.py",
    "//server/share/evil.py",
    "\\\\server\\share\\evil.py",
    "C:\\Windows\\evil.py",
    "C:/evil.py",
    "c:evil.py",
    "~/evil.py",
    "~root/evil.py",
    "evil\x00.py",
    "evil.py\x00.txt",
    "x" * (MAX_PATH_LENGTH + 1) + ".py",
    "/".join(["d"] * 20) + "/evil.py",
    ".git/config.py",
    ".GIT/hooks/pre-commit.py",
    "src/.Git/x.py",
    "Node_Modules/evil.js",
    "NODE_MODULES/evil.js",
    "VENV/lib/evil.py",
    "__PYCACHE__/evil.py",
    ".ssh/authorized_keys.txt",
    ".env",
    "ｅｖｉｌ.py",  # fullwidth letters
    "e\u0301vil.py",  # a combining accent
    "evil\u202etxt.py",  # right-to-left override
    "evil\u200b.py",  # zero-width space
    "\u2024\u2024/evil.py",  # one-dot leaders that look like ".."
    "evil .py",
    "evil.py ",
    "CON.py",
    "nul.txt",
    "aux/evil.py",
    "LPT1.md",
    "evil.exe",
    "evil.py/",
    "",
    "   ",
]


@pytest.mark.parametrize("raw", HOSTILE_PATHS, ids=repr)
def test_hostile_paths_are_refused(raw: str) -> None:
    if raw.endswith(" ") or raw.endswith("/"):
        # Trailing blanks and slashes are stripped/normalised, never kept as-is.
        try:
            clean = validate_project_path(raw)
        except InvalidPath:
            return
        assert clean == clean.strip() and not clean.endswith("/") and ".." not in clean
        return
    with pytest.raises(InvalidPath):
        validate_project_path(raw)


# --- through the pipeline -----------------------------------------------------------
def _script(**replies: Any) -> dict[str, Any]:
    script = {
        "planner": [PLAN],
        "coder": [CODE],
        "tester": [TESTS],
        "reviewer": [NO_FINDINGS],
        "documenter": [README],
    }
    script.update(replies)
    return script


def _write(api: Api, name: str, script: dict[str, Any]) -> str:
    path = api.tmp_path / f"{name}.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    return str(path)


async def _run(api: Api, name: str, script: dict[str, Any]) -> dict[str, Any]:
    job_id = await api.create_job(api.alice, script=_write(api, name, script))
    return await api.wait(job_id, api.alice, timeout_s=120)


def _nothing_escaped(api: Api) -> None:
    for root in (api.tmp_path, api.tmp_path.parent):
        assert not list(root.glob("evil*")), list(root.glob("evil*"))


@pytest.mark.parametrize(
    "bad_path",
    ["../evil.py", "/tmp/evil.py", "C:\\evil.py", "evil\x00.py", ".GIT/evil.py", "Venv/evil.py"],
    ids=repr,
)
async def test_a_plan_with_a_hostile_path_fails_the_job_clearly(api: Api, bad_path: str) -> None:
    plan = {**PLAN, "files": [{"path": bad_path, "purpose": "x", "depends_on": []}]}
    body = await _run(api, "hostile-plan", _script(planner=[plan]))
    assert body["status"] == "failed", body
    error = json.dumps(body.get("error"))
    assert "path" in error.lower() or "plan" in error.lower(), error
    r = await api.client.get(f"/api/jobs/{body['job_id']}/files", headers=api.alice.headers)
    assert r.status_code in (200, 404)
    if r.status_code == 200:
        assert not r.json().get("files"), r.json()
    _nothing_escaped(api)


@pytest.mark.parametrize(("count", "why"), [(200, str(MAX_PLAN_FILES)), (5000, "too large")])
async def test_a_plan_with_too_many_files_fails_the_job_clearly(
    api: Api, count: int, why: str
) -> None:
    """Over the plan's file limit: refused by the plan; thousands: the reply itself is
    larger than the Planner's token limit allows."""
    files = [{"path": f"m{i}.py", "purpose": "x", "depends_on": []} for i in range(count)]
    body = await _run(api, f"many-files-{count}", _script(planner=[{**PLAN, "files": files}]))
    assert body["status"] == "failed", body
    assert why in json.dumps(body.get("error")), body.get("error")


async def test_hostile_test_file_paths_are_dropped_never_written(api: Api) -> None:
    tests = {
        "files": [
            *TESTS["files"],
            {"path": "../../evil_test.py", "content": "def test_x():\n    assert True\n"},
            {"path": "/tmp/evil_test.py", "content": "def test_y():\n    assert True\n"},
        ]
    }
    body = await _run(api, "hostile-tests", _script(tester=[tests]))
    assert body["status"] == "succeeded", body
    r = await api.client.get(f"/api/jobs/{body['job_id']}/files", headers=api.alice.headers)
    paths = json.dumps(r.json())
    assert "evil" not in paths and ".." not in paths
    assert not Path("/tmp/evil_test.py").exists()
    _nothing_escaped(api)


def _zip_entries_inside(data: bytes, tmp: Path) -> list[str]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    roots = {PurePosixPath(n).parts[0] for n in names}
    assert len(roots) == 1, roots
    for name in names:
        assert "\x00" not in name and "\\" not in name, name
        pure = PurePosixPath(name)
        assert not pure.is_absolute() and ".." not in pure.parts, name
        assert ":" not in pure.parts[0], name
    target = tmp / "extract"
    target.mkdir()
    archive.extractall(target)
    for path in target.rglob("*"):
        assert path.resolve().is_relative_to(target.resolve()), path
    return names


async def test_downloaded_zips_extract_inside_their_root(api: Api) -> None:
    """Even when the plan's name (the ZIP's folder) is hostile."""
    script = _script(planner=[{**PLAN, "name": "../../../etc/C:\\evil\x01/.."}])
    body = await _run(api, "zip-name", script)
    assert body["status"] == "succeeded", body
    job_id = body["job_id"]
    r = await api.client.get(f"/api/download/{job_id}", headers=api.alice.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    disposition = r.headers["content-disposition"]
    assert ".." not in disposition and "/" not in disposition.split("filename=")[1]
    names = _zip_entries_inside(r.content, api.tmp_path)
    assert any(n.endswith("/calc.py") for n in names), names
    # A revision's ZIP too.
    r = await api.client.post(
        f"/api/jobs/{job_id}/revise", headers=api.alice.headers, json={"instructions": "sub"}
    )
    assert r.status_code == 202, r.text
    await api.wait(job_id, api.alice, timeout_s=120)
    r = await api.client.get(f"/api/download/{job_id}?version=2", headers=api.alice.headers)
    if r.status_code == 200:
        (api.tmp_path / "v2").mkdir()
        _zip_entries_inside(r.content, api.tmp_path / "v2")


async def test_a_huge_generated_file_is_bounded(api: Api) -> None:
    """A provider that ignores max_tokens and sends megabytes of code: the job does not
    store or serve more than the sandbox's file-size limit allows."""
    huge = "```python\n" + "x = 1\n" * 3_000_000 + "def add(a, b):\n    return a + b\n```"
    body = await _run(api, "huge", _script(coder=[huge]))
    r = await api.client.get(f"/api/jobs/{body['job_id']}/files", headers=api.alice.headers)
    if body["status"] == "failed":
        assert "too large" in json.dumps(body.get("error")).lower(), body.get("error")
        return
    limit = api.settings.sandbox_max_file_mb * 1024 * 1024
    sizes = [f["size"] for f in r.json()["files"]]
    assert max(sizes) <= limit, sizes


# --- sandboxed code of one job against another's files -------------------------------
SMALL = SandboxLimits(wall_time_s=20, cpu_s=10, memory_mb=512, max_processes=32, max_file_mb=8)


async def test_a_job_cannot_read_another_jobs_files_or_write_shared_envs(
    tmp_path: Path,
) -> None:
    """Two runs at once (bwrap, as jobs run): B looks for A's work dir by its host path,
    in /tmp, and in the data dir; and tries to change the dependency environment both
    mount read-only."""
    token = secrets.token_hex(8)
    data_dir = tmp_path / "data"
    job_a = data_dir / "runs" / "atelier-run-a"
    job_b = data_dir / "runs" / "atelier-run-b"
    env = data_dir / "envs" / "py-shared"
    for directory in (job_a, job_b, env):
        directory.mkdir(parents=True)
    (job_a / "secret.py").write_text(f"SECRET = 'job-a-{token}'\n")
    (env / "site.py").write_text("# shared environment\n")
    holder = (
        "import time, pathlib\n"
        "pathlib.Path('ready').write_text('1')\n"
        "time.sleep(4)\n"
        "print('A still sees', open('secret.py').read().strip())\n"
    )
    probe = (
        "import glob, os, sys, time\n"
        "job_a, data_dir, env = sys.argv[1:4]\n"
        "time.sleep(1)\n"
        "for path in [os.path.join(job_a, 'secret.py'), os.path.join(job_a, 'ready')]:\n"
        "    try:\n"
        "        print('READ', path, open(path).read())\n"
        "    except OSError as exc:\n"
        "        print('HIDDEN', path, type(exc).__name__)\n"
        "found = glob.glob('/tmp/**/secret.py', recursive=True)\n"
        "found += glob.glob(data_dir + '/**/secret.py', recursive=True)\n"
        "found += glob.glob('/**/atelier-run-a*', recursive=False)\n"
        "print('FOUND', found)\n"
        "print('DATA', os.path.isdir(data_dir) and os.listdir(data_dir))\n"
        "try:\n"
        "    open(os.path.join(env, 'site.py'), 'a').write('pwned')\n"
        "    print('WROTE env')\n"
        "except OSError as exc:\n"
        "    print('ENV READ-ONLY', type(exc).__name__)\n"
    )
    a, b = await asyncio.gather(
        run_command(job_a, [sys.executable, "-c", holder], SMALL, "bwrap", read_only=[env]),
        run_command(
            job_b,
            [sys.executable, "-c", probe, str(job_a), str(data_dir), str(env)],
            SMALL,
            "bwrap",
            read_only=[env],
        ),
    )
    assert a.exit_code == 0 and f"job-a-{token}" in a.output, a.output
    assert b.exit_code == 0, b.output
    assert f"job-a-{token}" not in b.output
    assert "READ " not in b.output and b.output.count("HIDDEN") == 2, b.output
    assert "FOUND []" in b.output, b.output
    assert "ENV READ-ONLY" in b.output and "WROTE env" not in b.output, b.output
    assert env.joinpath("site.py").read_text() == "# shared environment\n"
