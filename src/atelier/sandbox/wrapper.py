"""The first program run inside the sandbox: apply limits, drop to the sandbox uid, exec.

It runs as ``python -I -S -c WRAPPER_SOURCE CONFIG argv...`` so it needs no file on
disk and imports only the standard library. Limits are set here, inside the
sandbox, rather than in a preexec_fn on bwrap: bwrap itself then runs unlimited
and only the untrusted command (and its descendants) inherit the limits.
"""

from __future__ import annotations

import json
import sys

from atelier.sandbox.identity import SandboxUser

WRAPPER_SOURCE = r"""
import ctypes, json, os, resource, sys
cfg = json.loads(sys.argv[1])
argv = sys.argv[2:]
for name, value in cfg["rlimits"]:
    resource.setrlimit(getattr(resource, name), (value, value))
if cfg["uid"] is not None:
    os.setgroups([])
    os.setgid(cfg["gid"])
    os.setuid(cfg["uid"])
    if os.getuid() != cfg["uid"] or os.geteuid() != cfg["uid"]:
        os._exit(126)
if cfg["cwd"] is not None:
    os.chdir(cfg["cwd"])
    os.environ["PWD"] = cfg["cwd"]
try:
    # PR_SET_NO_NEW_PRIVS: setuid binaries on the host cannot hand privileges back.
    ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)
except (OSError, AttributeError):
    pass
try:
    os.execvp(argv[0], argv)
except OSError as exc:
    sys.stderr.write("atelier-sandbox: cannot run %r: %s\n" % (argv[0], exc))
    os._exit(127)
"""


def wrapped(
    argv: list[str],
    rlimits: list[tuple[str, int]],
    user: SandboxUser | None,
    cwd: str | None = None,
    python: str | None = None,
) -> list[str]:
    """``argv`` behind the wrapper: apply ``rlimits``, drop to ``user``, enter ``cwd``."""
    config = {
        "rlimits": [[name, value] for name, value in rlimits],
        "uid": user.uid if user else None,
        "gid": user.gid if user else None,
        # Changing directory after the uid drop: the work dir is private to the sandbox
        # uid, and bwrap's own --chdir runs as a root without CAP_DAC_OVERRIDE.
        "cwd": cwd,
    }
    return [
        python or sys.executable,
        "-I",
        "-S",
        "-c",
        WRAPPER_SOURCE,
        json.dumps(config),
        *argv,
    ]
