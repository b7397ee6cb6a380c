"""Exchanging an API key for an access token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from atelier.api.audit import record_failed_sign_in
from atelier.api.deps import ServicesDep, SessionDep, SettingsDep
from atelier.api.schemas import TokenOut, UserOut, ValidateKeyIn
from atelier.auth import token_for_api_key
from atelier.domain.errors import Unauthorized
from atelier.store import UserRepo

router = APIRouter(prefix="/api", tags=["auth"])


@router.post(
    "/validate-key",
    response_model=TokenOut,
    responses={401: {"description": "unknown or revoked key"}},
)
async def validate_key(
    body: ValidateKeyIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
) -> TokenOut:
    """A bearer token for a valid API key (401 for an unknown or revoked key; every
    refusal is written to the audit log as a failed sign-in, without the key)."""
    api_key = body.api_key.strip()
    try:
        token, expires_in, principal = await token_for_api_key(session, api_key, settings)
    except Unauthorized as exc:
        await record_failed_sign_in(
            services.sessionmaker, request, api_key, str(exc.detail), via="validate-key"
        )
        raise
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
