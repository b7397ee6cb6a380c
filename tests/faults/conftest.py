"""The fault suite reuses the API suite's harness (the real app on SQLite and
PostgreSQL, real users, scripted jobs in the real sandbox) and the chaos harness of
bench/chaos.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from api_harness import api_postgres_url, api_sqlite_template, db_url

__all__ = ["api_postgres_url", "api_sqlite_template", "db_url"]
