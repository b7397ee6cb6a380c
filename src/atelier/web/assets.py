"""The static assets, fingerprinted by content so they can be cached forever.

Every asset is served under ``/static/<fingerprint>/<name>``, where the fingerprint
is a hash of all assets together: ES modules import each other by relative path
(``./api.js``), so one shared prefix keeps every import inside the same cached
generation. A new release changes the prefix and no browser keeps a stale module.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pygments.formatters import HtmlFormatter

STATIC_DIR = Path(__file__).parent / "static"
# The Pygments colours of the file preview, generated, not kept as a copy.
HIGHLIGHT_CSS = "highlight.css"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


@dataclass(frozen=True)
class Assets:
    fingerprint: str
    files: dict[str, Asset]

    def url(self, name: str) -> str:
        return f"/static/{self.fingerprint}/{name}"


def _highlight_css() -> bytes:
    formatter = HtmlFormatter(style="default")
    rules = str(formatter.get_style_defs(".code-view .highlight"))  # type: ignore[no-untyped-call]
    return (rules + "\n.code-view .linenos { color: #6b7280; user-select: none; }\n").encode()


@cache
def load_assets() -> Assets:
    """Read every file of `static/` once (they are small) and fingerprint them."""
    files = {
        path.name: Asset(path.read_bytes(), _TYPES.get(path.suffix, "application/octet-stream"))
        for path in sorted(STATIC_DIR.iterdir())
        if path.is_file() and path.suffix in _TYPES
    }
    files[HIGHLIGHT_CSS] = Asset(_highlight_css(), _TYPES[".css"])
    digest = hashlib.sha256()
    for name, asset in sorted(files.items()):
        digest.update(name.encode() + b"\0" + asset.body + b"\0")
    return Assets(digest.hexdigest()[:16], files)
