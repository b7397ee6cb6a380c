"""Users and their API keys.

An API key looks like ``atl_<prefix>_<secret>``: `prefix` (8 hex characters) is
stored and shown so a key can be recognised and found; `secret` comes from
``secrets.token_urlsafe(32)``. Only the SHA-256 of the whole key is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.domain.errors import Conflict, InvalidSpec, NotFound
from atelier.store.models import ApiKeyRow, UserRow
from atelier.store.types import utcnow

ROLES = ("user", "admin")
KEY_SCHEME = "atl"


def generate_api_key() -> tuple[str, str]:
    """A new key as ``(plaintext, prefix)``; the plaintext is ``atl_<prefix>_<secret>``."""
    prefix = secrets.token_hex(4)
    return f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def hash_api_key(plaintext: str) -> str:
    """The hex SHA-256 under which a key is stored."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def key_prefix(plaintext: str) -> str | None:
    """The prefix of a well-formed key, or None when `plaintext` is not shaped like one."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1]


def verify_api_key(plaintext: str, stored_hash: str) -> bool:
    """True when `plaintext` hashes to `stored_hash` (constant-time comparison)."""
    return hmac.compare_digest(hash_api_key(plaintext), stored_hash)


class UserRepo:
    """Users. Methods flush; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, name: str, role: str = "user") -> UserRow:
        """Add a user. Raises InvalidSpec for an empty name or unknown role, Conflict if taken."""
        name = name.strip()
        if not name or len(name) > 64:
            raise InvalidSpec("user name must be 1-64 characters")
        if role not in ROLES:
            raise InvalidSpec(f"role must be one of {ROLES}")
        if await self.get_by_name(name) is not None:
            raise Conflict(f"user {name!r} already exists")
        row = UserRow(name=name, role=role)
        self.session.add(row)
        try:
            await self.session.flush()
        except IntegrityError as err:  # lost a race with a concurrent create
            raise Conflict(f"user {name!r} already exists") from err
        return row

    async def get(self, user_id: str) -> UserRow:
        """The user with this id. Raises NotFound."""
        row = await self.session.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"user {user_id} not found")
        return row

    async def get_by_name(self, name: str) -> UserRow | None:
        """The user with this name, or None."""
        result = await self.session.execute(select(UserRow).where(UserRow.name == name))
        return result.scalar_one_or_none()

    async def list(self) -> Sequence[UserRow]:
        """All users, oldest first."""
        result = await self.session.execute(select(UserRow).order_by(UserRow.created_at))
        return result.scalars().all()

    async def set_active(self, user_id: str, active: bool) -> UserRow:
        """Enable or disable a user (a disabled user's keys and tokens stop working).

        Raises NotFound.
        """
        row = await self.get(user_id)
        row.active = active
        await self.session.flush()
        return row

    async def set_role(self, user_id: str, role: str) -> UserRow:
        """Make a user a "user" or an "admin". Raises NotFound, InvalidSpec for a bad role."""
        if role not in ROLES:
            raise InvalidSpec(f"role must be one of {ROLES}")
        row = await self.get(user_id)
        row.role = role
        await self.session.flush()
        return row

    async def count_active_admins(self) -> int:
        """How many enabled users have the admin role."""
        result = await self.session.scalar(
            select(func.count())
            .select_from(UserRow)
            .where(UserRow.role == "admin", UserRow.active.is_(True))
        )
        return result or 0


class ApiKeyRepo:
    """API keys, stored hashed. Methods flush; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, user_id: str, name: str = "") -> tuple[ApiKeyRow, str]:
        """A new key for the user: the stored row and the plaintext, which is not kept.

        Raises NotFound when the user does not exist.
        """
        await UserRepo(self.session).get(user_id)
        plaintext, prefix = generate_api_key()
        row = ApiKeyRow(user_id=user_id, name=name, prefix=prefix, hash=hash_api_key(plaintext))
        self.session.add(row)
        await self.session.flush()
        return row, plaintext

    async def authenticate(self, plaintext: str) -> UserRow | None:
        """The active user owning this unrevoked key, or None; records the key's use."""
        prefix = key_prefix(plaintext)
        if prefix is None:
            return None
        result = await self.session.execute(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
        key = result.scalar_one_or_none()
        if key is None or not verify_api_key(plaintext, key.hash) or key.revoked_at is not None:
            return None
        user = await self.session.get(UserRow, key.user_id)
        if user is None or not user.active:
            return None
        key.last_used_at = utcnow()
        await self.session.flush()
        return user

    async def list(self, user_id: str | None = None) -> Sequence[ApiKeyRow]:
        """Keys of one user, or of everyone when `user_id` is None; oldest first."""
        stmt = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
        if user_id is not None:
            stmt = stmt.where(ApiKeyRow.user_id == user_id)
        return (await self.session.execute(stmt)).scalars().all()

    async def get(self, key_id: str, *, user_id: str | None = None) -> ApiKeyRow:
        """The key with this id or (display) prefix, optionally only among `user_id`'s keys.

        Raises NotFound.
        """
        prefix = key_id.removeprefix(f"{KEY_SCHEME}_")
        stmt = select(ApiKeyRow).where(or_(ApiKeyRow.id == key_id, ApiKeyRow.prefix == prefix))
        if user_id is not None:
            stmt = stmt.where(ApiKeyRow.user_id == user_id)
        row = (await self.session.execute(stmt)).scalars().first()
        if row is None:
            raise NotFound(f"API key {key_id} not found")
        return row

    async def revoke(self, key_id: str, *, user_id: str | None = None) -> ApiKeyRow:
        """Revoke a key given its id or prefix (idempotent: the first revocation time stays).

        With `user_id`, only that user's keys are found. Raises NotFound.
        """
        row = await self.get(key_id, user_id=user_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await self.session.flush()
        return row
