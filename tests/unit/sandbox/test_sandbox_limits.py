"""Limits come from settings and every backend name resolves or fails loudly."""

from __future__ import annotations

import pytest

from atelier.domain.errors import SandboxError
from atelier.sandbox import SandboxLimits, detect_backend
from atelier.sandbox.limits import known_rlimit, rlimits_for
from atelier.settings import Settings


def test_limits_follow_the_sandbox_settings() -> None:
    settings = Settings(
        sandbox_timeout_s=7.5,
        sandbox_cpu_s=5,
        sandbox_memory_mb=300,
        sandbox_max_processes=20,
        sandbox_max_file_mb=3,
        sandbox_output_tail_chars=99,
    )

    assert SandboxLimits.from_settings(settings) == SandboxLimits(
        wall_time_s=7.5,
        cpu_s=5,
        memory_mb=300,
        max_processes=20,
        max_file_mb=3,
        output_tail_chars=99,
    )


def test_every_rlimit_exists_and_core_dumps_are_off() -> None:
    pairs = dict(rlimits_for(SandboxLimits(memory_mb=2, max_file_mb=1), nproc=9))

    assert all(known_rlimit(name) for name in pairs)
    assert pairs["RLIMIT_CORE"] == 0
    assert pairs["RLIMIT_NPROC"] == 9
    assert pairs["RLIMIT_FSIZE"] == 1024 * 1024


def test_auto_picks_bwrap_on_this_host() -> None:
    # bubblewrap is installed here and in CI; a silent fallback would weaken isolation.
    assert detect_backend("auto") == "bwrap"


@pytest.mark.parametrize("backend", ["bwrap", "unshare", "rlimit"])
def test_each_backend_works_here(backend: str) -> None:
    assert detect_backend(backend) == backend


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(SandboxError):
        detect_backend("docker")
