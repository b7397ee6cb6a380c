"""What a project's dependency install may do, and what it hands to the test run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from atelier.domain.environment import EnvironmentReport, Requirement

if TYPE_CHECKING:
    from atelier.settings import Settings


@dataclass(frozen=True)
class DependencyPolicy:
    """Limits and lists of one install; built from the ``deps_*`` settings."""

    cache_dir: Path
    envs_dir: Path
    installer_env: dict[str, str] = field(default_factory=dict)
    index_url: str | None = None
    npm_registry: str | None = None
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()
    max_packages: int = 150
    max_size_mb: int = 300
    timeout_s: float = 300.0
    keep_envs: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> DependencyPolicy:
        return cls(
            cache_dir=settings.deps_cache_dir,
            envs_dir=settings.deps_envs_dir,
            installer_env=settings.installer_environment(),
            index_url=settings.deps_index_url,
            npm_registry=settings.deps_npm_registry,
            allow=frozenset(n.strip().lower() for n in settings.deps_allow if n.strip()),
            deny=frozenset(n.strip().lower() for n in settings.deps_deny if n.strip()),
            max_packages=settings.deps_max_packages,
            max_size_mb=settings.deps_max_size_mb,
            timeout_s=settings.deps_timeout_s,
            keep_envs=settings.deps_keep_envs,
        )

    def refusal(self, name: str) -> str | None:
        """Why ``name`` may not be installed here, or None when it may."""
        if name.lower() in self.deny:
            return f"`{name}` is on this server's deny list; use another package or the " \
                   "standard library"
        if self.allow and name.lower() not in self.allow:
            return f"`{name}` is not on this server's allow list ({', '.join(sorted(self.allow))})"
        return None


@dataclass
class PreparedEnvironment:
    """A built environment for the test run, and its record for the report.

    ``python`` is the interpreter to run pytest with (None: the sandbox's own);
    ``node_modules`` is linked into the project for node; ``mounts`` are the host
    directories the sandbox must bind read-only for either to work.
    """

    report: EnvironmentReport
    python: Path | None = None
    node_modules: Path | None = None
    mounts: list[Path] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line for the sandbox policy: what the code could import beyond the stdlib."""
        if not self.report.installed:
            return "no third-party packages"
        where = self.python.parent.parent if self.python else self.node_modules
        return f"{len(self.report.installed)} packages, read-only at {where}"


def requirement_lines(requirements: list[Requirement]) -> str:
    return "".join(f"{r.text}\n" for r in requirements)
