"""The UI's routes: HTML pages (Jinja shells) and fingerprinted static assets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import jinja2
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atelier.web.assets import load_assets

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
IMMUTABLE = "public, max-age=31536000, immutable"
# Pages load only our own scripts and styles; the API and the WebSocket are same-origin.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
# (path, template, title, script) of every page.
PAGES = (
    ("/", "jobs.html", "My jobs", "jobs.js"),
    ("/new", "new.html", "New project", "new.js"),
    ("/signin", "signin.html", "Sign in", "signin.js"),
    ("/jobs/{job_id}", "job.html", "Job", "job.js"),
    ("/admin", "admin.html", "Admin", "admin.js"),
)


def _page(template: str, title: str, script: str) -> HTMLResponse:
    assets = load_assets()
    html = _TEMPLATES.get_template(template).render(
        title=title,
        css=assets.url("app.css"),
        highlight_css=assets.url("highlight.css"),
        script=assets.url(script),
    )
    return HTMLResponse(html, headers=PAGE_HEADERS)


def _page_route(template: str, title: str, script: str) -> Callable[[], Awaitable[HTMLResponse]]:
    async def page() -> HTMLResponse:
        return _page(template, title, script)

    return page


def build_router() -> APIRouter:
    """The page and static routes (no API: pages call the public API from the browser)."""
    router = APIRouter(include_in_schema=False)

    for path, template, title, script in PAGES:
        # Path parameters (job_id) are read by the page's script from the URL.
        router.add_api_route(
            path, _page_route(template, title, script), methods=["GET"], response_class=HTMLResponse
        )

    @router.get("/jobs")
    async def jobs_list() -> RedirectResponse:
        return RedirectResponse("/", status_code=307)

    @router.get("/static/{fingerprint}/{name}")
    async def static(fingerprint: str, name: str) -> Response:
        assets = load_assets()
        asset = assets.files.get(name)
        if asset is None or fingerprint != assets.fingerprint:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
        )

    return router


def install_web(app: FastAPI) -> None:
    """Serve the UI from `app`: pages at `/`, `/new`, `/signin`, `/jobs/{id}`, `/admin`."""
    app.include_router(build_router())
