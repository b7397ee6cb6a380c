"""Room to fail cleanly when the disk of the data dir fills up.

A job that meets a full disk must still be able to write that it failed — a few
database pages — or it stays `running` until space comes back. So a reserve file
(`ATELIER_DISK_RESERVE_MB`) is kept allocated in each guarded directory: the data dir,
and the SQLite database's directory when that is another disk. When a write fails
for want of space the runner deletes the reserves (`release`), which gives it the
room to record the failure; they are made again (`ensure_reserve`) once the disk has
room for them and for `ATELIER_DISK_MIN_FREE_MB` besides.

`check` is the cheap pre-flight (one statvfs per directory): below the minimum —
the missing part of the reserve counted as used, so the room freed for recording
failures never lets new work in — it raises `DiskFull` with what to do.
PostgreSQL deployments guard the data dir only (dependency caches, environments).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from atelier.domain.errors import DiskFull
from atelier.observability.logging import get_logger
from atelier.settings import Settings
from atelier.store import sqlite_file

log = get_logger("atelier.disk")

RESERVE_NAME = ".atelier-disk-reserve"
_MB = 1024 * 1024
_CHUNK = _MB


@dataclass(frozen=True)
class DiskSpace:
    """The free space of one guarded directory's disk, and what jobs need there."""

    directory: Path
    free_bytes: int  # available to this process (statvfs f_bavail)
    needed_bytes: int  # the minimum, plus whatever of the reserve is not allocated

    @property
    def short(self) -> bool:
        return self.free_bytes < self.needed_bytes


def _existing(path: Path) -> Path:
    """`path` or its nearest existing ancestor (a data dir not made yet is on its disk)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def free_bytes(path: Path) -> int:
    stats = os.statvfs(_existing(path))
    return stats.f_bavail * stats.f_frsize


def _device(path: Path) -> int:
    return _existing(path).stat().st_dev


def _mb(n: int) -> str:
    return f"{n / _MB:.1f} MB"


class DiskGuard:
    """The reserve files and the free-space check of a set of directories."""

    def __init__(
        self,
        directories: Sequence[Path],
        *,
        reserve_bytes: int,
        min_free_bytes: int,
        database_dir: Path | None = None,
    ) -> None:
        self.directories = list(directories)
        self.reserve_bytes = max(0, reserve_bytes)
        self.min_free_bytes = max(0, min_free_bytes)
        # Where a failed database write is reported (SQLite only).
        self.database_dir = database_dir
        # A reserve that cannot be made is said once, not at every job start and
        # periodic check while that lasts.
        self._waiting_logged = False

    @classmethod
    def from_settings(cls, settings: Settings, *, data_dir: bool = True) -> DiskGuard:
        """The data dir (unless `data_dir` is False: an API process whose jobs run on
        workers) and the SQLite database's directory when it is on another disk."""
        directories = [settings.data_dir] if data_dir else []
        database = sqlite_file(settings.effective_database_url)
        database_dir = database.parent if database is not None else None
        if database_dir is not None and not any(
            _device(database_dir) == _device(d) for d in directories
        ):
            directories.append(database_dir)
        return cls(
            directories,
            reserve_bytes=int(settings.disk_reserve_mb * _MB),
            min_free_bytes=int(settings.disk_min_free_mb * _MB),
            database_dir=database_dir,
        )

    # --- the check ------------------------------------------------------------------
    def _reserved(self, directory: Path) -> int:
        try:
            return min(self.reserve_bytes, (directory / RESERVE_NAME).stat().st_size)
        except OSError:
            return 0

    def space(self, directory: Path) -> DiskSpace:
        missing = self.reserve_bytes - self._reserved(directory)
        return DiskSpace(directory, free_bytes(directory), self.min_free_bytes + missing)

    def check(self) -> None:
        """Raise DiskFull when a guarded directory's disk has less room than jobs need."""
        if self.min_free_bytes == 0:
            return
        for directory in self.directories:
            space = self.space(directory)
            if space.short:
                raise self._error(space)

    def error_for(self, exc: BaseException) -> DiskFull:
        """The DiskFull to record for a write that failed with `exc` (ENOSPC, SQLite's
        "database or disk is full"): it names the directory whose disk is full."""
        return self._error(self.space(self._directory_of(exc)))

    def _directory_of(self, exc: BaseException) -> Path:
        """The guarded directory on the disk the failed write went to (the file an
        OSError names, else the SQLite database); the written file's own directory
        when no guarded one shares its disk."""
        failed: Path | None = None
        current: BaseException | None = exc
        while current is not None and failed is None:
            if isinstance(current, OSError) and current.filename:
                failed = Path(os.fsdecode(current.filename)).parent
            current = current.__cause__ or current.__context__
        failed = failed or self.database_dir
        if failed is None:
            return self.directories[0] if self.directories else Path(".")
        with contextlib.suppress(OSError):
            for directory in self.directories:
                if _device(directory) == _device(failed):
                    return directory
        return failed

    def _error(self, space: DiskSpace) -> DiskFull:
        return DiskFull(
            f"no space left on the disk holding {space.directory} "
            f"({_mb(space.free_bytes)} free, jobs need at least {_mb(space.needed_bytes)}): "
            "free space on that disk, then retry the job"
        )

    # --- the reserve ----------------------------------------------------------------
    def release(self) -> int:
        """Delete the reserve files (a write just failed for want of space); returns the
        bytes freed."""
        freed = 0
        for directory in self.directories:
            path = directory / RESERVE_NAME
            size = self._reserved(directory)
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("disk_reserve_release_failed", path=str(path), error=str(exc))
                continue
            freed += size
            log.warning("disk_reserve_released", path=str(path), freed_mb=round(size / _MB, 1))
        return freed

    def ensure_reserve(self) -> None:
        """Make the missing reserve files where the disk has room for them and for the
        minimum besides (a shortage is logged once). Blocking: run it in a thread."""
        if self.reserve_bytes == 0:
            return
        for directory in self.directories:
            if self._reserved(directory) >= self.reserve_bytes:
                continue
            space = self.space(directory)
            if space.short:
                if not self._waiting_logged:
                    self._waiting_logged = True
                    log.warning("disk_reserve_waiting_for_space", directory=str(directory),
                                free_mb=round(space.free_bytes / _MB, 1),
                                needed_mb=round(space.needed_bytes / _MB, 1))
                continue
            try:
                self._write_reserve(directory)
            except OSError as exc:
                if not self._waiting_logged:
                    self._waiting_logged = True
                    log.warning("disk_reserve_create_failed", directory=str(directory),
                                error=str(exc))
                continue
            self._waiting_logged = False
            log.info("disk_reserve_created", path=str(directory / RESERVE_NAME),
                     size_mb=round(self.reserve_bytes / _MB, 1),
                     free_mb=round(free_bytes(directory) / _MB, 1))

    def _write_reserve(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f"{RESERVE_NAME}.partial"
        try:
            with partial.open("wb") as out:
                left = self.reserve_bytes
                while left > 0:
                    # Random bytes, not zeros: a compressing file system (ZFS, btrfs)
                    # would store zeros in no space at all.
                    chunk = os.urandom(min(_CHUNK, left))
                    out.write(chunk)
                    left -= len(chunk)
                out.flush()
                os.fsync(out.fileno())
            # Renamed once whole: a reserve half-written by a full disk never counts.
            partial.replace(directory / RESERVE_NAME)
        finally:
            partial.unlink(missing_ok=True)
