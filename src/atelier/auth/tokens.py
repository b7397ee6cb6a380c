"""JWT access tokens (HS256, PyJWT).

The signing secret is ``settings.jwt_secret``; when unset, one is generated on first
use and kept in ``<data_dir>/jwt_secret`` (mode 0600), so tokens survive restarts.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

import jwt

from atelier.domain.errors import Unauthorized
from atelier.settings import Settings

ALGORITHM = "HS256"
ISSUER = "atelier"
SECRET_FILE = "jwt_secret"


class TokenSubject(Protocol):
    """Whom a token is for: `Principal` and `UserRow` both fit."""

    @property
    def user_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


def jwt_secret(settings: Settings) -> str:
    """The signing secret: from settings, else read from (or created in) the data dir.

    Creation is race-safe between processes: the file appears atomically, complete,
    with mode 0600. Raises OSError when the data dir cannot be written.
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir / SECRET_FILE
    existing = _read_secret(path)
    if existing:
        return existing
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_name(f".{SECRET_FILE}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secret)
        try:
            os.link(tmp, path)  # fails if another process got there first
        except FileExistsError:
            return _read_secret(path) or secret
        return secret
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _read_secret(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def issue_token(
    user: TokenSubject,
    settings: Settings,
    *,
    ttl_s: int | None = None,
    now: float | None = None,
    key_prefix: str | None = None,
) -> tuple[str, int]:
    """A signed access token for `user` and its lifetime in seconds (`settings.jwt_ttl_s`).

    Claims: ``sub`` (user id), ``name``, ``role``, ``iat``, ``exp``, ``iss``, ``jti``,
    and ``kid`` (the prefix of the API key it was exchanged for, when given): revoking
    that key ends the token too.
    """
    ttl = settings.jwt_ttl_s if ttl_s is None else ttl_s
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user.user_id,
        "name": user.name,
        "role": user.role,
        "iat": issued,
        "exp": issued + ttl,
        "iss": ISSUER,
        "jti": uuid.uuid4().hex,
    }
    if key_prefix is not None:
        claims["kid"] = key_prefix
    return jwt.encode(claims, jwt_secret(settings), algorithm=ALGORITHM), ttl


def verify_token(token: str, settings: Settings) -> dict[str, Any]:
    """The claims of a valid token. Raises Unauthorized when it is expired, not signed
    with our secret, not HS256, not ours (issuer), or malformed.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwt_secret(settings),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as err:
        raise Unauthorized("token expired") from err
    except jwt.InvalidTokenError as err:
        raise Unauthorized("invalid token") from err
    return claims
