import asyncio, tempfile, time
from pathlib import Path
from atelier.store import create_engine, create_sessionmaker, migrate, session_scope, UserRepo, JobRepo
from atelier.domain.spec import Spec, JobOptions
from atelier.runtime.bus import InMemoryEventBus
from atelier.observability.metrics import Metrics
from atelier.runtime.runner import InProcessRunner
import bench.chaos as c
async def main(t):
    url=f'sqlite+aiosqlite:///{t}/c.db'
    await migrate(url)
    s=c.chaos_settings(Path(t), url)
    e=create_engine(url); sm=create_sessionmaker(e)
    async with session_scope(sm) as ss:
        u=await UserRepo(ss).create("x","user")
        ids=await JobRepo(ss).insert_queued([(u.id, Spec(prompt="A calculator module.", options=JobOptions(strategy="single")))]*300)
    from collections import Counter
    for i in range(6):
        e2=create_engine(url)
        r=InProcessRunner(s, create_sessionmaker(e2), InMemoryEventBus(), Metrics(), llm_factory=c._factory(c._Faults(0.0, __import__('random').Random(1)), Counter()), reclaim_all_on_start=True)
        t0=time.monotonic()
        await r.start()
        print("start took", round(time.monotonic()-t0,2), flush=True)
        await asyncio.sleep(0.7)
        await r.close()
        await e2.dispose()
with tempfile.TemporaryDirectory() as t:
    asyncio.run(main(t))
