"""A pids cgroup per run, when the host lets us create one.

RLIMIT_NPROC cannot contain a fork bomb that runs as root, and the fallback
backends cannot always drop to another uid (the interpreter may live under a
0700 home). A cgroup's ``pids.max`` holds regardless of uid, and its member list
finds every process of the run, even ones that left the process group, so the
run can be cleaned up completely. Works with cgroup v1 (``/sys/fs/cgroup/pids``)
and v2 (``pids`` enabled in our cgroup's subtree); absent both, runs go without.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from functools import cache
from pathlib import Path

_ROOT = Path("/sys/fs/cgroup")


def _own_cgroup_paths() -> dict[str, str]:
    """controller (or "" for v2) -> our cgroup path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        text = Path("/proc/self/cgroup").read_text(encoding="utf-8")
    except OSError:
        return paths
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(",") if parts[1] else [""]:
            paths[controller] = parts[2]
    return paths


def _candidate_parents() -> list[Path]:
    own = _own_cgroup_paths()
    candidates = []
    if "pids" in own:
        candidates.append(_ROOT / "pids" / own["pids"].lstrip("/"))
    if "" in own:
        candidates.append(_ROOT / own[""].lstrip("/"))
    return candidates


@cache
def pids_cgroup_parent() -> Path | None:
    """Where run cgroups with a working ``pids.max`` can be created, probed once."""
    for parent in _candidate_parents():
        probe = parent / f"atelier-probe-{secrets.token_hex(4)}"
        try:
            probe.mkdir()
        except OSError:
            continue
        try:
            if (probe / "pids.max").exists() and (probe / "cgroup.procs").exists():
                (probe / "pids.max").write_text("8", encoding="ascii")
                return parent
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                probe.rmdir()
    return None


class PidsCgroup:
    """One run's cgroup: created with a pids limit, joined by the child, killed and removed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Opened by the parent: the child only writes its pid after fork, without
        # any path lookup or allocation that could fail in a half-initialised child.
        self._procs_fd = os.open(path / "cgroup.procs", os.O_WRONLY)

    @classmethod
    def create(cls, max_pids: int) -> PidsCgroup | None:
        parent = pids_cgroup_parent()
        if parent is None:
            return None
        path = parent / f"atelier-run-{secrets.token_hex(8)}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_pids), encoding="ascii")
            return cls(path)
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None

    def join_from_child(self) -> None:
        """Called in the forked child before exec (preexec_fn): move it into the cgroup."""
        os.write(self._procs_fd, b"0")

    def members(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text(encoding="ascii")
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def kill_all(self, deadline_s: float = 5.0) -> None:
        """SIGKILL every member until the cgroup is empty (or the deadline passes)."""
        kill_file = self.path / "cgroup.kill"  # v2, Linux 5.14+: atomic, race-free
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1", encoding="ascii")
        # A fork bomb forks between our read and our kill, so repeat until nothing is left.
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            members = self.members()
            if not members:
                return
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._procs_fd)
        # rmdir fails with EBUSY while zombies are still being reaped; retry briefly.
        for _ in range(100):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)
