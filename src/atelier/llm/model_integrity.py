"""Is a pinned model file still the file whose SHA-256 was checked? Asked before loading.

Hashing a 1 GB file on every load would cost seconds, so a full hash leaves a stamp
beside the file (``<model>.verified.json``: the hash and the file's size, mtime_ns,
inode and device at the time). A load whose file still has the stamp's identity is
trusted without reading the file; any difference — a byte written since changes the
mtime, a replaced file the inode — and the file is hashed again before llama.cpp may
see it. A file that no longer matches its pin is refused with `ModelCorrupt`, which
names the repair.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from atelier.domain.errors import LLMUnavailable, ModelCorrupt

STAMP_SUFFIX = ".verified.json"
CHUNK = 8 * 1024 * 1024

Integrity = Literal["verified", "corrupt", "missing"]


@dataclass(frozen=True)
class Pin:
    """What a catalog model's file must be."""

    model_id: str
    sha256: str
    size_bytes: int | None = None

    @property
    def repair(self) -> str:
        return f"atelier models pull {self.model_id}"


def stamp_path(path: Path) -> Path:
    """The verification stamp beside a model file."""
    return path.with_name(path.name + STAMP_SUFFIX)


def sha256_file(path: Path, on_bytes: Callable[[int, int], None] | None = None) -> str:
    """The SHA-256 hex digest of a file; `on_bytes(done, total)` after every chunk."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if on_bytes is not None:
                on_bytes(done, total)
    return digest.hexdigest()


def _identity(st: os.stat_result) -> dict[str, int]:
    return {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "inode": st.st_ino,
        "device": st.st_dev,
    }


def write_stamp(path: Path, sha256: str, identity: os.stat_result | None = None) -> None:
    """Record that `path`, as it is now (or was at `identity`), hashed to `sha256`."""
    st = identity or path.stat()
    stamp = stamp_path(path)
    tmp = stamp.with_name(f".{stamp.name}.{uuid.uuid4().hex}")
    tmp.write_text(json.dumps({"sha256": sha256, **_identity(st)}) + "\n", encoding="utf-8")
    os.replace(tmp, stamp)


def remove_stamp(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        stamp_path(path).unlink()


def _stamp_holds(path: Path, st: os.stat_result, sha256: str) -> bool:
    try:
        stamp = json.loads(stamp_path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp == {"sha256": sha256, **_identity(st)}


def _corrupt(path: Path, pin: Pin, why: str) -> ModelCorrupt:
    return ModelCorrupt(
        f"local model {pin.model_id!r} ({path}) is corrupt: {why}, so it is not loaded. "
        f"Repair it with `{pin.repair}` (the bad file is replaced)"
    )


def verify_pinned_file(path: Path, pin: Pin) -> None:
    """Return when `path` is the file `pin` names; hash it only when its stamp is missing
    or no longer matches the file.

    Raises ModelCorrupt (naming `atelier models pull <id>`) when its size or SHA-256
    differs from the pin, LLMUnavailable when the file is missing.
    """
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise LLMUnavailable(f"local model file not found: {path}; run `{pin.repair}`") from exc
    if pin.size_bytes is not None and st.st_size != pin.size_bytes:
        remove_stamp(path)
        raise _corrupt(path, pin, f"{st.st_size} bytes where {pin.size_bytes} are pinned")
    if _stamp_holds(path, st, pin.sha256):
        return
    digest = sha256_file(path)
    if digest != pin.sha256:
        remove_stamp(path)
        raise _corrupt(path, pin, f"SHA-256 {digest[:16]}… is not the pinned {pin.sha256[:16]}…")
    # Stamped with the identity seen before hashing, and only if the file did not change
    # while it was read: a write during the hash must not be vouched for.
    if _identity(path.stat()) == _identity(st):
        write_stamp(path, digest, st)


def integrity(path: Path, pin: Pin) -> Integrity:
    """ "verified", "corrupt" or "missing" for `path`, as a load would find it (hashing
    only when the stamp does not match)."""
    try:
        verify_pinned_file(path, pin)
    except ModelCorrupt:
        return "corrupt"
    except LLMUnavailable:
        return "missing"
    return "verified"
