"""The install phase: from a project's files to the environment its tests run with.

Runs outside the no-network test sandbox (it downloads), bounded by the policy's
time, size and package-count limits and its allow/deny lists. A package that cannot
be installed is a finding, never an exception: the tests still run, and the finding
tells the fixer what to change.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from atelier.sandbox.dependencies import collect_requirements
from atelier.sandbox.env_policy import DependencyPolicy, PreparedEnvironment
from atelier.sandbox.node_env import prepare_node
from atelier.sandbox.python_env import prepare_python


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")[:60] or "project"


async def prepare_environment(
    language: str,
    declared: Iterable[str],
    files: Mapping[str, str],
    policy: DependencyPolicy,
    *,
    project_name: str = "project",
    request: str = "",
) -> PreparedEnvironment:
    """Collect what the project needs, install it (or reuse an identical build).

    Raises :class:`SandboxError` only when the installer itself is missing or broken
    (uv, npm, the test tools); a package that cannot be installed becomes a finding.
    """
    collected = collect_requirements(language, declared, files, request)
    requirements = list(collected.requirements.values())
    if language == "javascript":
        prepared = await prepare_node(requirements, collected.findings, policy,
                                      project_manifest=files.get("package.json"),
                                      project_name=_slug(project_name))
    else:
        prepared = await prepare_python(requirements, collected.findings, policy)
    await asyncio.to_thread(prune_environments, policy.envs_dir, policy.keep_envs,
                            keep=prepared.mounts)
    return prepared


def prune_environments(envs_dir: Path, keep_count: int, *, keep: Iterable[Path] = ()) -> int:
    """Remove the least recently used environments beyond ``keep_count``; how many went.

    An environment in use by a run is never among them: runs mark theirs as used
    (mtime) when they start, and ``keep`` protects the one just prepared.
    """
    if not envs_dir.is_dir():
        return 0
    protected = {p.resolve() for p in keep}
    built = [p for p in envs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    built.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = 0
    for path in built[max(0, keep_count):]:
        if path.resolve() in protected:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed
