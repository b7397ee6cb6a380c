"""``atelier keys``: create, list and revoke API keys from the command line.

Each command migrates the configured database first (idempotent), so the very first
``atelier keys create --name admin --admin`` works on a fresh data directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import typer

from atelier.domain.errors import AtelierError
from atelier.runtime.revocations import announce_revocation
from atelier.settings import Settings
from atelier.store import (
    ApiKeyRepo,
    ApiKeyRow,
    AsyncSession,
    AuditRepo,
    UserRepo,
    create_engine,
    create_sessionmaker,
    migrate,
    session_scope,
)

keys_app = typer.Typer(help="Manage users and their API keys.", no_args_is_help=True)

# Who the audit log names for what is done here: whoever may run the CLI on the host.
CLI_ACTOR = "cli"


async def _audit_key(session: AsyncSession, action: str, key: ApiKeyRow) -> None:
    """An audit entry for a key, named by its display prefix (never the key)."""
    await AuditRepo(session).record(
        action,
        actor=CLI_ACTOR,
        target_type="key",
        target_id=key.id,
        target_label=f"{key.display_prefix} {key.name}".strip(),
        detail={"owner_id": key.user_id},
    )


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A committed-on-success session on the migrated database of `settings`."""
    url = settings.effective_database_url
    await migrate(url)
    engine = create_engine(url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


def _fail(err: AtelierError) -> typer.Exit:
    typer.echo(f"error: {err.detail}", err=True)
    return typer.Exit(code=1)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="User name (created when new).")],
    admin: Annotated[bool, typer.Option("--admin", help="Create the user as an admin.")] = False,
    key_name: Annotated[str, typer.Option("--key-name", help="A label for the key.")] = "cli",
) -> None:
    """Create a key for user NAME (and the user, when new). The key is printed once,
    alone on the last line.
    """
    try:
        lines = asyncio.run(_create(Settings(), name, admin, key_name))
    except AtelierError as err:
        raise _fail(err) from err
    for line in lines:
        typer.echo(line)


async def _create(settings: Settings, name: str, admin: bool, key_name: str) -> list[str]:
    async with _session(settings) as session:
        users = UserRepo(session)
        user = await users.get_by_name(name)
        lines = []
        if user is None:
            user = await users.create(name, "admin" if admin else "user")
            await AuditRepo(session).record(
                "user.created",
                actor=CLI_ACTOR,
                target_type="user",
                target_id=user.id,
                target_label=user.name,
                detail={"role": user.role},
            )
            lines.append(f"created user {user.name} ({user.role})")
        else:
            lines.append(f"user {user.name} exists ({user.role})")
            if admin and user.role != "admin":
                lines.append("note: --admin does not change the role of an existing user")
        row, plaintext = await ApiKeyRepo(session).create(user.id, key_name)
        await _audit_key(session, "key.created", row)
        lines.append(f"key id {row.id}, prefix {row.display_prefix}")
        lines.append("store this key now, it is not shown again:")
        lines.append(plaintext)
        return lines


@keys_app.command("list")
def list_keys(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's keys.")] = None,
) -> None:
    """List keys: id, prefix, user, label, created, last used, state."""
    try:
        rows = asyncio.run(_list(Settings(), user))
    except AtelierError as err:
        raise _fail(err) from err
    if not rows:
        typer.echo("no keys")
        return
    header = ("ID", "PREFIX", "USER", "NAME", "CREATED", "LAST USED", "STATE")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        typer.echo("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


async def _list(settings: Settings, user_name: str | None) -> list[tuple[str, ...]]:
    async with _session(settings) as session:
        users = {u.id: u.name for u in await UserRepo(session).list()}
        user_id = None
        if user_name is not None:
            user_id = next((i for i, n in users.items() if n == user_name), None)
            if user_id is None:
                return []
        return [
            (
                key.id,
                key.display_prefix,
                users.get(key.user_id, key.user_id),
                key.name or "-",
                key.created_at.strftime("%Y-%m-%d %H:%M"),
                key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never",
                "revoked" if key.revoked_at else "active",
            )
            for key in await ApiKeyRepo(session).list(user_id)
        ]


@keys_app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="Key id or prefix (atl_xxxxxxxx).")],
) -> None:
    """Revoke a key; it stops working at once. Exits 1 when no key matches."""
    try:
        prefix = asyncio.run(_revoke(Settings(), key))
    except AtelierError as err:
        raise _fail(err) from err
    typer.echo(f"revoked {prefix}")


async def _revoke(settings: Settings, key: str) -> str:
    async with _session(settings) as session:
        repo = ApiKeyRepo(session)
        already = (await repo.get(key)).revoked_at is not None
        row = await repo.revoke(key)
        if not already:
            await _audit_key(session, "key.revoked", row)
        prefix = row.display_prefix
    if settings.event_bus == "redis":
        # Running API replicas drop their cached principals at once (else within 10 s).
        try:
            await announce_revocation(settings.redis_url)
        except OSError as exc:
            typer.echo(f"warning: could not tell the API replicas over Redis: {exc}", err=True)
    return prefix
