"""The `atelier` command: serve | worker | generate | keys | models | migrate."""

from __future__ import annotations

import asyncio

import typer

from .generate import generate
from .keys import keys_app
from .models import models_app
from .serve import serve
from .worker import worker

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Atelier: multi-agent code generation that runs its own tests.")
app.command()(generate)
app.command()(serve)
app.command()(worker)
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")


@app.command()
def migrate() -> None:
    """Apply database migrations (idempotent)."""
    from atelier.settings import get_settings
    from atelier.store import migrate as run_migrations

    asyncio.run(run_migrations(get_settings().effective_database_url))
    typer.echo("database is up to date")


def main() -> None:
    app()
