"""Who is calling: API keys and bearer tokens turned into a `Principal`."""

from __future__ import annotations

from dataclasses import dataclass

from atelier.auth.keys import looks_like_api_key
from atelier.auth.tokens import issue_token, verify_token
from atelier.domain.errors import Forbidden, NotFound, Unauthorized
from atelier.settings import Settings
from atelier.store import AsyncSession
from atelier.store.models import UserRow
from atelier.store.users import ApiKeyRepo, UserRepo, key_prefix


@dataclass(frozen=True)
class Principal:
    """An authenticated user, as the rest of the service sees them."""

    user_id: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def from_user(cls, user: UserRow) -> Principal:
        return cls(user_id=user.id, name=user.name, role=user.role)


def is_admin(principal: Principal) -> bool:
    """True for an admin."""
    return principal.is_admin


def require_admin(principal: Principal) -> Principal:
    """`principal` when it is an admin. Raises Forbidden otherwise."""
    if not principal.is_admin:
        raise Forbidden("admin role required")
    return principal


async def authenticate_api_key(session: AsyncSession, api_key: str) -> Principal:
    """The owner of a valid API key (records the key's use; the caller commits).

    Raises Unauthorized for an unknown, malformed or revoked key or a disabled user.
    """
    user = await ApiKeyRepo(session).authenticate(api_key)
    if user is None:
        raise Unauthorized("invalid API key")
    return Principal.from_user(user)


async def authenticate_bearer(session: AsyncSession, token: str, settings: Settings) -> Principal:
    """The caller behind ``Authorization: Bearer <token>``: a JWT or an API key.

    For a JWT the user is looked up again, so disabling a user or changing their role
    takes effect before the token expires. Raises Unauthorized.
    """
    token = token.strip()
    if looks_like_api_key(token):
        return await authenticate_api_key(session, token)
    claims = verify_token(token, settings)
    try:
        user = await UserRepo(session).get(str(claims["sub"]))
    except NotFound as err:
        raise Unauthorized("unknown user") from err
    if not user.active:
        raise Unauthorized("user disabled")
    if "kid" in claims:
        # A token exchanged for an API key lives no longer than that key.
        try:
            key = await ApiKeyRepo(session).get(str(claims["kid"]), user_id=user.id)
        except NotFound as err:
            raise Unauthorized("API key of this token is gone") from err
        if key.revoked_at is not None:
            raise Unauthorized("API key of this token was revoked")
    return Principal.from_user(user)


async def token_for_api_key(
    session: AsyncSession, api_key: str, settings: Settings
) -> tuple[str, int, Principal]:
    """Exchange an API key for an access token: ``(token, expires_in_s, principal)``.

    Raises Unauthorized when the key is not valid.
    """
    principal = await authenticate_api_key(session, api_key)
    token, expires_in = issue_token(principal, settings, key_prefix=key_prefix(api_key))
    return token, expires_in, principal
