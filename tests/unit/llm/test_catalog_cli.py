"""`atelier models` on fake part wheels: pull, list --json, rm, and failure exits."""

from __future__ import annotations

import functools
import hashlib
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atelier.cli import models as models_cli
from atelier.llm.catalog import CATALOG, CatalogModel
from atelier.llm.model_pull import pull_model
from atelier.settings import Settings, get_settings

FAKE_ID = "fake-cli-model"


class WheelShelf:
    """A `fetch_wheels` stand-in that writes one tiny part wheel per requirement."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __call__(self, requirements: Sequence[str], dest: Path) -> list[Path]:
        wheel = dest / "fake_cli_part1-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr("fake_cli_part1/data/part01.bin", self.content)
        return [wheel]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> CatalogModel:
    content = b"GGUF" + bytes(range(256)) * 40
    model = CatalogModel(
        id=FAKE_ID,
        file_name="fake-cli-model.gguf",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        licence="Apache-2.0",
        source="test wheel",
        context_length=2048,
        notes="",
        packages=("fake-cli-part1==1.0",),
        part_paths=("fake_cli_part1/data/part01.bin",),
    )
    monkeypatch.setitem(CATALOG, FAKE_ID, model)
    return model


@pytest.fixture
def shelf(fake_model: CatalogModel) -> WheelShelf:
    return WheelShelf(b"GGUF" + bytes(range(256)) * 40)


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("ATELIER_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_cli_pull_then_list_json_then_rm(
    cli_settings: Settings, shelf: WheelShelf, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models_cli, "pull_model", functools.partial(pull_model, fetch_wheels=shelf))
    runner = CliRunner()
    result = runner.invoke(models_cli.models_app, ["pull", FAKE_ID])
    assert result.exit_code == 0, result.output
    assert "pulled and verified" in result.output
    again = runner.invoke(models_cli.models_app, ["pull", FAKE_ID])
    assert "already installed" in again.output

    listed = json.loads(runner.invoke(models_cli.models_app, ["list", "--json"]).output)
    row = next(r for r in listed if r["id"] == FAKE_ID)
    assert row["installed"] is True
    assert row["path"] == str(cli_settings.models_dir / "fake-cli-model.gguf")

    assert runner.invoke(models_cli.models_app, ["rm", FAKE_ID]).exit_code == 0
    listed = json.loads(runner.invoke(models_cli.models_app, ["list", "--json"]).output)
    assert next(r for r in listed if r["id"] == FAKE_ID)["installed"] is False


def test_cli_pull_failure_exits_non_zero_with_one_line(
    cli_settings: Settings,
    shelf: WheelShelf,
    fake_model: CatalogModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(CATALOG, FAKE_ID, replace(fake_model, sha256="0" * 64))
    monkeypatch.setattr(models_cli, "pull_model", functools.partial(pull_model, fetch_wheels=shelf))
    result = CliRunner().invoke(models_cli.models_app, ["pull", FAKE_ID])
    assert result.exit_code == 1
    assert "does not match the pinned" in result.output
    assert result.output.strip().count("\n") == 0


def test_cli_rm_of_bundled_model_explains(cli_settings: Settings) -> None:
    result = CliRunner().invoke(models_cli.models_app, ["rm", "smollm2-135m"])
    assert result.exit_code == 1
    assert "bundled" in result.output
