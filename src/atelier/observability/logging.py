"""structlog setup: JSON in production, pretty console in a terminal, secrets redacted.

Request id, user and job id travel in contextvars (`bind_context`), so every log line
written while serving a request or running a job carries them without being passed.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

from atelier.settings import Settings

REDACTED = "***"
# Keys whose values are secrets whatever they look like.
_SECRET_KEY = re.compile(
    r"(api[_-]?key|token|secret|password|passwd|authorization|cookie|credential)", re.I
)
# Secrets embedded in free text: bearer tokens, JWTs, our API keys, provider keys.
_SECRET_TEXT = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    re.compile(r"\b(atl|sk|sk-ant|pk)[_-][A-Za-z0-9_-]{12,}"),
    re.compile(r"(?i)((?:api_key|token|secret|password)=)[^&\s]+"),
)


# One cheap search decides whether the substitutions are needed at all (most strings
# logged are paths, ids and messages without secrets).
_MAYBE_SECRET = re.compile(
    r"(?i)bearer\s|eyJ|\b(?:atl|sk|sk-ant|pk)[_-]|(?:api_key|token|secret|password)="
)
# Fields the service itself fills with non-secret values.
_SAFE_KEYS = frozenset(
    {
        "timestamp",
        "level",
        "logger",
        "method",
        "route",
        "status",
        "duration_ms",
        "request_id",
        "user_id",
        "job_id",
        "seq",
        "step",
        "attempt",
    }
)


def redact_text(text: str) -> str:
    """The text with anything that looks like a credential replaced by ``***``."""
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern in _SECRET_TEXT:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def _redact_value(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key) and value not in (None, "", REDACTED):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no secret reaches a log sink."""
    for key in list(event_dict):
        if key not in _SAFE_KEYS:
            event_dict[key] = _redact_value(key, event_dict[key])
    return event_dict



class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the moment of writing.

    Binding the stream once at configuration breaks when it is swapped later (pytest's
    capture, uvicorn reloads): writes then hit a closed file.
    """

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _current_stderr_logger(*_args: Any) -> _CurrentStderr:
    return _CurrentStderr()


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stdlib handler that, like `_CurrentStderr`, looks ``sys.stderr`` up on each write."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass

def configure_logging(settings: Settings) -> None:
    """Configure structlog and the stdlib root logger once per process (idempotent)."""
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_current_stderr_logger,
        cache_logger_on_first_use=False,
    )
    # stdlib loggers (uvicorn, alembic …) go through the same redaction and format.
    handler = _CurrentStderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_atelier", False)]
    handler._atelier = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; `name` ends up in the `logger` field."""
    return structlog.get_logger(name) if name else structlog.get_logger()


@contextmanager
def bind_context(**values: Any) -> Iterator[None]:
    """Bind request_id / user / job_id for everything logged inside the block."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
