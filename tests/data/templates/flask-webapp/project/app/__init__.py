"""The to-do web app: `create_app()` builds an app with its own, empty to-do list."""

from collections.abc import Mapping

from flask import Flask

from app.routes import bp
from app.store import TodoStore


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})
    app.extensions["todos"] = TodoStore()
    app.register_blueprint(bp)
    return app
