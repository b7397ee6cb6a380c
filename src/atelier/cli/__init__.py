"""The `atelier` command: serve | worker | generate | keys | models | migrate."""

from __future__ import annotations

import typer

from .generate import generate

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Atelier: multi-agent code generation that runs its own tests.")
app.command()(generate)


@app.callback()
def _root() -> None:
    """Atelier: multi-agent code generation that runs its own tests."""


def main() -> None:
    app()
