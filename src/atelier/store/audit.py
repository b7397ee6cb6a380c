"""The audit log: append and read, nothing else (entries are never changed or deleted)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.store.models import AuditRow

LABEL_MAX = 200


class AuditRepo:
    """Audit entries. Methods flush; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        action: str,
        *,
        actor: str,
        actor_id: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        target_label: str | None = None,
        ip: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditRow:
        """Append one entry. The caller must never pass secrets (key material, tokens)."""
        row = AuditRow(
            action=action[:48],
            actor=actor[:64],
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id[:64] if target_id else target_id,
            target_label=target_label[:LABEL_MAX] if target_label else target_label,
            ip=ip[:64] if ip else ip,
            detail=detail or {},
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def list(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[Sequence[AuditRow], int]:
        """Entries newest first, filtered by actor (name or user id), action (exact, or a
        prefix ending in ``.``: ``key.``) and time; and how many match in all."""
        conditions: builtins.list[Any] = []
        if actor is not None:
            conditions.append(or_(AuditRow.actor == actor, AuditRow.actor_id == actor))
        if action is not None:
            if action.endswith("."):
                conditions.append(AuditRow.action.startswith(action, autoescape=True))
            else:
                conditions.append(AuditRow.action == action)
        if since is not None:
            conditions.append(AuditRow.ts >= since)
        total = await self.session.scalar(
            select(func.count()).select_from(AuditRow).where(*conditions)
        )
        rows = (
            (
                await self.session.execute(
                    select(AuditRow)
                    .where(*conditions)
                    .order_by(AuditRow.ts.desc(), AuditRow.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            )
            .scalars()
            .all()
        )
        return rows, total or 0
