"""The security suite reuses the API suite's harness: the real app on SQLite and
PostgreSQL, real users, jobs run by the scripted provider in the real sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from api_harness import (
    api,
    api_postgres_url,
    api_sqlite_template,
    db_url,
    live,
)

__all__ = ["api", "api_postgres_url", "api_sqlite_template", "db_url", "live"]
