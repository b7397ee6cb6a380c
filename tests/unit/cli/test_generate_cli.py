"""`atelier generate` as a user runs it: a real subprocess on the scripted provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.unit.pipeline.scripts import BUGGY_OPS, INIT, PLAN, script

ATELIER = [sys.executable, "-m", "atelier.cli"]


def atelier(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ATELIER_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run([*ATELIER, *args], capture_output=True, text=True, timeout=300,
                          env=environment, cwd=tmp_path)


def test_generate_json_summary_files_report_and_zip(
    tmp_path: Path, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    out, archive = tmp_path / "out", tmp_path / "project.zip"
    proc = atelier(["generate", "A calculator library", "--out", str(out), "--provider",
                    "scripted", "--script", str(write_script(script())), "--json",
                    "--zip", str(archive)], tmp_path)

    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert set(summary) >= {"job_id", "status", "files", "tests", "fix_rounds", "usage",
                            "duration_s"}
    assert summary["status"] == "succeeded"
    assert summary["tests"] == {"passed": 2, "failed": 0, "errors": 0}
    assert set(summary["usage"]) == {"calls", "prompt_tokens", "completion_tokens", "cost_usd"}
    assert summary["usage"]["calls"] == 6
    assert (out / "calc" / "ops.py").read_text().startswith("def add")
    report = json.loads((out / "ATELIER_REPORT.json").read_text())
    assert report["tests"]["passed"] == 2 and report["plan"]["name"] == "calc"
    assert (out / "ATELIER_REPORT.md").read_text().startswith("# Atelier report")
    names = zipfile.ZipFile(archive).namelist()
    assert "out/calc/ops.py" in names and "out/ATELIER_REPORT.json" in names


def test_settings_come_from_the_environment_and_flags_override_them(
    tmp_path: Path, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    path = write_script(script())
    proc = atelier(["generate", "calc", "--out", str(tmp_path / "o"), "--json",
                    "--max-fix-rounds", "0", "--no-review", "--no-docs"], tmp_path,
                   ATELIER_LLM_PROVIDER="scripted", ATELIER_LLM_SCRIPT=str(path))

    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["usage"]["calls"] == 4  # no reviewer, no documenter
    assert "README.md" not in summary["files"]


def test_a_job_that_cannot_complete_exits_non_zero_with_one_line(
    tmp_path: Path, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    hostile = {**PLAN, "files": [{"path": "/etc/passwd", "purpose": "x", "depends_on": []}]}
    proc = atelier(["generate", "calc", "--out", str(tmp_path / "o"), "--provider", "scripted",
                    "--script", str(write_script(script(planner=[hostile])))], tmp_path)

    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("atelier: job failed:") and "absolute" in last
    assert not (tmp_path / "o").exists()


def test_missing_provider_configuration_is_a_clear_error(tmp_path: Path) -> None:
    proc = atelier(["generate", "calc", "--out", str(tmp_path / "o"), "--provider", "openai"],
                   tmp_path, ATELIER_LLM_API_KEY="", OPENAI_API_KEY="")

    assert proc.returncode == 2
    assert "error:" in proc.stderr


def _verdict_run(
    tmp_path: Path, script_path: Path, *flags: str
) -> subprocess.CompletedProcess[str]:
    return atelier(["generate", "calc", "--out", str(tmp_path / "o"), "--provider", "scripted",
                    "--script", str(script_path), "--max-fix-rounds", "0", "--no-review",
                    "--no-docs", *flags], tmp_path)


def test_require_verified_exits_3_for_a_job_whose_tests_fail(
    tmp_path: Path, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    failing = write_script(script(coder=[INIT, BUGGY_OPS]))

    plain = _verdict_run(tmp_path, failing)
    required = _verdict_run(tmp_path, failing, "--require-verified")

    # Without the flag a finished job exits 0 even when its tests fail, but says so.
    assert plain.returncode == 0, plain.stderr
    last = plain.stderr.strip().splitlines()[-1]
    assert last == f"FAILING: 1 of 2 tests fails: tests.test_ops::test_add — {tmp_path / 'o'}"
    assert required.returncode == 3, required.stderr


def test_require_verified_exits_0_for_a_verified_job(
    tmp_path: Path, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    proc = _verdict_run(tmp_path, write_script(script()), "--require-verified")

    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"VERIFIED: all 2 tests pass — {tmp_path / 'o'}"


def test_json_summary_carries_the_verdict_and_require_verified_still_applies(
    tmp_path: Path, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    proc = _verdict_run(tmp_path, write_script(script(coder=[INIT, BUGGY_OPS])), "--json",
                        "--require-verified")

    assert proc.returncode == 3
    verdict = json.loads(proc.stdout)["verdict"]
    assert verdict["verdict"] == "failing"
    assert verdict["failing_tests"] == ["tests.test_ops::test_add"]
    assert (verdict["passed"], verdict["failed"]) == (1, 1)


def test_help_documents_the_exit_codes(tmp_path: Path) -> None:
    proc = atelier(["generate", "--help"], tmp_path, COLUMNS="200")

    assert proc.returncode == 0
    assert "--require-verified" in proc.stdout
    assert "3 --require-verified and the verdict is failing or untested" in proc.stdout
