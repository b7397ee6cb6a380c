"""Project templates: built-ins seeded from the catalog, and ones users make."""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.domain.errors import Conflict, Forbidden, InvalidSpec, NotFound
from atelier.store.dialect import upsert_insert
from atelier.store.models import TemplateRow
from atelier.store.types import utcnow

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
EDITABLE = ("name", "description", "language", "prompt_hint", "suggested_files", "tags")


class TemplateRepo:
    """Templates. Methods flush; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, language: str | None = None) -> Sequence[TemplateRow]:
        """All templates (optionally of one language): built-ins first, then by name."""
        stmt = select(TemplateRow).order_by(TemplateRow.builtin.desc(), TemplateRow.name)
        if language is not None:
            stmt = stmt.where(TemplateRow.language == language)
        return (await self.session.execute(stmt)).scalars().all()

    async def get(self, slug: str) -> TemplateRow:
        """The template with this slug. Raises NotFound."""
        row = await self.session.get(TemplateRow, slug)
        if row is None:
            raise NotFound(f"template {slug} not found")
        return row

    async def create(
        self,
        slug: str,
        name: str,
        *,
        description: str = "",
        language: str = "python",
        prompt_hint: str = "",
        suggested_files: builtins.list[str] | None = None,
        tags: builtins.list[str] | None = None,
        created_by: str | None = None,
        builtin: bool = False,
    ) -> TemplateRow:
        """A new template. Raises InvalidSpec for a bad slug or empty name, Conflict if taken."""
        if not SLUG.match(slug):
            raise InvalidSpec("template slug must be lowercase letters, digits and '-'")
        if not name.strip():
            raise InvalidSpec("template name must not be empty")
        if await self.session.get(TemplateRow, slug) is not None:
            raise Conflict(f"template {slug} already exists")
        row = TemplateRow(
            id=slug, name=name.strip(), description=description, language=language,
            prompt_hint=prompt_hint, suggested_files=list(suggested_files or []),
            tags=list(tags or []), created_by=created_by, builtin=builtin,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def update(self, slug: str, **fields: Any) -> TemplateRow:
        """Change some of name, description, language, prompt_hint, suggested_files, tags.

        Raises NotFound, Forbidden for a built-in template, InvalidSpec for other fields.
        """
        row = await self.get(slug)
        if row.builtin:
            raise Forbidden(f"template {slug} is built in and cannot be changed")
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise InvalidSpec(f"cannot change {sorted(unknown)}")
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        await self.session.flush()
        return row

    async def delete(self, slug: str) -> None:
        """Delete a user template. Raises NotFound, Forbidden for a built-in one."""
        row = await self.get(slug)
        if row.builtin:
            raise Forbidden(f"template {slug} is built in and cannot be deleted")
        await self.session.delete(row)
        await self.session.flush()

    async def seed_builtin(self, templates: Sequence[dict[str, Any]]) -> int:
        """Insert or refresh built-in templates; returns how many were written.

        Each dict needs ``id`` and ``name``; ``instructions`` is accepted for
        ``prompt_hint`` (the catalog's name). A user template with the same slug is
        left alone. Raises InvalidSpec for a dict without id or name.
        """
        written = 0
        for data in templates:
            slug, name = data.get("id") or data.get("slug"), data.get("name")
            if not slug or not name:
                raise InvalidSpec("a built-in template needs an id and a name")
            values = {
                "name": name,
                "description": data.get("description", ""),
                "language": data.get("language", "python"),
                "prompt_hint": data.get("prompt_hint", data.get("instructions", "")),
                "suggested_files": list(data.get("suggested_files", [])),
                "tags": list(data.get("tags", [])),
            }
            row = await self.session.get(TemplateRow, slug)
            if row is None:
                # An upsert, not an add: API replicas starting together seed at once.
                now = utcnow()
                await self.session.execute(
                    upsert_insert(self.session, TemplateRow)
                    .values(id=slug, builtin=True, created_at=now, updated_at=now, **values)
                    .on_conflict_do_nothing(index_elements=["id"])
                )
            elif row.builtin:
                for field, value in values.items():
                    setattr(row, field, value)
                row.updated_at = utcnow()
            else:
                continue
            written += 1
        await self.session.flush()
        return written
