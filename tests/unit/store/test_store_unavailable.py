"""Which errors mean "the database cannot serve right now" (the API's 503)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import IntegrityError, OperationalError

from atelier.store import database_unavailable


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
