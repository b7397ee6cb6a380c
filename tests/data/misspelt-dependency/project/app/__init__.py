"""Search links: `create_app()` serves GET /link?q=..., a web-search URL for the query."""

import reqests
from flask import Flask, request

SEARCH_URL = "https://duckduckgo.com/?q="


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/link")
    def link() -> tuple[dict[str, str], int]:
        query = request.args.get("q", "").strip()
        if not query:
            return {"error": "the query q is required"}, 400
        return {"url": SEARCH_URL + reqests.utils.quote(query, safe="")}, 200

    return app
