"""Shared fixtures: settings isolated in a temp data dir, scripted-LLM helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atelier.settings import Settings

# tests/data holds generated projects (their own tests included) that tests feed to the
# pipeline; they are run in the sandbox by those tests, never collected here.
collect_ignore = ["data"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings that never touch the user's real data dir or a real model."""
    return Settings(
        data_dir=tmp_path / "data",
        llm_provider="scripted",
        sandbox_timeout_s=60,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write a scripted-provider file and return its path."""
    counter = {"n": 0}

    def _write(script: dict[str, Any]) -> Path:
        counter["n"] += 1
        path = tmp_path / f"script{counter['n']}.json"
        path.write_text(json.dumps(script), encoding="utf-8")
        return path

    return _write
