"""JWT access tokens: issue, verify, expiry, tampering, and the generated secret."""

from __future__ import annotations

import stat
import time

import jwt
import pytest
from pydantic import SecretStr

from atelier.auth import Principal, issue_token, jwt_secret, verify_token
from atelier.domain.errors import Unauthorized
from atelier.settings import Settings

ALICE = Principal(user_id="u-1", name="alice", role="user")


def test_issue_then_verify_returns_the_claims(settings: Settings) -> None:
    token, expires_in = issue_token(ALICE, settings)
    assert expires_in == 600
    claims = verify_token(token, settings)
    assert (claims["sub"], claims["name"], claims["role"]) == ("u-1", "alice", "user")
    assert claims["exp"] - claims["iat"] == 600 and claims["iss"] == "atelier"


def test_expired_token_is_unauthorized(settings: Settings) -> None:
    token, _ = issue_token(ALICE, settings, now=time.time() - 3600)
    with pytest.raises(Unauthorized, match="expired"):
        verify_token(token, settings)


def test_token_signed_with_another_secret_is_unauthorized(settings: Settings) -> None:
    other = settings.model_copy(update={"jwt_secret": SecretStr("x" * 48)})
    token, _ = issue_token(ALICE, other)
    with pytest.raises(Unauthorized, match="invalid"):
        verify_token(token, settings)


def test_tampered_and_unsigned_tokens_are_unauthorized(settings: Settings) -> None:
    token, _ = issue_token(ALICE, settings)
    header, payload, signature = token.split(".")
    forged = jwt.encode({"sub": "u-1", "role": "admin"}, "guess" * 8, algorithm="HS256")
    unsigned = jwt.encode(
        {"sub": "u-1", "iss": "atelier", "iat": 1, "exp": 2**40}, None, algorithm="none"
    )
    for bad in (f"{header}.{payload}.{signature[:-2]}AA", forged, unsigned, "garbage", ""):
        with pytest.raises(Unauthorized):
            verify_token(bad, settings)


def test_generated_secret_is_kept_private_and_reused(settings: Settings) -> None:
    first = jwt_secret(settings)
    path = settings.data_dir / "jwt_secret"
    assert path.read_text() == first and len(first) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert jwt_secret(settings) == first
    # a token survives a "restart" (new Settings object, same data dir)
    token, _ = issue_token(ALICE, settings)
    assert verify_token(token, Settings(data_dir=settings.data_dir))["sub"] == "u-1"


def test_configured_secret_wins_and_writes_no_file(settings: Settings) -> None:
    configured = settings.model_copy(update={"jwt_secret": SecretStr("s" * 40)})
    assert jwt_secret(configured) == "s" * 40
    assert not (settings.data_dir / "jwt_secret").exists()
