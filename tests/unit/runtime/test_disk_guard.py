"""The disk reserve and the free-space check, on temp dirs (a full disk is simulated by
making statvfs report less room)."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from atelier.domain.errors import DiskFull
from atelier.runtime import disk_guard
from atelier.runtime.disk_guard import RESERVE_NAME, DiskGuard
from atelier.settings import Settings

MB = 1024 * 1024


def guard(*dirs: Path, reserve_mb: float = 1, min_free_mb: float = 2, **kw: Path) -> DiskGuard:
    return DiskGuard(list(dirs), reserve_bytes=int(reserve_mb * MB),
                     min_free_bytes=int(min_free_mb * MB), **kw)


def free_space(monkeypatch: pytest.MonkeyPatch, mb: float) -> None:
    """Make every disk report `mb` free."""
    monkeypatch.setattr(disk_guard, "free_bytes", lambda _path: int(mb * MB))


def test_the_reserve_is_made_once_and_given_up_on_release(tmp_path: Path) -> None:
    data = tmp_path / "data"  # not made yet: the guard makes it
    g = guard(data)
    g.ensure_reserve()
    reserve = data / RESERVE_NAME
    assert reserve.stat().st_size == MB
    assert not (data / f"{RESERVE_NAME}.partial").exists()
    mtime = reserve.stat().st_mtime_ns
    g.ensure_reserve()
    assert reserve.stat().st_mtime_ns == mtime  # kept, not rewritten
    assert g.release() == MB
    assert not reserve.exists()
    assert g.release() == 0  # nothing left to give up


def test_no_reserve_is_made_without_room_for_it_and_the_minimum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    g = guard(tmp_path)
    free_space(monkeypatch, 2.5)  # the minimum (2) fits, the reserve (1) besides does not
    g.ensure_reserve()
    g.ensure_reserve()
    assert not (tmp_path / RESERVE_NAME).exists()
    # Said once; stdout or stderr, whichever an earlier test configured logging for.
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count("disk_reserve_waiting_for_space") == 1
    free_space(monkeypatch, 3)
    g.ensure_reserve()
    assert (tmp_path / RESERVE_NAME).stat().st_size == MB


def test_a_reserve_the_disk_cannot_hold_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(disk_guard.os, "fsync", no_space)
    guard(tmp_path).ensure_reserve()  # logged, not raised
    assert list(tmp_path.iterdir()) == []


def test_the_check_counts_the_missing_reserve_as_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = guard(tmp_path, reserve_mb=1, min_free_mb=2)
    g.ensure_reserve()
    free_space(monkeypatch, 2)
    g.check()  # the reserve is there: the minimum is enough
    g.release()
    # The megabyte just freed is for recording failures, not for new work.
    free_space(monkeypatch, 2.5)
    with pytest.raises(DiskFull) as caught:
        g.check()
    assert caught.value.code == "disk_full"
    assert caught.value.detail == (
        f"no space left on the disk holding {tmp_path} (2.5 MB free, jobs need at least "
        "3.0 MB): free space on that disk, then retry the job"
    )
    free_space(monkeypatch, 3)
    g.check()


def test_zero_settings_turn_the_reserve_and_the_check_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = guard(tmp_path, reserve_mb=0, min_free_mb=0)
    g.ensure_reserve()
    assert list(tmp_path.iterdir()) == []
    free_space(monkeypatch, 0)
    g.check()


def test_a_failed_write_is_reported_on_the_guarded_dir_of_its_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    g = guard(data, database_dir=tmp_path)
    free_space(monkeypatch, 0)
    enospc = OSError(errno.ENOSPC, "No space left on device", str(data / "envs" / "x" / "f"))
    assert f"disk holding {data} (0.0 MB free" in str(g.error_for(enospc).detail)
    sqlite_full = OperationalError(
        "INSERT …", {}, sqlite3.OperationalError("database or disk is full"))
    # The database sits on the data dir's disk: the data dir is named.
    assert f"disk holding {data} (" in str(g.error_for(sqlite_full).detail)


def test_what_is_guarded_follows_the_settings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sqlite_elsewhere = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db' / 'atelier.db'}")
    # Same disk here: one reserve is enough, in the data dir.
    assert DiskGuard.from_settings(sqlite_elsewhere).directories == [data]
    api_only = DiskGuard.from_settings(sqlite_elsewhere, data_dir=False)
    assert api_only.directories == [tmp_path / "db"]
    postgres = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data, database_url="postgresql+asyncpg://u@db/atelier",
        disk_reserve_mb=4, disk_min_free_mb=16)
    worker = DiskGuard.from_settings(postgres)
    assert worker.directories == [data] and worker.database_dir is None
    assert (worker.reserve_bytes, worker.min_free_bytes) == (4 * MB, 16 * MB)
    assert DiskGuard.from_settings(postgres, data_dir=False).directories == []


def test_a_database_on_another_disk_gets_its_own_reserve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, db_dir = tmp_path / "data", tmp_path / "db"
    db_dir.mkdir()
    real_device = disk_guard._device
    monkeypatch.setattr(
        disk_guard, "_device",
        lambda path: -1 if path.is_relative_to(db_dir) else real_device(path))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data, disk_reserve_mb=1,
        database_url=f"sqlite+aiosqlite:///{db_dir / 'atelier.db'}")
    g = DiskGuard.from_settings(settings)
    assert g.directories == [data, db_dir]
    g.ensure_reserve()
    assert (data / RESERVE_NAME).exists() and (db_dir / RESERVE_NAME).exists()
    assert g.release() == 2 * MB
