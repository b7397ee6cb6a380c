"""Writing the audit log from the API: who did what to what, from where.

Entries name their subject by id and a short label, never by secret: an API key by
its display prefix (``atl_1a2b3c4d``), never the key or a token. Failed sign-ins with
a bad API key on ordinary requests are written at most once per client IP per
`SignInFailures.window_s`, so a flood of bad keys cannot flood the table; the entry
counts the attempts left unwritten since the previous one.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import HTTPConnection

from atelier.auth import Principal
from atelier.store import AsyncSession, AuditRepo, SessionMaker, session_scope
from atelier.store.users import key_prefix

MAX_IPS = 10_000
JOB_LABEL_CHARS = 80


def client_ip(conn: HTTPConnection | None) -> str | None:
    """The peer address of a request (what the per-IP rate limit uses too)."""
    if conn is None or conn.client is None:
        return None
    return conn.client.host


def job_label(prompt: str) -> str:
    """A short label of a job: the start of its prompt, on one line."""
    line = " ".join(prompt.split())
    return line if len(line) <= JOB_LABEL_CHARS else line[: JOB_LABEL_CHARS - 1] + "…"


async def audit(
    session: AsyncSession,
    action: str,
    actor: Principal,
    conn: HTTPConnection | None = None,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    target_label: str | None = None,
    **detail: Any,
) -> None:
    """Append an entry in the request's session (it commits with the change it records)."""
    await AuditRepo(session).record(
        action,
        actor=actor.name,
        actor_id=actor.user_id,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        ip=client_ip(conn),
        detail=detail,
    )


def credential_hint(credential: str) -> dict[str, str]:
    """What may be kept of a credential that failed: the prefix of a key-shaped one."""
    prefix = key_prefix(credential)
    return {"key_prefix": f"atl_{prefix}"} if prefix is not None else {}


class SignInFailures:
    """Which client IPs had a failed sign-in written lately, and how many went unwritten."""

    def __init__(self, window_s: float = 60.0, max_ips: int = MAX_IPS) -> None:
        self.window_s = window_s
        self.max_ips = max_ips
        self._last: dict[str, tuple[float, int]] = {}

    def admit(self, ip: str, now: float | None = None) -> int | None:
        """None when this IP's failure must not be written (one was, within the window);
        else the number of its failures left unwritten since the last entry."""
        now = time.monotonic() if now is None else now
        last = self._last.get(ip)
        if last is not None and now - last[0] < self.window_s:
            self._last[ip] = (last[0], last[1] + 1)
            return None
        if len(self._last) >= self.max_ips:
            self._sweep(now)
        self._last[ip] = (now, 0)
        return last[1] if last is not None else 0

    def _sweep(self, now: float) -> None:
        self._last = {ip: v for ip, v in self._last.items() if now - v[0] < self.window_s}
        if len(self._last) >= self.max_ips:  # all recent: forget the oldest half
            keep = sorted(self._last.items(), key=lambda kv: kv[1][0])[self.max_ips // 2 :]
            self._last = dict(keep)


async def record_failed_sign_in(
    sessionmaker: SessionMaker,
    conn: HTTPConnection,
    credential: str,
    reason: str,
    *,
    via: str,
    limiter: SignInFailures | None = None,
) -> None:
    """Append a ``signin.failed`` entry in its own session (the request's is rolled back
    with the error). With `limiter`, at most one entry per client IP per window."""
    ip = client_ip(conn)
    detail: dict[str, Any] = {"via": via, "reason": reason, **credential_hint(credential)}
    if limiter is not None:
        unwritten = limiter.admit(ip or "unknown")
        if unwritten is None:
            return
        if unwritten:
            detail["unwritten_since_last"] = unwritten
    async with session_scope(sessionmaker) as session:
        await AuditRepo(session).record(
            "signin.failed", actor="anonymous", ip=ip, target_type="key", detail=detail
        )
