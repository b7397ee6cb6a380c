"""The UI's pages and fingerprinted, cacheable, compressed static assets."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from atelier.api.app import create_app
from atelier.settings import Settings
from atelier.web import install_web
from atelier.web.assets import STATIC_DIR, load_assets
from atelier.web.pages import PAGES


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # No lifespan: pages and assets need no database.
    app = create_app(settings)
    install_web(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui.test") as c:
        yield c


@pytest.mark.parametrize("path", ["/", "/new", "/signin", "/jobs/some-id", "/admin"])
async def test_every_page_is_a_shell_with_a_strict_policy(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert r.headers["cache-control"] == "no-cache"
    assets = load_assets()
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text)
    assert urls and all(u.startswith(f"/static/{assets.fingerprint}/") for u in urls)
    for url in urls:
        assert (await client.get(url)).status_code == 200, url


async def test_assets_are_cached_forever_under_their_fingerprint(
    client: httpx.AsyncClient,
) -> None:
    assets = load_assets()
    r = await client.get(assets.url("api.js"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    stale = await client.get("/static/0123456789abcdef/api.js")
    assert stale.status_code == 404 and stale.headers["cache-control"] == "no-store"
    assert (await client.get(f"/static/{assets.fingerprint}/nope.js")).status_code == 404


async def test_assets_are_gzipped_for_clients_that_accept_it(client: httpx.AsyncClient) -> None:
    url = load_assets().url("job.js")
    r = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert int(r.headers["content-length"]) < len(r.content)
    plain = await client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
    assert plain.content == r.content
    raw = gzip.compress(plain.content)
    assert len(raw) < len(plain.content)


def test_the_fingerprint_changes_with_any_asset() -> None:
    assets = load_assets()
    assert re.fullmatch(r"[0-9a-f]{16}", assets.fingerprint)
    assert "highlight.css" in assets.files


def test_every_module_import_and_page_script_is_an_asset() -> None:
    names = set(load_assets().files)
    for path in STATIC_DIR.glob("*.js"):
        for imported in re.findall(r'from "\./([\w.-]+)"', path.read_text(encoding="utf-8")):
            assert imported in names, (path.name, imported)
    for _path, _template, _title, script in PAGES:
        assert script in names


def test_page_scripts_never_write_html_from_data() -> None:
    # Text goes through text nodes; innerHTML/outerHTML/insertAdjacentHTML are not used.
    for path in STATIC_DIR.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", text), path
