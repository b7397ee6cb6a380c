"""Every error the API answers with, mapped to a status code in one place.

Body shape, always: ``{"error": code, "detail": ...}`` (plus ``request_id``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from atelier.domain import errors as e
from atelier.observability.logging import get_logger
from atelier.store import DATABASE_ERRORS, database_unavailable, disk_full

log = get_logger("atelier.api")

# Most specific first: the first class the error is an instance of decides.
STATUS_BY_ERROR: tuple[tuple[type[e.AtelierError], int], ...] = (
    (e.NotFound, 404),
    (e.Unauthorized, 401),
    (e.Forbidden, 403),
    (e.Conflict, 409),
    (e.RateLimited, 429),
    (e.ModelNotInstalled, 422),
    (e.InvalidSpec, 422),
    (e.BudgetExceeded, 422),
    (e.Cancelled, 409),
    (e.LLMTimeout, 504),
    (e.LLMUnavailable, 503),
    (e.LLMError, 502),
    (e.SandboxError, 503),
    (e.DiskFull, 507),
)

_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
    507: "disk_full",
}

# How long a client should wait before writing again once the disk is full: freeing
# space takes a person, not a restart.
DISK_FULL_RETRY_AFTER_S = 30


def status_for(error: e.AtelierError) -> int:
    """The HTTP status of a domain error (500 for one nobody mapped)."""
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def error_body(code: str, detail: Any, request: Request | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "detail": jsonable_encoder(detail)}
    request_id = getattr(request.state, "request_id", None) if request is not None else None
    if request_id:
        body["request_id"] = request_id
    return body


def _headers_for(error: e.AtelierError) -> dict[str, str]:
    if isinstance(error, e.RateLimited):
        return {"Retry-After": str(max(1, error.retry_after_s))}
    if isinstance(error, e.Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, e.DiskFull):
        return {"Retry-After": str(DISK_FULL_RETRY_AFTER_S)}
    return {}


async def _atelier_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.AtelierError)
    status = status_for(exc)
    if status >= 500:
        log.warning("request_failed", error=exc.code, detail=str(exc.detail))
    return JSONResponse(
        error_body(exc.code, exc.detail, request), status_code=status, headers=_headers_for(exc)
    )


def _clean_validation_errors(errors: Any) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    for err in errors:
        item = {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
        # `input` may be huge or hold secrets; `ctx` may hold exception objects.
        if "ctx" in err:
            item["ctx"] = {k: str(v) for k, v in err["ctx"].items()}
        cleaned.append(item)
    return cleaned


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        error_body("validation_error", _clean_validation_errors(exc.errors()), request),
        status_code=422,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code)
    if code is None:
        try:
            code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        except ValueError:
            code = "error"
    return JSONResponse(
        error_body(code, exc.detail, request),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if disk_full(exc):
        # Not an outage that passes by itself: say what it is (the paths stay in the log).
        log.warning("disk_full", path=request.url.path, error=str(exc)[:300])
        return JSONResponse(
            error_body("disk_full", "the server's disk is full; nothing was saved — try "
                       "again once space has been freed", request),
            status_code=507,
            headers={"Retry-After": str(DISK_FULL_RETRY_AFTER_S)},
        )
    if not database_unavailable(exc):
        return await _unexpected_error(request, exc)
    # Down, restarting or full: the client may try again shortly; not a bug of ours.
    log.warning("database_unavailable", path=request.url.path, error=str(exc)[:300])
    return JSONResponse(
        error_body("unavailable", "the database is unavailable; try again shortly", request),
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The process edge: log with the traceback, answer in the one error shape.
    log.error("unhandled_error", exc_info=exc, path=request.url.path)
    return JSONResponse(
        error_body("internal_error", "internal server error", request), status_code=500
    )


# What every error response is, as the OpenAPI schema documents it. FastAPI documents
# each 422 as `{"detail": [ValidationError]}`; ours carry `error` and, for a refusal that
# is not about one field (a NUL in the URL, a domain rule), a `detail` string.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "title": "Error code"},
        "detail": {"title": "Detail: a message, or the invalid fields"},
        "request_id": {"type": "string", "title": "Request id"},
    },
}


def _document_error_shape(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate().get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_SCHEMA
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the one error shape, and
    document that shape as the body of every 422 in the OpenAPI schema."""
    app.add_exception_handler(e.AtelierError, _atelier_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
    _document_error_shape(app)
