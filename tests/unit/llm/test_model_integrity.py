"""verify_pinned_file: a stamp of size, mtime_ns and inode after a full hash; a changed
file is hashed again; a file that no longer matches its pin is refused."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from atelier.domain.errors import LLMUnavailable, ModelCorrupt
from atelier.llm import model_integrity
from atelier.llm.model_integrity import Pin, integrity, stamp_path, verify_pinned_file

CONTENT = b"GGUF" + bytes(range(256)) * 64


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file `verify_pinned_file` hashes, in order."""
    seen: list[Path] = []
    real = model_integrity.sha256_file

    def counting(path: Path, on_bytes: object = None) -> str:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(model_integrity, "sha256_file", counting)
    return seen


@pytest.fixture
def model(tmp_path: Path) -> tuple[Path, Pin]:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(CONTENT)
    return path, Pin("tiny", hashlib.sha256(CONTENT).hexdigest(), len(CONTENT))


def _flip_byte(path: Path, offset: int = 100) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))


def test_a_verified_file_is_stamped_and_not_hashed_again(
    model: tuple[Path, Pin], hashes: list[Path]
) -> None:
    path, pin = model
    verify_pinned_file(path, pin)
    assert hashes == [path]
    stamp = json.loads(stamp_path(path).read_text())
    st = path.stat()
    assert stamp == {
        "sha256": pin.sha256,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "inode": st.st_ino,
        "device": st.st_dev,
    }
    for _ in range(5):
        verify_pinned_file(path, pin)
    assert hashes == [path]


def test_a_flipped_byte_is_refused_with_the_repair(
    model: tuple[Path, Pin], hashes: list[Path]
) -> None:
    path, pin = model
    verify_pinned_file(path, pin)
    _flip_byte(path)
    with pytest.raises(ModelCorrupt) as err:
        verify_pinned_file(path, pin)
    assert "atelier models pull tiny" in str(err.value.detail)
    assert "SHA-256" in str(err.value.detail)
    assert isinstance(err.value, LLMUnavailable)  # the API's 503, the runner's clear failure
    assert len(hashes) == 2
    assert not stamp_path(path).exists()
    # Refused every time, not only once.
    with pytest.raises(ModelCorrupt):
        verify_pinned_file(path, pin)
    assert integrity(path, pin) == "corrupt"


def test_a_touched_but_unchanged_file_is_hashed_once_more_then_trusted(
    model: tuple[Path, Pin], hashes: list[Path]
) -> None:
    path, pin = model
    verify_pinned_file(path, pin)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    verify_pinned_file(path, pin)
    verify_pinned_file(path, pin)
    assert len(hashes) == 2


def test_a_replaced_file_is_hashed_again(
    model: tuple[Path, Pin], hashes: list[Path], tmp_path: Path
) -> None:
    path, pin = model
    verify_pinned_file(path, pin)
    st = path.stat()
    other = tmp_path / "other.gguf"
    other.write_bytes(CONTENT[:-1] + b"\x00")
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime
    os.replace(other, path)  # a new inode
    with pytest.raises(ModelCorrupt):
        verify_pinned_file(path, pin)
    assert len(hashes) == 2


def test_a_wrong_size_is_refused_without_hashing(
    model: tuple[Path, Pin], hashes: list[Path]
) -> None:
    path, pin = model
    path.write_bytes(CONTENT + b"x")
    with pytest.raises(ModelCorrupt, match="bytes where"):
        verify_pinned_file(path, pin)
    assert hashes == []


def test_a_forged_stamp_does_not_vouch_for_another_hash(
    model: tuple[Path, Pin], hashes: list[Path]
) -> None:
    path, pin = model
    _flip_byte(path)
    st = path.stat()
    stamp_path(path).write_text(json.dumps({"sha256": "0" * 64, "size": st.st_size}))
    with pytest.raises(ModelCorrupt):
        verify_pinned_file(path, pin)
    assert len(hashes) == 1


def test_a_missing_file_names_the_pull(tmp_path: Path) -> None:
    pin = Pin("tiny", "0" * 64)
    with pytest.raises(LLMUnavailable, match="atelier models pull tiny") as err:
        verify_pinned_file(tmp_path / "gone.gguf", pin)
    assert not isinstance(err.value, ModelCorrupt)
    assert integrity(tmp_path / "gone.gguf", pin) == "missing"
