"""Users and API keys: keys are stored hashed, authenticate while valid, stop when revoked."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from atelier.domain.errors import Conflict, InvalidSpec, NotFound
from atelier.store import ApiKeyRepo, SessionMaker, UserRepo, session_scope
from atelier.store.models import ApiKeyRow


async def test_user_create_get_list_and_unique_name(sessionmaker: SessionMaker) -> None:
    async with session_scope(sessionmaker) as session:
        users = UserRepo(session)
        alice = await users.create("alice")
        root = await users.create("root", "admin")
        assert (await users.get(alice.id)).name == "alice"
        assert (await users.get_by_name("root")) is root
        assert await users.get_by_name("nobody") is None
        assert [u.name for u in await users.list()] == ["alice", "root"]
        assert root.is_admin and not alice.is_admin
    async with session_scope(sessionmaker) as session:
        with pytest.raises(Conflict):
            await UserRepo(session).create("alice")
    async with session_scope(sessionmaker) as session:
        with pytest.raises(InvalidSpec):
            await UserRepo(session).create("bob", "superuser")
        with pytest.raises(NotFound):
            await UserRepo(session).get("missing")


async def test_key_is_stored_as_sha256_never_plaintext(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    async with session_scope(sessionmaker) as session:
        row, plaintext = await ApiKeyRepo(session).create(user_id, "laptop")
    assert plaintext.startswith(f"atl_{row.prefix}_")
    assert len(plaintext) > 40
    async with session_scope(sessionmaker) as session:
        stored = (await session.execute(select(ApiKeyRow))).scalar_one()
    assert stored.hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in {stored.hash, stored.prefix, stored.name}
    assert stored.hash not in repr(stored) and plaintext not in repr(stored)


async def test_authenticate_returns_owner_and_records_use(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    async with session_scope(sessionmaker) as session:
        row, plaintext = await ApiKeyRepo(session).create(user_id)
        assert row.last_used_at is None
    async with session_scope(sessionmaker) as session:
        user = await ApiKeyRepo(session).authenticate(plaintext)
        assert user is not None and user.id == user_id
    async with session_scope(sessionmaker) as session:
        (key,) = await ApiKeyRepo(session).list(user_id)
        assert key.last_used_at is not None


@pytest.mark.parametrize("tamper", ["wrong-secret", "garbage", "empty", "other-prefix"])
async def test_authenticate_rejects_bad_keys(
    sessionmaker: SessionMaker, user_id: str, tamper: str
) -> None:
    async with session_scope(sessionmaker) as session:
        _, plaintext = await ApiKeyRepo(session).create(user_id)
    bad = {
        "wrong-secret": plaintext[:-4] + "AAAA",
        "garbage": "not a key",
        "empty": "",
        "other-prefix": "atl_00000000_" + plaintext.split("_", 2)[2],
    }[tamper]
    async with session_scope(sessionmaker) as session:
        assert await ApiKeyRepo(session).authenticate(bad) is None


async def test_revoked_key_and_disabled_user_stop_authenticating(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    async with session_scope(sessionmaker) as session:
        keys = ApiKeyRepo(session)
        first, first_plain = await keys.create(user_id, "one")
        _, second_plain = await keys.create(user_id, "two")
    async with session_scope(sessionmaker) as session:
        revoked = await ApiKeyRepo(session).revoke(first.display_prefix)
        assert revoked.id == first.id and revoked.revoked_at is not None
    async with session_scope(sessionmaker) as session:
        keys = ApiKeyRepo(session)
        assert await keys.authenticate(first_plain) is None
        assert await keys.authenticate(second_plain) is not None
        await UserRepo(session).set_active(user_id, False)
        assert await keys.authenticate(second_plain) is None


async def test_revoke_finds_by_id_or_prefix_and_respects_owner(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    async with session_scope(sessionmaker) as session:
        bob = await UserRepo(session).create("bob")
        row, _ = await ApiKeyRepo(session).create(user_id)
    async with session_scope(sessionmaker) as session:
        keys = ApiKeyRepo(session)
        with pytest.raises(NotFound):
            await keys.revoke(row.id, user_id=bob.id)
        with pytest.raises(NotFound):
            await keys.revoke("atl_ffffffff")
        assert (await keys.revoke(row.prefix)).id == row.id
        assert (await keys.revoke(row.id)).id == row.id  # idempotent


async def test_list_keys_of_one_user_or_all(sessionmaker: SessionMaker, user_id: str) -> None:
    async with session_scope(sessionmaker) as session:
        bob = await UserRepo(session).create("bob")
        keys = ApiKeyRepo(session)
        await keys.create(user_id, "a")
        await keys.create(bob.id, "b")
        assert [k.name for k in await keys.list(user_id)] == ["a"]
        assert len(await keys.list()) == 2
        with pytest.raises(NotFound):
            await keys.create("no-such-user")
