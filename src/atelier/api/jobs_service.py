"""Creating, revising, retrying and cancelling jobs: shared by the user and admin routes.

Order matters: the job row and its first event are committed, then the event is
published and the job handed to the runner — work never starts on uncommitted rows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from atelier.auth import Principal
from atelier.domain.errors import Conflict, DiskFull, Forbidden, InvalidSpec, NotFound
from atelier.domain.events import Event
from atelier.domain.job import TERMINAL_STATUSES
from atelier.domain.spec import Spec
from atelier.observability.logging import get_logger
from atelier.settings import Settings
from atelier.store import (
    AsyncSession,
    EventLog,
    JobRepo,
    JobRow,
    SessionMaker,
    TemplateRepo,
    VersionRepo,
    session_scope,
)

if TYPE_CHECKING:
    from atelier.api.deps import Services

log = get_logger("atelier.api")

KNOWN_PROVIDERS = frozenset({"local", "openai", "anthropic", "scripted"})
# The most new jobs written in one transaction.
MAX_BATCH = 256


async def check_spec(
    sessionmaker: SessionMaker, spec: Spec, user: Principal, settings: Settings
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
            async with session_scope(sessionmaker) as session:
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


def check_disk(services: Services) -> None:
    """Refuse new work (507) while the disk jobs write to is short of space: the job
    would only fail at its start, after its row had taken some of what is left.

    Raises DiskFull without the server's paths (they are logged).
    """
    if services.disk is None:
        return
    try:
        services.disk.check()
    except DiskFull as exc:
        log.warning("job_refused_disk_full", detail=str(exc.detail))
        raise DiskFull("no space left on the server's disk for new jobs; try again once "
                       "space has been freed") from exc


async def enqueue(services: Services, session: AsyncSession, row: JobRow, **data: object) -> None:
    """Record the job's `job_queued` event, commit, publish, and hand it to the runner."""
    event = await EventLog(session).append(
        Event(job_id=row.id, type="job_queued", data={"status": "queued", **data})
    )
    await session.commit()
    services.metrics.jobs_total.labels("queued").inc()
    await services.bus.publish(event)
    await services.runner.enqueue(row.id)


async def create_job(services: Services, user: Principal, spec: Spec) -> str:
    """Queue a new job; returns its id once committed (in a batch with its neighbours).

    Raises QuotaExceeded when the user's quota does not allow another job now, DiskFull
    while the disk is full.
    """
    check_disk(services)
    spec = await check_spec(services.sessionmaker, spec, user, services.settings)
    async with services.quotas.admit(services.sessionmaker, user.user_id):
        return await services.job_intake.create(services, user.user_id, spec)


@dataclass
class _Pending:
    user_id: str
    spec: Spec
    done: asyncio.Future[str]


class JobIntake:
    """New jobs written in batches: one transaction (a few statements) for every job
    submitted while the previous batch was being written, instead of one transaction
    of several round trips per job. Each job row goes in with its `job_queued` event;
    after the commit the events are published and the jobs handed to the runner, as
    `enqueue` does for one job."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def create(self, services: Services, user_id: str, spec: Spec) -> str:
        """The new job's id once committed. Raises NotFound when the user does not exist."""
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(user_id, spec, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(services), name="job-intake")
        return await asyncio.shield(done)

    async def _drain(self, services: Services) -> None:
        while self._pending:
            batch, self._pending = (
                self._pending[: self.max_batch],
                self._pending[self.max_batch :],
            )
            try:
                await self._write(services, batch)
            except Exception:  # noqa: BLE001 — retried one by one below
                # One bad job (its user deleted meanwhile …) must not fail the others:
                # write them one by one, each failing on its own.
                for item in batch:
                    await self._write_one(services, item)
            except BaseException as exc:
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
                raise

    async def _write(self, services: Services, batch: list[_Pending]) -> None:
        async with session_scope(services.sessionmaker) as session:
            job_ids = await JobRepo(session).insert_queued([(i.user_id, i.spec) for i in batch])
            events = await EventLog(session).insert_first(
                [Event(job_id=j, type="job_queued", data={"status": "queued"}) for j in job_ids]
            )
        for item, job_id, event in zip(batch, job_ids, events, strict=True):
            services.metrics.jobs_total.labels("queued").inc()
            await services.bus.publish(event)
            await services.runner.enqueue(job_id)
            if not item.done.done():
                item.done.set_result(job_id)

    async def _write_one(self, services: Services, item: _Pending) -> None:
        try:
            async with session_scope(services.sessionmaker) as session:
                row = await JobRepo(session).create(item.user_id, item.spec)
                await enqueue(services, session, row)
        except Exception as exc:  # noqa: BLE001 — the request gets its own error
            if not item.done.done():
                item.done.set_exception(exc)
        else:
            if not item.done.done():
                item.done.set_result(row.id)


async def revise_job(
    services: Services, session: AsyncSession, user: Principal, job_id: str, instructions: str
) -> tuple[JobRow, int]:
    """A new job that runs the pipeline on the latest version of `job_id`'s project with
    `instructions`; its result becomes the next version. Returns it and that number.

    Raises NotFound (not yours), Conflict when the project has no version yet, DiskFull.
    """
    check_disk(services)
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

    Raises NotFound, Conflict while the job is still queued or running, DiskFull.
    """
    check_disk(services)
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
