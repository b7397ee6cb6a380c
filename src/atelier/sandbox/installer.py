"""Running a package installer (uv, npm) outside the sandbox: bounded in time, its
output kept, its environment limited to what an installer needs.

No package code runs here — Python installs are wheels only and npm runs with
``--ignore-scripts`` — so the installer itself is the only program that runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from atelier.domain.errors import SandboxError

_OUTPUT_CAP = 64_000


@dataclass(frozen=True)
class InstallerRun:
    exit_code: int | None  # None: killed at the time limit
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


async def run_installer(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    stdin: bytes | None = None,
) -> InstallerRun:
    """Run one installer command; a timeout kills its whole process group.

    Raises :class:`SandboxError` when the program cannot be started at all.
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(cwd),
            env=dict(env),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise SandboxError(f"cannot start {argv[0]}: {exc}") from exc
    try:
        output, _ = await asyncio.wait_for(proc.communicate(stdin), timeout=timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        return InstallerRun(exit_code=None, output=f"timed out after {timeout_s:.0f} s")
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    text = output.decode("utf-8", errors="replace")
    return InstallerRun(exit_code=proc.returncode, output=text[-_OUTPUT_CAP:])


def tree_size_bytes(root: Path) -> int:
    """Bytes taken by the regular files under ``root`` (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def new_build_directory(parent: Path) -> Path:
    """An empty directory beside where the build will be published (same filesystem, so
    publishing is a rename), readable by the sandbox's uid unlike mkdtemp's 0700."""
    parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".build-", dir=parent))
    building.chmod(0o755)
    return building


def publish_directory(built: Path, final: Path) -> bool:
    """Move a fully built directory into place atomically; False if another build won."""
    try:
        built.rename(final)
    except OSError:
        shutil.rmtree(built, ignore_errors=True)
        return False
    return True
