"""The web UI: Jinja pages and static ES modules, served by the same app at `/`.

The pages are shells; everything they show comes from the public REST and WebSocket
API, called by the browser with the signed-in user's token (no private shortcut).
`install_web(app)` adds the page and static routes to an app built by
`atelier.api.app.create_app` (``atelier serve`` does it).
"""

from atelier.web.pages import install_web

__all__ = ["install_web"]
