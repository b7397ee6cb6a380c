"""Turning API keys and bearer tokens into a Principal."""

from __future__ import annotations

import pytest

from atelier.auth import (
    Principal,
    authenticate_api_key,
    authenticate_bearer,
    is_admin,
    issue_token,
    require_admin,
    token_for_api_key,
)
from atelier.auth.keys import hash_api_key, looks_like_api_key, verify_api_key
from atelier.domain.errors import Forbidden, Unauthorized
from atelier.settings import Settings
from atelier.store import ApiKeyRepo, SessionMaker, UserRepo, session_scope


async def _user_with_key(sessionmaker: SessionMaker, role: str = "user") -> tuple[str, str]:
    async with session_scope(sessionmaker) as session:
        user = await UserRepo(session).create("alice", role)
        _, plaintext = await ApiKeyRepo(session).create(user.id, "test")
        return user.id, plaintext


def test_key_primitives() -> None:
    key = "atl_0123abcd_secret-part"
    assert looks_like_api_key(key) and not looks_like_api_key("eyJhbGciOi.x.y")
    assert verify_api_key(key, hash_api_key(key))
    assert not verify_api_key(key + "x", hash_api_key(key))


async def test_api_key_gives_its_owner(sessionmaker: SessionMaker) -> None:
    user_id, plaintext = await _user_with_key(sessionmaker)
    async with session_scope(sessionmaker) as session:
        principal = await authenticate_api_key(session, plaintext)
    assert principal == Principal(user_id=user_id, name="alice", role="user")
    assert not principal.is_admin and not is_admin(principal)
    with pytest.raises(Forbidden):
        require_admin(principal)
    async with session_scope(sessionmaker) as session:
        with pytest.raises(Unauthorized):
            await authenticate_api_key(session, plaintext[:-1] + "_")


async def test_bearer_accepts_jwt_and_api_key(
    sessionmaker: SessionMaker, settings: Settings
) -> None:
    user_id, plaintext = await _user_with_key(sessionmaker, "admin")
    async with session_scope(sessionmaker) as session:
        token, expires_in, principal = await token_for_api_key(session, plaintext, settings)
        assert expires_in == settings.jwt_ttl_s and principal.is_admin
        assert require_admin(principal) is principal
    async with session_scope(sessionmaker) as session:
        assert (await authenticate_bearer(session, token, settings)).user_id == user_id
        assert (await authenticate_bearer(session, plaintext, settings)).user_id == user_id


async def test_bearer_rejects_disabled_and_unknown_users(
    sessionmaker: SessionMaker, settings: Settings
) -> None:
    user_id, _ = await _user_with_key(sessionmaker)
    token, _ = issue_token(Principal(user_id, "alice", "user"), settings)
    ghost, _ = issue_token(Principal("ghost", "ghost", "admin"), settings)
    async with session_scope(sessionmaker) as session:
        await UserRepo(session).set_active(user_id, False)
    async with session_scope(sessionmaker) as session:
        with pytest.raises(Unauthorized, match="disabled"):
            await authenticate_bearer(session, token, settings)
        with pytest.raises(Unauthorized):
            await authenticate_bearer(session, ghost, settings)
        with pytest.raises(Unauthorized):
            await authenticate_bearer(session, "not-a-token", settings)


async def test_role_comes_from_the_database_not_the_token(
    sessionmaker: SessionMaker, settings: Settings
) -> None:
    user_id, _ = await _user_with_key(sessionmaker)
    forged_role, _ = issue_token(Principal(user_id, "alice", "admin"), settings)
    async with session_scope(sessionmaker) as session:
        principal = await authenticate_bearer(session, forged_role, settings)
    assert principal.role == "user"
