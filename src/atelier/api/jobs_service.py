"""Creating, revising, retrying and cancelling jobs: shared by the user and admin routes.

Order matters: the job row and its first event are committed, then the event is
published and the job handed to the runner — work never starts on uncommitted rows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from atelier.api.deps import Services
from atelier.auth import Principal
from atelier.domain.errors import Conflict, Forbidden, InvalidSpec, NotFound
from atelier.domain.events import Event
from atelier.domain.job import TERMINAL_STATUSES
from atelier.domain.spec import Spec
from atelier.settings import Settings
from atelier.store import AsyncSession, EventLog, JobRepo, JobRow, TemplateRepo, VersionRepo

KNOWN_PROVIDERS = frozenset({"local", "openai", "anthropic", "scripted"})


async def check_spec(
    session: AsyncSession, spec: Spec, user: Principal, settings: Settings
) -> Spec:
    """The spec, completed from its template, once it is acceptable for this user.

    Raises InvalidSpec for an unknown template or provider, a missing script file;
    Forbidden when a non-admin names a server-side file or endpoint the service would
    use on their behalf: `base_url` (the provider key would go there), or `script`
    unless the service itself runs on the scripted provider (tests, demos).
    """
    options = spec.options
    if "max_fix_rounds" not in options.budgets.model_fields_set:
        # Stored specs are re-read with every field set; pin the service's default now
        # so it is the one that applies (and a resumed job keeps it).
        budgets = options.budgets.model_copy(update={"max_fix_rounds": settings.max_fix_rounds})
        options = options.model_copy(update={"budgets": budgets})
        spec = spec.model_copy(update={"options": options})
    if spec.template is not None:
        try:
            template = await TemplateRepo(session).get(spec.template)
        except NotFound as exc:
            raise InvalidSpec(f"unknown template {spec.template!r}") from exc
        if spec.language is None:
            spec = spec.model_copy(update={"language": template.language})
    providers = {options.provider, *(c.provider for c in options.roles.values())} - {None}
    unknown = sorted(str(p) for p in providers if p not in KNOWN_PROVIDERS)
    if unknown:
        raise InvalidSpec(f"unknown provider(s) {unknown}; known: {sorted(KNOWN_PROVIDERS)}")
    if options.base_url is not None and not user.is_admin:
        # The server's provider key would be sent to whatever URL the user names.
        raise Forbidden("only admins may set options.base_url")
    if options.script is not None:
        if not user.is_admin and settings.llm_provider != "scripted":
            raise Forbidden("only admins may set options.script")
        if not await asyncio.to_thread(Path(options.script).is_file):
            raise InvalidSpec(f"script file {options.script!r} not found")
    return spec


async def enqueue(services: Services, session: AsyncSession, row: JobRow, **data: object) -> None:
    """Record the job's `job_queued` event, commit, publish, and hand it to the runner."""
    event = await EventLog(session).append(
        Event(job_id=row.id, type="job_queued", data={"status": "queued", **data})
    )
    await session.commit()
    services.metrics.jobs_total.labels("queued").inc()
    await services.bus.publish(event)
    services.runner.submit(row.id)


async def create_job(
    services: Services, session: AsyncSession, user: Principal, spec: Spec
) -> JobRow:
    spec = await check_spec(session, spec, user, services.settings)
    row = await JobRepo(session).create(user.user_id, spec)
    await enqueue(services, session, row)
    return row


async def revise_job(
    services: Services, session: AsyncSession, user: Principal, job_id: str, instructions: str
) -> tuple[JobRow, int]:
    """A new job that runs the pipeline on the latest version of `job_id`'s project with
    `instructions`; its result becomes the next version. Returns it and that number.

    Raises NotFound (not yours), Conflict when the project has no version yet.
    """
    repo = JobRepo(session)
    source = await repo.get_for_user(job_id, user)
    project = await repo.get(source.parent_job_id) if source.parent_job_id else source
    latest = await VersionRepo(session).latest_number(project.id)
    if latest is None:
        raise Conflict(f"job {job_id} has no files to revise yet (status {project.status})")
    row = await repo.create(
        project.user_id,
        project.parsed_spec(),
        project.id,
        parent_version=latest,
        instructions=instructions,
    )
    await enqueue(services, session, row, parent_job_id=project.id, parent_version=latest)
    return row, latest + 1


async def retry_job(services: Services, session: AsyncSession, job_id: str) -> JobRow:
    """A fresh run of a finished job's spec (same owner, same revision base).

    Raises NotFound, Conflict while the job is still queued or running.
    """
    repo = JobRepo(session)
    source = await repo.get(job_id)
    if source.status not in TERMINAL_STATUSES:
        raise Conflict(f"job {job_id} is still {source.status}")
    row = await repo.create(
        source.user_id,
        source.parsed_spec(),
        source.parent_job_id,
        parent_version=source.parent_version,
        instructions=source.instructions,
    )
    await enqueue(services, session, row, retry_of=source.id)
    return row


async def cancel_job(services: Services, session: AsyncSession, row: JobRow) -> str:
    """Ask the runner to stop the job; returns the status after the request.

    Raises Conflict when the job has already finished.
    """
    if row.status in TERMINAL_STATUSES:
        raise Conflict(f"job {row.id} already {row.status}")
    # The runner works in its own sessions; ours must not hold the row meanwhile.
    await session.commit()
    return await services.runner.cancel(row.id)
