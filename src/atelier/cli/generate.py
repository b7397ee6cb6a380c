"""`atelier generate`: run the whole pipeline from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from atelier.domain.errors import AtelierError, InvalidSpec
from atelier.domain.events import Event
from atelier.domain.job import JobResult
from atelier.domain.spec import ROLES, Budgets, JobOptions, ModelChoice, Spec, Strategy
from atelier.llm.factory import PROVIDERS
from atelier.pipeline.memory import InMemoryCheckpointStore
from atelier.pipeline.models import build_role_llms
from atelier.pipeline.package import deliverable_files, tests_summary, write_project, zip_bytes
from atelier.pipeline.run import run_pipeline
from atelier.settings import get_settings

from .progress import TerminalProgress


def summary(result: JobResult) -> dict[str, Any]:
    """The final summary object printed by --json."""
    return {
        "job_id": result.job_id,
        "status": result.status,
        "reason": result.reason,
        "verdict": result.verdict.model_dump(mode="json"),
        "files": sorted(result.files),
        "tests": {k: v for k, v in tests_summary(result).items() if k != "skipped"},
        "fix_rounds": result.fix_rounds,
        "usage": result.usage.model_dump(),
        "duration_s": result.duration_s,
    }


def parse_role_choices(items: list[str]) -> dict[str, ModelChoice]:
    """`planner=qwen2.5-coder-1.5b` or `reviewer=openai:gpt-4o-mini` → per-role choices.

    Raises InvalidSpec for an unknown role or a malformed item.
    """
    choices: dict[str, ModelChoice] = {}
    for item in items:
        role, sep, target = item.partition("=")
        if not sep or role not in ROLES or not target:
            raise InvalidSpec(f"--role {item!r}: expected ROLE=MODEL with ROLE one of "
                              f"{', '.join(ROLES)}")
        provider, colon, model = target.partition(":")
        if colon and provider in PROVIDERS:
            choices[role] = ModelChoice(provider=provider, model=model or None)
        else:
            choices[role] = ModelChoice(model=target)
    return choices


async def _quiet(_: Event) -> None:
    return None


def generate(
    spec: Annotated[str, typer.Argument(help="What to build, in plain words.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the project into.")],
    language: Annotated[str | None, typer.Option(help="python or javascript")] = None,
    provider: Annotated[
        str | None, typer.Option(help="local | openai | anthropic | scripted")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Catalog id, GGUF path or provider model name.")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL.")] = None,
    script: Annotated[Path | None, typer.Option(help="Scripted-provider JSON file.")] = None,
    strategy: Annotated[
        str | None, typer.Option(help="single | repair | resample | resample+repair")
    ] = None,
    max_fix_rounds: Annotated[int | None, typer.Option(min=0, max=20)] = None,
    max_tokens: Annotated[int | None, typer.Option(min=1, help="Token budget.")] = None,
    max_cost: Annotated[float | None, typer.Option(min=0, help="Cost budget in USD.")] = None,
    max_time: Annotated[float | None, typer.Option(min=1, help="Wall-time budget (s).")] = None,
    review: Annotated[bool, typer.Option(help="Run the Reviewer.")] = True,
    docs: Annotated[bool, typer.Option(help="Run the Documenter.")] = True,
    role: Annotated[
        list[str] | None,
        typer.Option(help="Per-role model, repeatable: ROLE=MODEL or ROLE=PROVIDER:MODEL, "
                          "e.g. --role planner=qwen2.5-coder-1.5b"),
    ] = None,
    zip_path: Annotated[Path | None, typer.Option("--zip", help="Also write a ZIP.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    require_verified: Annotated[
        bool,
        typer.Option("--require-verified",
                     help="Exit 3 unless the verdict is verified (all tests ran and pass)."),
    ] = False,
) -> None:
    """Plan, code, test (in a sandbox), fix, review and document a project.

    The last line states the verdict on the code: VERIFIED (its tests ran and all
    pass), FAILING (which tests fail) or UNTESTED (why nothing could run).

    Exit codes: 0 the job finished (with --require-verified: and its code is
    verified); 1 the job failed or was cancelled; 2 invalid input or configuration;
    3 --require-verified and the verdict is failing or untested; 130 interrupted.
    """
    err = Console(stderr=True)
    settings = get_settings()
    if strategy is not None and strategy not in ("single", "repair", "resample",
                                                  "resample+repair"):
        err.print(f"error: unknown strategy {strategy!r}")
        raise typer.Exit(2)
    budgets = Budgets(max_tokens=max_tokens, max_cost_usd=max_cost, max_wall_time_s=max_time)
    if max_fix_rounds is not None:
        budgets.max_fix_rounds = max_fix_rounds
    chosen_strategy: Strategy | None = strategy  # type: ignore[assignment]
    try:
        options = JobOptions(provider=provider, model=model, base_url=base_url,
                             script=str(script) if script else None, strategy=chosen_strategy,
                             budgets=budgets, review=review, docs=docs,
                             roles=parse_role_choices(role or []))
        job_spec = Spec(prompt=spec, language=language, options=options)
        llms = build_role_llms(options, settings)
    except AtelierError as exc:
        err.print(f"error: {exc.detail}")
        raise typer.Exit(2) from exc
    except ValueError as exc:  # pydantic validation of the spec
        err.print(f"error: invalid input: {exc}".splitlines()[0])
        raise typer.Exit(2) from exc

    job_id = uuid.uuid4().hex
    if not as_json:
        err.print(f"job {job_id} · provider {next(iter(llms.values())).provider} · "
                  f"model {next(iter(llms.values())).model}")

    async def go() -> JobResult:
        if as_json and not sys.stderr.isatty():
            return await run_pipeline(job_id, job_spec, llms=llms, settings=settings,
                                      checkpoints=InMemoryCheckpointStore(), emit=_quiet)
        with TerminalProgress(err) as progress:
            return await run_pipeline(job_id, job_spec, llms=llms, settings=settings,
                                      checkpoints=InMemoryCheckpointStore(), emit=progress)

    try:
        result = asyncio.run(go())
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None

    if result.files:
        write_project(result, out)
        if zip_path is not None:
            zip_path.write_bytes(zip_bytes(deliverable_files(result), out.name or "project"))
    if as_json:
        typer.echo(json.dumps(summary(result), indent=2))
    else:
        tests = tests_summary(result)
        err.print(f"{result.status}: {len(result.files)} files in {out} · tests "
                  f"{tests['passed']} passed, {tests['failed']} failed, {tests['errors']} errors"
                  f" · {result.usage.calls} calls, {result.usage.total_tokens} tokens"
                  + (f" · {result.reason}" if result.reason else ""))
    verdict = result.verdict
    if not as_json:
        # Plain echo, not the rich console: test names may hold [brackets] (markup to
        # rich), and a verdict line must not be wrapped.
        typer.echo(f"{verdict.headline} — {out}", err=True)
    if result.status != "succeeded":
        typer.echo(f"atelier: job {result.status}: {result.reason}", err=True)
        raise typer.Exit(1)
    if require_verified and verdict.verdict != "verified":
        if as_json:
            typer.echo(f"atelier: verdict {verdict.verdict} (--require-verified)", err=True)
        raise typer.Exit(3)
