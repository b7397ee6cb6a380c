"""GET /api/jobs/{id} (and /api/status/{id}) answered from the caches, before routing.

Every client watching a job polls this route, so it is the service's hottest
request. When the caller's credential is in the principal cache and the job's body
is in the job-view cache, nothing else is needed: this middleware answers with the
cached bytes and skips routing and dependency resolution (half of the app's time on
this request, measured). On any miss it passes the request on unchanged, and the
route — which fills both caches — answers. It sits inside the request-context and
rate-limit middlewares, so ids, logs, metrics and limits apply as to any request.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from atelier.api.compression import MIN_SIZE, VARY, accepts_gzip

if TYPE_CHECKING:
    from atelier.api.deps import Services
    from atelier.api.job_views import JobView

_JOB_VIEW = re.compile(r"^/api/(jobs|status)/([^/]+)$")


class _RouteLabel:
    """What the latency histogram reads off `scope["route"]` (see middleware.route_template)."""

    def __init__(self, path_format: str) -> None:
        self.path_format = path_format


_LABELS = {"jobs": _RouteLabel("/api/jobs/{job_id}"), "status": _RouteLabel("/api/status/{job_id}")}


def _credential(headers: Headers) -> str | None:
    api_key = headers.get("x-api-key", "").strip()
    if api_key:
        return api_key
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class JobViewFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = _JOB_VIEW.match(scope["path"])
            services: Services | None = getattr(scope["app"].state, "services", None)
            if found is not None and services is not None:
                credential = _credential(Headers(scope=scope))
                principal = services.principals.get(credential) if credential else None
                view = services.job_views.get(found.group(2)) if principal else None
                if principal is not None and view is not None and view.visible_to(principal):
                    structlog.contextvars.bind_contextvars(
                        user=principal.name, user_id=principal.user_id
                    )
                    scope["route"] = _LABELS[found.group(1)]
                    await send_view(send, view, accepts_gzip(scope))
                    return
        await self.app(scope, receive, send)


async def send_view(send: Send, view: JobView, gzipped: bool) -> None:
    """The cached body as the route and the compression layer would send it: small
    ones as they are, larger ones gzipped (encoded once per view) for clients that
    accept it, with `Vary: Accept-Encoding`."""
    if len(view.body) < MIN_SIZE:
        await send_json(send, view.body)
        return
    body = view.gzipped if gzipped else view.body
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        VARY,
    ]
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, body: bytes) -> None:
    """A 200 JSON response of `body`, as the route's `Response(body, media_type=…)` sends it."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"application/json"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
