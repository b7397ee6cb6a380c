"""Resource limits of one sandboxed run, and how they become rlimits."""

from __future__ import annotations

import resource
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atelier.settings import Settings

_MB = 1024 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """What one run may consume. Every field is enforced by every backend."""

    wall_time_s: float = 120.0
    cpu_s: int = 120
    memory_mb: int = 1024
    max_processes: int = 256
    max_file_mb: int = 64
    output_tail_chars: int = 6000

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxLimits:
        """The limits configured by the ``sandbox_*`` settings."""
        return cls(
            wall_time_s=settings.sandbox_timeout_s,
            cpu_s=settings.sandbox_cpu_s,
            memory_mb=settings.sandbox_memory_mb,
            max_processes=settings.sandbox_max_processes,
            max_file_mb=settings.sandbox_max_file_mb,
            output_tail_chars=settings.sandbox_output_tail_chars,
        )


def rlimits_for(limits: SandboxLimits, nproc: int) -> list[tuple[str, int]]:
    """(resource name, value) pairs the in-sandbox wrapper sets as soft = hard.

    ``nproc`` is passed separately because RLIMIT_NPROC counts every task of the
    real uid, so its right value depends on which uid the command runs as.
    Names rather than numbers travel to the wrapper so the mapping stays readable.
    """
    return [
        # CPU seconds: the kernel sends SIGXCPU at the soft limit, SIGKILL at hard.
        ("RLIMIT_CPU", max(1, limits.cpu_s)),
        # Address space, not RSS: the only memory rlimit Linux actually enforces.
        ("RLIMIT_AS", max(16, limits.memory_mb) * _MB),
        ("RLIMIT_NPROC", max(1, nproc)),
        ("RLIMIT_FSIZE", max(1, limits.max_file_mb) * _MB),
        ("RLIMIT_NOFILE", 1024),
        # No core dumps: they would be written into the work dir and could be huge.
        ("RLIMIT_CORE", 0),
    ]


def known_rlimit(name: str) -> bool:
    """True when ``name`` is an RLIMIT_* constant of this platform."""
    return name.startswith("RLIMIT_") and hasattr(resource, name)
