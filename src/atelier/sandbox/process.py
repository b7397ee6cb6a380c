"""Run one command in the sandbox: spawn, capture, time out, clean up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from atelier.domain.errors import SandboxError
from atelier.sandbox.backends import (
    SANDBOX_WORKDIR,
    bwrap_prefix,
    can_drop_privileges,
    detect_backend,
    unshare_prefix,
    warn_weak_isolation,
    write_etc,
)
from atelier.sandbox.cgroup import PidsCgroup
from atelier.sandbox.identity import (
    SandboxUser,
    allocate_user,
    hand_over,
    is_root,
    pids_of_user,
    take_back,
    tasks_of_user,
    world_accessible,
)
from atelier.sandbox.limits import SandboxLimits, rlimits_for
from atelier.sandbox.output import OutputTail, pump
from atelier.sandbox.wrapper import wrapped

# After the main process exits, how long descendants may keep its output pipe open.
_DRAIN_GRACE_S = 1.0
_SWEEP_DEADLINE_S = 5.0
# Some headroom in the cgroup for the wrapper and bwrap's own processes.
_CGROUP_EXTRA_PIDS = 4

# uids held by runs in flight in this process (allocate_user also checks /proc).
_UIDS_IN_USE: set[int] = set()


@dataclass
class SandboxResult:
    """What a sandboxed command did.

    ``exit_code`` is None when the run was killed at its wall-time limit; a negative
    value is the signal that ended it (e.g. -9 when the memory or CPU limit hit).
    ``output`` is the tail of stdout and stderr merged, at most ``output_tail_chars``.
    """

    exit_code: int | None
    output: str
    timed_out: bool
    duration_s: float
    isolation: str


def _sandbox_env(backend: str, workdir: Path) -> dict[str, str]:
    """The whole environment of the sandboxed command; nothing of the host's leaks in."""
    python_bin = os.path.dirname(os.path.abspath(sys.executable))
    home = "/tmp" if backend == "bwrap" else str(workdir)
    return {
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1",
        # The host venv's pytest plugins are Atelier's, not the project's: autoloading
        # them (hypothesis alone) costs seconds per run and can change test behaviour.
        # The runner loads the one plugin generated tests commonly need explicitly.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


def _sandbox_user(backend: str, argv: list[str]) -> SandboxUser | None:
    if not can_drop_privileges(backend):
        return None
    if backend != "bwrap":
        # The fallbacks exec the host's binary in place; a stranger uid must reach it.
        program = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
        if program is None or not world_accessible(Path(program)):
            return None
    return allocate_user(_UIDS_IN_USE)


def _nproc_limit(limits: SandboxLimits, user: SandboxUser | None) -> int:
    if user is not None or is_root():
        # A fresh uid counts only this run's tasks (and root ignores the limit anyway).
        return limits.max_processes
    # Our own uid: RLIMIT_NPROC counts every task we already have, so allow that many more.
    return tasks_of_user(os.getuid()) + limits.max_processes


def _kill_everything(pid: int, user: SandboxUser | None, cgroup: PidsCgroup | None) -> None:
    """SIGKILL every process of the run, wherever it went.

    The process group covers the plain case; the namespaces die with their first
    process (bwrap --die-with-parent, unshare --kill-child); the cgroup and the
    per-run uid catch processes that called setsid() to leave the group.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all(_SWEEP_DEADLINE_S)
    if user is not None:
        end = time.monotonic() + _SWEEP_DEADLINE_S
        while time.monotonic() < end:
            pids = pids_of_user(user.uid)
            if not pids:
                break
            for victim in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(victim, signal.SIGKILL)
            time.sleep(0.01)


async def run_command(
    workdir: Path, argv: list[str], limits: SandboxLimits, backend: str = "auto",
    *, read_only: Sequence[Path] = (),
) -> SandboxResult:
    """Run ``argv`` in ``workdir`` inside the sandbox and return what happened.

    With bwrap the command sees ``workdir`` at ``/work/project`` (its cwd); with the
    fallbacks it runs in ``workdir`` itself. When Atelier runs as root, ``workdir``
    is handed to a per-run uid for the run and given back afterwards.
    A failing, crashing or timed-out command is a normal result, not an error.
    ``read_only`` are host directories the command needs (a project's installed
    dependencies): bwrap binds them read-only at the same path; the fallbacks see the
    host filesystem anyway.
    Raises :class:`SandboxError` when the sandbox itself cannot start the command
    (unknown or broken backend, missing work dir, empty argv).
    """
    if not argv:
        raise SandboxError("empty command")
    workdir = await asyncio.to_thread(Path(workdir).resolve)
    if not await asyncio.to_thread(workdir.is_dir):
        raise SandboxError(f"work dir {workdir} does not exist")
    chosen = await asyncio.to_thread(detect_backend, backend)
    if chosen != "bwrap":
        warn_weak_isolation(chosen)

    user = _sandbox_user(chosen, argv)
    if user is not None:
        _UIDS_IN_USE.add(user.uid)
    etc_dir: Path | None = None
    cgroup: PidsCgroup | None = None
    try:
        rlimits = rlimits_for(limits, _nproc_limit(limits, user))
        inner_cwd = SANDBOX_WORKDIR if chosen == "bwrap" else str(workdir)
        inner = wrapped(argv, rlimits, user, cwd=inner_cwd)
        if chosen == "bwrap":
            etc_dir = Path(tempfile.mkdtemp(prefix="atelier-etc-"))
            etc_dir.chmod(0o755)
            write_etc(etc_dir, user)
            env = _sandbox_env(chosen, Path(SANDBOX_WORKDIR))
            prefix = bwrap_prefix(workdir, etc_dir, user, limits.max_file_mb, env,
                                  extra_ro=read_only)
            full = [*prefix, *inner]
            cwd = "/"
        elif chosen == "unshare":
            full, cwd = [*unshare_prefix(), *inner], str(workdir)
        else:
            full, cwd = inner, str(workdir)
        if user is not None:
            await asyncio.to_thread(hand_over, workdir, user)
        cgroup = PidsCgroup.create(limits.max_processes + _CGROUP_EXTRA_PIDS)
        return await _spawn_and_wait(full, cwd, chosen, workdir, limits, user, cgroup)
    finally:
        if cgroup is not None:
            cgroup.remove()
        if user is not None:
            await asyncio.to_thread(take_back, workdir, user)
            _UIDS_IN_USE.discard(user.uid)
        if etc_dir is not None:
            shutil.rmtree(etc_dir, ignore_errors=True)


async def _spawn_and_wait(
    full: list[str],
    cwd: str,
    backend: str,
    workdir: Path,
    limits: SandboxLimits,
    user: SandboxUser | None,
    cgroup: PidsCgroup | None,
) -> SandboxResult:
    preexec: Callable[[], None] | None = cgroup.join_from_child if cgroup else None
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *full,
            cwd=cwd,
            env=_sandbox_env(backend, workdir),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            # Own session and process group, so the whole group can be killed at once.
            start_new_session=True,
            preexec_fn=preexec,
        )
    except OSError as exc:
        raise SandboxError(f"cannot start sandbox ({backend}): {exc}") from exc
    assert proc.stdout is not None
    tail = OutputTail(limits.output_tail_chars)
    reader = asyncio.create_task(pump(proc.stdout, tail))
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout=limits.wall_time_s)
    except TimeoutError:
        timed_out = True
    finally:
        # Also after a normal exit: daemonised leftovers must not outlive the run.
        await asyncio.to_thread(_kill_everything, proc.pid, user, cgroup)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        try:
            await asyncio.wait_for(reader, timeout=_DRAIN_GRACE_S)
        except TimeoutError:
            reader.cancel()
    duration = time.monotonic() - started
    return SandboxResult(
        exit_code=None if timed_out else proc.returncode,
        output=tail.text(),
        timed_out=timed_out,
        duration_s=duration,
        isolation=backend,
    )
