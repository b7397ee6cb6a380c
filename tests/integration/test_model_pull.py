"""The real local model state on this machine: `atelier models list --json` and `check`.

Pulling for real takes ~10-30 s and ~0.5-1.1 GB from PyPI, so these tests do not pull:
they report on what `atelier models pull` (or `make setup`) installed in the default
data dir, and skip, saying why, when a model is not there.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from atelier.cli.models import models_app
from atelier.llm.catalog import CATALOG, installed_path, is_installed, marker_path
from atelier.settings import Settings, get_settings

pytestmark = pytest.mark.integration

QWEN = "qwen2.5-coder-0.5b"


@pytest.fixture
def settings() -> Iterator[Settings]:
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_list_json_reports_the_real_installed_state(settings: Settings) -> None:
    result = CliRunner().invoke(models_app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert set(rows) == set(CATALOG)
    for model_id, model in CATALOG.items():
        row = rows[model_id]
        assert row["installed"] is is_installed(model, settings)
        assert row["default"] is (model_id == settings.local_default_model)
        if row["installed"] and not model.is_bundled:
            path = installed_path(model, settings)
            assert row["path"] == str(path)
            assert path.stat().st_size == model.size_bytes == row["size_bytes"]
            assert marker_path(path).read_text().strip() == model.sha256


@pytest.mark.slow
def test_check_runs_one_humaneval_problem_on_the_installed_qwen(settings: Settings) -> None:
    if not is_installed(CATALOG[QWEN], settings):
        pytest.skip(f"{QWEN} is not installed in {settings.models_dir}: atelier models pull {QWEN}")
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed: pip install 'atelier[local]'")
    result = CliRunner().invoke(models_app, ["check", QWEN, "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "HumanEval/0" in result.output
    assert f"{QWEN}: " in result.output and "tokens/s" in result.output
