"""A short-lived cache of job bodies, for clients that poll GET /api/jobs/{id}.

Entries are the serialized JSON body and its owner: a hit costs no database round
trip, no model validation and no JSON encoding.

Polling a job is the hottest read of the service. Within this process every change
to a job (the runner's progress writes, its outcome, a delete) invalidates the entry
at once; a change made by another process shows within `TTL_S`. A generation number
per job keeps a read that raced with a change from caching the older state.

Entries share one TTL and are kept in the order they were stored, which is the order
they expire in: each `put` drops the expired ones at the front. A job nobody polls any
more (most finished ones) therefore leaves the cache within `TTL_S` instead of keeping
its body — and its gzip copy — until MAX_ENTRIES other jobs pushed the cache over.
"""

from __future__ import annotations

import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property

from atelier.api.compression import gzip_body
from atelier.api.schemas import JobOut
from atelier.api.singleflight import SingleFlight
from atelier.auth import Principal

TTL_S = 1.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class JobView:
    """A job's response body, encoded once, and whose job it is."""

    user_id: str
    body: bytes

    @classmethod
    def of(cls, job: JobOut) -> JobView:
        return cls(job.user_id, job.model_dump_json(by_alias=True).encode())

    @cached_property
    def gzipped(self) -> bytes:
        """The body gzipped, once per cached view (the fast path serves it to clients
        that accept gzip)."""
        return gzip_body(self.body)

    def visible_to(self, principal: Principal) -> bool:
        """Owners and admins see a job; to anyone else it does not exist."""
        return self.user_id == principal.user_id or principal.is_admin


class JobViewCache:
    def __init__(self, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, tuple[JobView, float]] = OrderedDict()
        self._generation: defaultdict[str, int] = defaultdict(int)
        self._flights: SingleFlight[JobView] = SingleFlight()

    def generation(self, job_id: str) -> int:
        """Take before reading the database; hand back to `put`."""
        # .get: a read of a job (or of an id that is no job) must not add an entry.
        return self._generation.get(job_id, 0)

    def get(self, job_id: str) -> JobView | None:
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        body, until = entry
        if time.monotonic() >= until:
            self._entries.pop(job_id, None)
            return None
        return body

    def put(self, job_id: str, body: JobView, generation: int) -> None:
        """Cache `body` unless the job changed since `generation` was taken."""
        if self.ttl_s <= 0 or self._generation.get(job_id, 0) != generation:
            return
        now = time.monotonic()
        self._drop_expired(now)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[job_id] = (body, now + self.ttl_s)
        self._entries.move_to_end(job_id)  # a refreshed entry now expires last

    def _drop_expired(self, now: float) -> None:
        # OrderedDict, not dict: popping at the front of a plain dict leaves holes that
        # every later scan from the front walks again.
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest[1] > now:
                return
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        """Entries held, expired ones not yet dropped included."""
        return len(self._entries)

    async def resolve(self, job_id: str, load: Callable[[], Awaitable[JobView]]) -> JobView:
        """The cached body, or `load()`'s (one load for concurrent misses), cached unless
        the job changed while it loaded."""
        body = self.get(job_id)
        if body is not None:
            return body

        async def load_and_keep() -> JobView:
            generation = self.generation(job_id)
            loaded = await load()
            self.put(job_id, loaded, generation)
            return loaded

        return await self._flights.run(job_id, load_and_keep)

    def invalidate(self, job_id: str) -> None:
        self._generation[job_id] += 1
        self._entries.pop(job_id, None)
        if len(self._generation) > MAX_ENTRIES:
            self._generation.clear()  # generations restart; entries were all dropped too
            self._entries.clear()
