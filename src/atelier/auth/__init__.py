"""Users, roles, API keys (stored hashed) and JWT access tokens."""

from atelier.auth.service import (
    Principal,
    authenticate_api_key,
    authenticate_bearer,
    is_admin,
    require_admin,
    token_for_api_key,
)
from atelier.auth.tokens import issue_token, jwt_secret, verify_token

__all__ = [
    "Principal",
    "authenticate_api_key",
    "authenticate_bearer",
    "is_admin",
    "issue_token",
    "jwt_secret",
    "require_admin",
    "token_for_api_key",
    "verify_token",
]
