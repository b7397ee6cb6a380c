"""Templates: built-ins are seeded and protected; user templates are editable."""

from __future__ import annotations

from typing import Any

import pytest

from atelier.domain.errors import Conflict, Forbidden, InvalidSpec, NotFound
from atelier.store import SessionMaker, TemplateRepo, session_scope

BUILTINS: list[dict[str, Any]] = [
    {"id": "python-cli", "name": "Python CLI", "language": "python",
     "instructions": "Use argparse.", "tags": ["cli"]},
    {"id": "node-api", "name": "Node API", "language": "javascript", "description": "Express"},
]


async def test_seed_builtin_inserts_then_refreshes(sessionmaker: SessionMaker) -> None:
    async with session_scope(sessionmaker) as session:
        assert await TemplateRepo(session).seed_builtin(BUILTINS) == 2
    changed = [{**BUILTINS[0], "name": "Python command line"}]
    async with session_scope(sessionmaker) as session:
        assert await TemplateRepo(session).seed_builtin(changed) == 1
    async with session_scope(sessionmaker) as session:
        repo = TemplateRepo(session)
        cli = await repo.get("python-cli")
        assert cli.builtin and cli.name == "Python command line"
        assert cli.prompt_hint == "Use argparse." and cli.tags == ["cli"]
        assert [t.id for t in await repo.list(language="javascript")] == ["node-api"]
        with pytest.raises(InvalidSpec):
            await repo.seed_builtin([{"name": "no id"}])


async def test_user_templates_crud_and_builtins_protected(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    async with session_scope(sessionmaker) as session:
        repo = TemplateRepo(session)
        await repo.seed_builtin(BUILTINS)
        mine = await repo.create("my-flask", "My Flask", language="python",
                                 prompt_hint="Use blueprints.", created_by=user_id)
        assert not mine.builtin and mine.slug == "my-flask"
    async with session_scope(sessionmaker) as session:
        repo = TemplateRepo(session)
        with pytest.raises(Conflict):
            await repo.create("my-flask", "Again")
        with pytest.raises(InvalidSpec):
            await repo.create("Bad Slug!", "x")
        updated = await repo.update("my-flask", description="Flask with blueprints")
        assert updated.description == "Flask with blueprints"
        with pytest.raises(InvalidSpec):
            await repo.update("my-flask", builtin=True)
        with pytest.raises(Forbidden):
            await repo.update("python-cli", name="mine now")
        with pytest.raises(Forbidden):
            await repo.delete("python-cli")
        names = [t.id for t in await repo.list()]
        assert names[:2] == ["node-api", "python-cli"] and names[-1] == "my-flask"
        await repo.delete("my-flask")
        with pytest.raises(NotFound):
            await repo.get("my-flask")
    async with session_scope(sessionmaker) as session:
        # a user template with a built-in's slug is left alone by seeding
        repo = TemplateRepo(session)
        await repo.create("custom", "Custom")
        assert await repo.seed_builtin([{"id": "custom", "name": "Builtin"}]) == 0
        assert (await repo.get("custom")).name == "Custom"
