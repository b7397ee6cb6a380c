"""Exchanging an API key for an access token."""

from __future__ import annotations

from fastapi import APIRouter

from atelier.api.deps import SessionDep, SettingsDep
from atelier.api.schemas import TokenOut, UserOut, ValidateKeyIn
from atelier.auth import token_for_api_key
from atelier.store import UserRepo

router = APIRouter(prefix="/api", tags=["auth"])


@router.post(
    "/validate-key",
    response_model=TokenOut,
    responses={401: {"description": "unknown or revoked key"}},
)
async def validate_key(body: ValidateKeyIn, session: SessionDep, settings: SettingsDep) -> TokenOut:
    """A bearer token for a valid API key (401 for an unknown or revoked key)."""
    token, expires_in, principal = await token_for_api_key(session, body.api_key.strip(), settings)
    user = await UserRepo(session).get(principal.user_id)
    return TokenOut(
        access_token=token,
        expires_in=expires_in,
        user=UserOut(
            id=user.id,
            name=user.name,
            role=user.role,
            active=user.active,
            created_at=user.created_at,
        ),
    )
