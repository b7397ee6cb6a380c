"""Which uid a sandboxed command runs as, and the work dir handed over to it.

Atelier usually runs as root in its container, and root is exempt from
RLIMIT_NPROC, so a fork bomb running as root is not contained by rlimits. The
command therefore runs as a throwaway uid of its own, chosen per run: no other
process shares it, so RLIMIT_NPROC counts exactly the sandbox's processes, the
host's files owned by root are out of its reach, and every process left behind
can be found (and killed) by that uid.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from atelier.domain.errors import SandboxError

# High enough to collide with no real account; far below the 2**32-1 "no uid" value.
_UID_BASE = 2_000_000
_UID_SPAN = 1_000_000
_PROC = Path("/proc")


@dataclass(frozen=True)
class SandboxUser:
    uid: int
    gid: int


def is_root() -> bool:
    return os.geteuid() == 0


def allocate_user(in_use: set[int]) -> SandboxUser:
    """A uid no process uses now and no other run of this process holds."""
    busy = in_use | set(uids_of_running_processes())
    for _ in range(100):
        uid = _UID_BASE + secrets.randbelow(_UID_SPAN)
        if uid not in busy:
            return SandboxUser(uid=uid, gid=uid)
    # Practically unreachable: a million candidates and a handful of runs.
    raise SandboxError("no free sandbox uid")


def world_accessible(path: Path) -> bool:
    """True when a stranger uid can reach ``path`` (every ancestor world-searchable)."""
    try:
        resolved = path.resolve(strict=True)
    except OSError:
        return False
    for part in [*reversed(resolved.parents), resolved]:
        try:
            mode = part.stat().st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return False
    mode = resolved.stat().st_mode
    return bool(mode & (stat.S_IROTH if not stat.S_ISDIR(mode) else stat.S_IXOTH))


def interpreter_world_accessible() -> bool:
    """True when a stranger uid could run this Python and import from its venv."""
    paths = [Path(sys.executable), Path(sys.prefix), Path(sys.base_prefix)]
    return all(world_accessible(p) for p in paths)


def hand_over(tree: Path, owner: SandboxUser) -> None:
    """Make ``tree`` (a fresh copy we wrote) owned by the sandbox user."""
    _chown_tree(tree, owner.uid, owner.gid, only_from=None)


def take_back(tree: Path, owner: SandboxUser) -> None:
    """Return files the sandbox user owns in ``tree`` to us after the run.

    Symlinks are never followed and hard-linked files are left alone: the
    sandboxed code may have planted links to host files, and chowning through
    them would hand those files to whoever runs Atelier.
    """
    _chown_tree(tree, os.getuid(), os.getgid(), only_from=owner.uid)


def _chown_tree(tree: Path, uid: int, gid: int, only_from: int | None) -> None:
    for root, dirs, files in os.walk(tree, followlinks=False):
        for name in [*dirs, *files, None]:
            path = os.path.join(root, name) if name is not None else root
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if only_from is not None:
                if st.st_uid != only_from:
                    continue
                if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                    continue
            try:
                os.chown(path, uid, gid, follow_symlinks=False)
            except OSError:
                continue


def _status_field(pid: str, field: str) -> str | None:
    try:
        with open(_PROC / pid / "status", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1]
    except OSError:
        return None
    return None


def _pids() -> Iterable[str]:
    try:
        return [e for e in os.listdir(_PROC) if e.isdigit()]
    except OSError:
        return []


def uids_of_running_processes() -> Iterable[int]:
    for pid in _pids():
        value = _status_field(pid, "Uid")
        if value:
            yield int(value.split()[0])


def pids_of_user(uid: int) -> list[int]:
    """Processes whose real uid is ``uid``."""
    found = []
    for pid in _pids():
        value = _status_field(pid, "Uid")
        if value and int(value.split()[0]) == uid:
            found.append(int(pid))
    return found


def tasks_of_user(uid: int) -> int:
    """Threads the kernel counts against ``uid``'s RLIMIT_NPROC."""
    total = 0
    for pid in _pids():
        value = _status_field(pid, "Uid")
        if value and int(value.split()[0]) == uid:
            threads = _status_field(pid, "Threads")
            total += int(threads) if threads and threads.strip().isdigit() else 1
    return total
