"""In-memory checkpoint store: the default for the CLI and for tests."""

from __future__ import annotations

from atelier.domain.job import Checkpoint


class InMemoryCheckpointStore:
    """Keeps checkpoints in a dict; a copy goes in and out so callers cannot alias state."""

    def __init__(self) -> None:
        self._checkpoints: dict[str, Checkpoint] = {}

    async def load_checkpoint(self, job_id: str) -> Checkpoint | None:
        found = self._checkpoints.get(job_id)
        return found.model_copy(deep=True) if found else None

    async def save_checkpoint(self, job_id: str, checkpoint: Checkpoint) -> None:
        self._checkpoints[job_id] = checkpoint.model_copy(deep=True)
