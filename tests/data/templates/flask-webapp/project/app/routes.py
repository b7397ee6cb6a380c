"""The pages of the to-do app, as one blueprint."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.store import TodoStore

bp = Blueprint("todos", __name__)


def _store() -> TodoStore:
    store: TodoStore = current_app.extensions["todos"]
    return store


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("index.html", todos=_store().all(), error=None)


@bp.post("/todos")
def add() -> ResponseReturnValue:
    title = request.form.get("title", "").strip()
    if not title:
        page = render_template("index.html", todos=_store().all(),
                               error="A title is required.")
        return page, 400
    _store().add(title)
    return redirect(url_for("todos.index"))


@bp.post("/todos/<int:todo_id>/done")
def done(todo_id: int) -> ResponseReturnValue:
    if _store().mark_done(todo_id) is None:
        abort(404)
    return redirect(url_for("todos.index"))
