"""Job verdict.

A finished job says whether its code passes its tests: `verdict` (verified | failing
| untested) and its detail (counts, failing test names, reason). Both stay NULL for
jobs that finished before this revision: nothing was judged then.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal here (not imported from the models) so this revision never changes.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN on both engines: a nullable column needs no table rebuild.
    op.add_column("jobs", sa.Column("verdict", sa.String(length=16), nullable=True))
    op.add_column("jobs", sa.Column("verdict_detail", JSON, nullable=True))


def downgrade() -> None:
    # Not batch mode: rebuilding `jobs` on SQLite would drop the old table, and with
    # foreign keys on that deletes every job's events, checkpoints and versions.
    # SQLite >= 3.35 drops a column in place.
    op.drop_column("jobs", "verdict_detail")
    op.drop_column("jobs", "verdict")
