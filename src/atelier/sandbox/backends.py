"""Isolation backends: which one works here, and the command line that applies it.

What each backend guarantees (beyond the rlimits, cleared environment and
wall-time kill that every backend applies):

========== ======= =========================================================
backend    network filesystem
========== ======= =========================================================
bwrap      none    only the interpreter, tools and the work dir exist; the
                   work dir is the only writable host path; /tmp is private
unshare    none    NOT hidden: the host filesystem is visible, and writable
                   wherever the command's uid may write
rlimit     host's  NOT hidden (and the host network is reachable)
========== ======= =========================================================

Process containment (a fork bomb) comes from running as a per-run uid with
RLIMIT_NPROC, and/or a per-run pids cgroup; see :func:`process_containment`.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from atelier.domain.errors import SandboxError
from atelier.sandbox.cgroup import pids_cgroup_parent
from atelier.sandbox.identity import SandboxUser, interpreter_world_accessible, is_root

log = logging.getLogger(__name__)

BACKENDS = ("bwrap", "unshare", "rlimit")
SANDBOX_WORKDIR = "/work/project"
_PROBE_TIMEOUT_S = 15.0

# Host paths the sandboxed interpreter and tools need, bound read-only when present.
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Only the /etc entries the dynamic loader, locale and alternatives symlinks need;
# /etc as a whole holds service configs (and sometimes credentials).
_ETC_ENTRIES = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/ssl",  # node's OpenSSL aborts without openssl.cnf; certificates are public
)
_NODE_PATHS = ("/usr/bin/node", "/usr/local/bin/node", "/usr/lib/node_modules")


def _which(name: str) -> str | None:
    return shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin")


def python_paths() -> list[Path]:
    """The Python installation and venv the sandbox needs to run ``sys.executable``.

    Paths are absolute but unresolved: the sandbox must see them where the venv's
    symlinks and ``pyvenv.cfg`` say they are.
    """
    return sorted({Path(os.path.abspath(p)) for p in (sys.base_prefix, sys.prefix)})


def _forbidden_sources() -> list[Path]:
    """Directories whose whole content must never be bound into a sandbox."""
    return [Path.home().resolve(), Path("/").resolve()]


def _covered(path: Path, by: Iterable[Path]) -> bool:
    return any(path == other or path.is_relative_to(other) for other in by)


def bwrap_prefix(
    workdir: Path,
    etc_dir: Path,
    user: SandboxUser | None,
    tmp_size_mb: int,
    env: dict[str, str],
    extra_ro: Iterable[Path] = (),
) -> list[str]:
    """The bwrap command line, up to and including ``--``, for one run.

    ``etc_dir`` holds the synthetic ``passwd``/``group``/``hosts`` written for the run.
    Raises :class:`SandboxError` if asked to bind the home directory or ``/``.
    """
    bwrap = _which("bwrap")
    if bwrap is None:
        raise SandboxError("bwrap is not installed")
    args = [
        bwrap,
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        # bwrap's own environment is already minimal; clearing again inside makes
        # the sandbox's environment exactly `env` whatever bwrap adds.
        "--clearenv",
        "--hostname",
        "sandbox",
    ]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if user is not None:
        # Root inside the sandbox keeps only what the wrapper needs to drop to `user`;
        # setuid() then clears even those, and bwrap's no_new_privs stops regaining any.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    elif not is_root():
        args.append("--unshare-user")

    bound: list[Path] = []
    for name in _SYSTEM_DIRS:
        host = Path(name)
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), name]
        elif host.is_dir():
            args += ["--ro-bind", name, name]
            bound.append(host)
    # bwrap creates missing parents 0700; the sandbox uid must be able to look in /etc.
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in _ETC_ENTRIES:
        if os.path.lexists(name):
            args += ["--ro-bind", name, name]
    for name in ("passwd", "group", "hosts"):
        args += ["--ro-bind", str(etc_dir / name), f"/etc/{name}"]

    # The private /tmp comes before the interpreter binds: a venv that lives under the
    # host's /tmp (a CI checkout, say) must be bound on top of it, not hidden by it.
    args += ["--size", str(max(1, tmp_size_mb) * 1024 * 1024), "--perms", "1777",
             "--tmpfs", "/tmp"]
    extra = [*python_paths(), *(Path(p) for p in _NODE_PATHS if os.path.exists(p)), *extra_ro]
    forbidden = _forbidden_sources()
    made_dirs: set[Path] = set()
    for path in sorted({Path(os.path.abspath(p)) for p in extra}, key=lambda p: len(p.parts)):
        source = path.resolve()
        if any(f.is_relative_to(source) or f.is_relative_to(path) for f in forbidden):
            raise SandboxError(f"refusing to expose {path} to the sandbox")
        if _covered(path, bound):
            continue
        # bwrap copies the host's 0700 on parents such as /root; create them 0755 ourselves
        # so the sandbox uid can reach the bound interpreter and nothing else of /root.
        for parent in reversed(path.parents):
            if parent == Path("/") or parent in made_dirs or _covered(parent, bound):
                continue
            args += ["--perms", "0755", "--dir", str(parent)]
            made_dirs.add(parent)
        args += ["--ro-bind", str(source), str(path)]
        bound.append(path)

    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "0755",
        "--dir",
        str(Path(SANDBOX_WORKDIR).parent),
        "--bind",
        str(workdir),
        SANDBOX_WORKDIR,
        "--",
    ]
    return args


def unshare_prefix() -> list[str]:
    """``unshare`` with new net, pid, mount (for /proc), ipc and uts namespaces.

    ``--kill-child`` plus the pid namespace mean that killing ``unshare`` takes
    every process of the run with it. The filesystem stays the host's.
    """
    unshare = _which("unshare")
    if unshare is None:
        raise SandboxError("unshare is not installed")
    namespaces = ["--net", "--pid", "--fork", "--mount-proc", "--kill-child", "--ipc", "--uts"]
    return [unshare, *namespaces, "--"]


def _probe(argv: list[str]) -> bool:
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
            env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("sandbox probe %s failed: %s", argv[0], exc)
        return False
    if done.returncode != 0:
        log.info(
            "sandbox probe %s exited %s: %s",
            argv[0],
            done.returncode,
            done.stderr.decode(errors="replace")[-500:],
        )
    return done.returncode == 0


@cache
def backend_works(backend: str) -> bool:
    """Whether ``backend`` can run a Python command here. Probed once per process."""
    python = [sys.executable, "-I", "-S", "-c", "pass"]
    if backend == "rlimit":
        return True
    if backend == "unshare":
        return _which("unshare") is not None and _probe([*unshare_prefix(), *python])
    if backend == "bwrap":
        if _which("bwrap") is None:
            return False
        with tempfile.TemporaryDirectory(prefix="atelier-probe-") as tmp:
            workdir, etc_dir = Path(tmp, "work"), Path(tmp, "etc")
            workdir.mkdir()
            etc_dir.mkdir()
            write_etc(etc_dir, None)
            return _probe([*bwrap_prefix(workdir, etc_dir, None, 16, {}), *python])
    return False


def detect_backend(preferred: str = "auto") -> str:
    """The backend to use: ``preferred`` if it works, or for "auto" the strongest that works.

    Raises :class:`SandboxError` when a named backend is unknown or does not work here.
    """
    if preferred == "auto":
        for backend in BACKENDS:
            if backend_works(backend):
                return backend
        raise AssertionError("the rlimit backend always works")  # pragma: no cover
    if preferred not in BACKENDS:
        raise SandboxError(f"unknown sandbox backend {preferred!r}; use one of auto, {BACKENDS}")
    if not backend_works(preferred):
        raise SandboxError(f"sandbox backend {preferred!r} does not work on this host")
    return preferred


def warn_weak_isolation(backend: str) -> None:
    if backend == "rlimit":
        log.warning(
            "SANDBOX ISOLATION IS WEAK: backend 'rlimit' runs untrusted code with the host's "
            "network and filesystem; only resource limits and a cleared environment apply. "
            "Install bubblewrap (bwrap) for real isolation."
        )
    elif backend == "unshare":
        log.warning(
            "sandbox backend 'unshare' blocks the network but cannot hide the host filesystem; "
            "install bubblewrap (bwrap) for filesystem isolation."
        )


@cache
def can_drop_privileges(backend: str) -> bool:
    """Whether runs as root can switch to a per-run uid with this backend.

    bwrap builds its own mount tree with world-searchable parents, so it always can;
    the fallbacks run the host's interpreter in place, which a stranger uid may not reach.
    """
    if not is_root():
        return False
    return backend == "bwrap" or interpreter_world_accessible()


def process_containment(backend: str) -> str | None:
    """How a fork bomb is contained with ``backend`` here, or None if it is not.

    "uid": per-run uid + RLIMIT_NPROC; "cgroup": a per-run pids cgroup;
    "user": not root, so RLIMIT_NPROC applies to our own uid.
    """
    if can_drop_privileges(backend):
        return "uid"
    if pids_cgroup_parent() is not None:
        return "cgroup"
    if not is_root():
        return "user"
    return None


def guarantees(backend: str) -> frozenset[str]:
    """The isolation properties ``backend`` provides on this host.

    Always: "env" (cleared environment), "wall_time", "cpu", "memory", "file_size".
    bwrap and unshare add "network"; bwrap adds "filesystem" (host paths hidden and
    read-only). "processes" is present when :func:`process_containment` finds a way.
    """
    props = {"env", "wall_time", "cpu", "memory", "file_size"}
    if backend in ("bwrap", "unshare"):
        props.add("network")
    if backend == "bwrap":
        props.add("filesystem")
    if process_containment(backend) is not None:
        props.add("processes")
    return frozenset(props)


def write_etc(etc_dir: Path, user: SandboxUser | None) -> None:
    """Synthetic passwd/group/hosts for bwrap: the sandbox user exists, nothing of the host."""
    uid, gid = (user.uid, user.gid) if user else (os.getuid(), os.getgid())
    (etc_dir / "passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"sandbox:x:{uid}:{gid}:sandbox:/tmp:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        encoding="utf-8",
    )
    (etc_dir / "group").write_text(
        f"root:x:0:\nsandbox:x:{gid}:\nnogroup:x:65534:\n", encoding="utf-8"
    )
    (etc_dir / "hosts").write_text("127.0.0.1 localhost sandbox\n::1 localhost\n", encoding="utf-8")
    for name in ("passwd", "group", "hosts"):
        (etc_dir / name).chmod(0o644)
