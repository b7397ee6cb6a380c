"""Chaos jobs: many scripted jobs through the in-process runner, every model call
exposed to random provider faults (llm/faults.py) and the runner itself "restarted"
(closed and replaced) at random moments — then the books are checked: no job left
`running`, none lost, and no call paid twice (every call the provider delivered is
in the job's call record exactly once).

    python -m bench.chaos [--jobs 500] [--fault-rate 0.3] [--restarts 10] [--db URL]

tests/faults/test_chaos_jobs.py runs the same harness (fewer jobs when CI needs it).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from atelier.domain.spec import ROLES, JobOptions, Role, Spec
from atelier.llm.base import LLM, ChatRequest, ChatResult, DelegatingLLM
from atelier.llm.faults import Fault, FaultyLLM
from atelier.llm.recording import CallRecorder, RecordingLLM
from atelier.llm.retry import RetryingLLM
from atelier.llm.scripted import ScriptedLLM
from atelier.observability.metrics import Metrics
from atelier.runtime.bus import InMemoryEventBus
from atelier.runtime.recorder import DbCallRecorder
from atelier.runtime.runner import InProcessRunner
from atelier.settings import Settings
from atelier.store import (
    AsyncEngine,
    AsyncSession,
    JobRepo,
    JobRow,
    LlmCallRow,
    UserRepo,
    create_engine,
    create_sessionmaker,
    migrate,
    session_scope,
)

# One reply per role, repeated: the plan names one file, so a job is plan + code +
# test (+ fix) + review + docs; `single` strategy is plan + code only.
SCRIPT: dict[str, Any] = {
    "planner": [{
        "name": "calc", "summary": "A tiny calculator module.", "language": "python",
        "files": [{"path": "calc.py", "purpose": "add", "depends_on": []}],
        "dependencies": [], "test_command": None,
    }],
    "coder": ["```python\ndef add(a, b):\n    return a + b\n```"],
    "tester": [{"files": [{"path": "tests/test_calc.py", "content":
                           "from calc import add\n\n\ndef test_add():\n"
                           "    assert add(2, 3) == 5\n"}]}],
    "reviewer": [{"findings": []}],
    "documenter": ["# calc\n\nAdds.\n"],
}
TERMINAL = ("succeeded", "failed", "cancelled")


class PaidCalls(DelegatingLLM):
    """Counts, per job, the calls the provider answered (each one is paid for)."""

    def __init__(self, inner: LLM, job_id: str, paid: Counter[str]) -> None:
        super().__init__(inner)
        self.job_id = job_id
        self.paid = paid

    async def chat(self, request: ChatRequest) -> ChatResult:
        result = await self.inner.chat(request)
        self.paid[self.job_id] += 1
        return result


@dataclass
class ChaosReport:
    jobs: int
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    stuck_running: int = 0
    lost: int = 0  # neither finished nor running: queued forever
    paid_calls: int = 0
    recorded_calls: int = 0
    double_paid: int = 0  # calls paid for more than once (paid - recorded, per job)
    faults_injected: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Faults:
    rate: float
    rng: random.Random
    kinds: tuple[Fault, ...] = tuple(Fault)
    injected: Counter[str] = field(default_factory=Counter)
    wrappers: list[FaultyLLM] = field(default_factory=list)

    def collect(self) -> None:
        for wrapper in self.wrappers:
            self.injected.update({k.value: v for k, v in wrapper.injected.items()})
        self.wrappers.clear()


def chaos_settings(data_dir: Path, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": db_url,
        "llm_provider": "scripted",
        "llm_timeout_s": 0.05,  # an injected hang costs 50 ms, not 5 minutes
        "llm_max_retries": 3,
        "llm_retry_base_delay_s": 0.0,
        "max_concurrent_jobs": 8,
        "coder_concurrency": 1,
        "sandbox_timeout_s": 60,
        "job_lease_s": 30.0,
        "cancel_poll_s": 0.5,
        "log_level": "WARNING",
        "log_format": "json",
        **overrides,
    }
    return Settings(_env_file=None, **values)


def _factory(faults: _Faults, paid: Counter[str]) -> Any:
    def build(
        options: JobOptions, settings: Settings, recorder: CallRecorder | None
    ) -> Mapping[Role, LLM]:
        assert isinstance(recorder, DbCallRecorder)
        job_id = recorder.records.job_id
        faulty = FaultyLLM(ScriptedLLM.from_mapping(SCRIPT), rate=faults.rate,
                           faults=faults.kinds, seed=faults.rng.randrange(2**32))
        faults.wrappers.append(faulty)
        llm: LLM = RetryingLLM(faulty, max_retries=settings.llm_max_retries,
                               base_delay_s=0.0, timeout_s=settings.llm_timeout_s)
        llm = RecordingLLM(PaidCalls(llm, job_id, paid), recorder)
        return dict.fromkeys(ROLES, llm)

    return build


async def run_chaos(
    db_url: str,
    data_dir: Path,
    *,
    jobs: int,
    fault_rate: float = 0.3,
    faults: Sequence[Fault] = tuple(Fault),
    restarts: int = 5,
    strategy: str = "single",
    seed: int = 18,
    timeout_s: float = 600.0,
) -> ChaosReport:
    """Run `jobs` chaos jobs to their end on a migrated or empty database; the report.

    `restarts` times, at random moments while jobs run, the runner is closed (its jobs
    interrupted wherever they are) and a new one started on the same database, which
    resumes them. Raises TimeoutError when jobs are still unfinished after `timeout_s`.
    """
    await migrate(db_url)
    settings = chaos_settings(data_dir, db_url)
    rng = random.Random(seed)
    chaos = _Faults(fault_rate, rng, tuple(faults))
    paid: Counter[str] = Counter()
    report = ChaosReport(jobs=jobs)
    bus = InMemoryEventBus()
    metrics = Metrics()
    started = time.monotonic()
    engines: list[AsyncEngine] = []
    try:
        async with _session(db_url) as session:
            user = await UserRepo(session).create(f"chaos-{rng.randrange(10**9)}", "user")
            spec = Spec(prompt="A calculator module.",
                        options=JobOptions(strategy=strategy))
            job_ids = await JobRepo(session).insert_queued([(user.id, spec)] * jobs)

        def new_runner() -> InProcessRunner:
            # A restart is a new process: its own engine (connections, SQLite gate).
            process_engine = create_engine(db_url)
            engines.append(process_engine)
            return InProcessRunner(settings, create_sessionmaker(process_engine), bus, metrics,
                                   llm_factory=_factory(chaos, paid),
                                   reclaim_all_on_start=True)

        runner = new_runner()
        await runner.start()
        for job_id in job_ids:
            runner.submit(job_id)
        deadline = time.monotonic() + timeout_s
        restart_left = restarts
        while True:
            async with _session(db_url) as session:
                open_jobs = (await session.execute(
                    select(func.count()).select_from(JobRow)
                    .where(JobRow.id.in_(job_ids), JobRow.status.not_in(TERMINAL))
                )).scalar_one()
            if open_jobs == 0:
                break
            if time.monotonic() > deadline:
                await runner.close()
                raise TimeoutError(f"{open_jobs} chaos jobs unfinished after {timeout_s}s")
            if restart_left and rng.random() < 0.5 and runner.running_jobs():
                # A restart in the middle of whatever the running jobs are doing.
                await asyncio.sleep(rng.uniform(0.0, 0.05))
                await runner.close()
                await engines[-1].dispose()
                restart_left -= 1
                report.restarts += 1
                runner = new_runner()
                await runner.start()
            await asyncio.sleep(0.2)
        await runner.close()
        await engines[-1].dispose()

        async with _session(db_url) as session:
            rows = (await session.execute(
                select(JobRow.id, JobRow.status, JobRow.reason).where(JobRow.id.in_(job_ids))
            )).all()
            recorded = dict((await session.execute(
                select(LlmCallRow.job_id, func.count()).where(LlmCallRow.job_id.in_(job_ids))
                .group_by(LlmCallRow.job_id)
            )).all())
        statuses: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        for _job_id, status, error in rows:
            statuses[status] += 1
            if status == "failed":
                reasons[str(error or "").split(":", 1)[0]] += 1
        report.statuses = dict(statuses)
        report.failure_reasons = dict(reasons)
        report.stuck_running = statuses.get("running", 0)
        report.lost = jobs - sum(statuses.get(s, 0) for s in (*TERMINAL, "running"))
        report.paid_calls = sum(paid[j] for j in job_ids)
        report.recorded_calls = sum(int(recorded.get(j, 0)) for j in job_ids)
        report.double_paid = sum(max(0, paid[j] - int(recorded.get(j, 0))) for j in job_ids)
        chaos.collect()
        report.faults_injected = dict(chaos.injected)
        report.seconds = round(time.monotonic() - started, 2)
        return report
    finally:
        for engine in engines:
            await engine.dispose()


@asynccontextmanager
async def _session(db_url: str) -> AsyncIterator[AsyncSession]:
    # A short-lived engine of its own: a second SQLite engine kept open beside the
    # runner's was seen to leave "database is locked" behind after a restart.
    engine = create_engine(db_url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--strategy", default="single")
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite)")
    args = parser.parse_args(argv)
    from bench.common import write_result

    with tempfile.TemporaryDirectory(prefix="atelier-chaos-") as tmp:
        db = args.db or f"sqlite+aiosqlite:///{tmp}/chaos.db"
        report = asyncio.run(run_chaos(db, Path(tmp), jobs=args.jobs,
                                       fault_rate=args.fault_rate, restarts=args.restarts,
                                       strategy=args.strategy))
    result = report.as_dict()
    write_result("chaos", result)
    print(result)
    return result


if __name__ == "__main__":
    main()
