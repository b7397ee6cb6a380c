"""Which errors mean "the database cannot serve right now" (the API's 503), and which
mean "the disk is full" (507, a job's `disk_full`)."""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.exc import IntegrityError, OperationalError

from atelier.store import database_unavailable, disk_full


def test_outages_are_told_from_bugs() -> None:
    full = OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))
    assert database_unavailable(full)
    assert database_unavailable(ConnectionRefusedError(111, "Connection refused"))
    wrapped = RuntimeError("while saving")
    wrapped.__cause__ = ConnectionResetError()
    assert database_unavailable(wrapped)
    assert not database_unavailable(IntegrityError("INSERT …", {}, Exception("unique")))
    assert not database_unavailable(ValueError("a bug"))
    assert not database_unavailable(FileNotFoundError("x"))


def test_a_full_disk_is_told_from_other_failures() -> None:
    full = OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))
    assert disk_full(full)
    assert disk_full(OSError(errno.ENOSPC, "No space left on device", "/data/f"))
    assert disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    coded = sqlite3.OperationalError("some wording")
    coded.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    wrapped = RuntimeError("while recording a call")
    wrapped.__cause__ = coded
    assert disk_full(wrapped)
    assert not disk_full(OperationalError("SELECT …", {}, sqlite3.OperationalError("locked")))
    assert not disk_full(ConnectionRefusedError(111, "Connection refused"))
    assert not disk_full(FileNotFoundError(errno.ENOENT, "x"))
