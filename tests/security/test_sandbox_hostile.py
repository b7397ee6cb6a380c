"""Hostile generated code against every sandbox backend, each for what it guarantees.

Which backend guarantees what (see atelier.sandbox.backends):
  bwrap   — network, filesystem (hidden + read-only), env, limits, processes
  unshare — network, env, limits, processes (by uid or cgroup); NOT the filesystem
  rlimit  — env, limits, processes (by uid or cgroup); NOT network, NOT the filesystem
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from atelier.sandbox import SandboxLimits, guarantees, run_command

ALL = ["bwrap", "unshare", "rlimit"]
NETWORK_ISOLATED = ["bwrap", "unshare"]
FILESYSTEM_ISOLATED = ["bwrap"]

SMALL = SandboxLimits(wall_time_s=10, cpu_s=10, memory_mb=512, max_processes=32, max_file_mb=8)


def py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def leftovers(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if any(marker in part for part in cmdline):
            found.append(proc)
    return found


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port on the host's loopback that accepts connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_the_guarantee_table() -> None:
    assert {"network", "filesystem", "env", "processes"} <= guarantees("bwrap")
    assert "network" in guarantees("unshare")
    assert "filesystem" not in guarantees("unshare")
    assert not {"network", "filesystem"} & guarantees("rlimit")


# ---------------------------------------------------------------- network


@pytest.mark.parametrize("backend", NETWORK_ISOLATED)
async def test_no_network_inside(backend: str, workdir: Path, listener: int) -> None:
    # The host side really is reachable: our own listener, plus postgres/redis if running.
    socket.create_connection(("127.0.0.1", listener), timeout=2).close()
    probe = (
        "import socket, sys\n"
        "for port in map(int, sys.argv[1:]):\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', port), timeout=2).close()\n"
        "        print('CONNECTED', port)\n"
        "    except OSError as exc:\n"
        "        print('BLOCKED', port, exc)\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=2).close()\n"
        "    print('CONNECTED internet')\n"
        "except OSError as exc:\n"
        "    print('BLOCKED internet', exc)\n"
    )

    result = await run_command(workdir, py(probe, str(listener), "5432", "6379"), SMALL, backend)

    assert result.exit_code == 0, result.output
    assert "CONNECTED" not in result.output
    assert result.output.count("BLOCKED") == 4
    assert result.isolation == backend


# ---------------------------------------------------------------- filesystem


@pytest.mark.parametrize("backend", FILESYSTEM_ISOLATED)
async def test_nothing_outside_the_work_dir_is_writable(
    backend: str, workdir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o777)
    outside.chmod(0o777)  # even a stranger uid could write here, were it visible
    token = secrets.token_hex(6)
    targets = [
        str(outside / f"marker-{token}"),
        f"/etc/atelier-marker-{token}",
        f"/root/atelier-marker-{token}",
        f"/tmp/atelier-marker-{token}",
        f"/usr/atelier-marker-{token}",
        f"{sys.prefix}/atelier-marker-{token}",
    ]
    probe = (
        "import sys\n"
        "open('inside.txt', 'w').write('ok')\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        open(path, 'w').write('pwned')\n"
        "        print('WROTE', path)\n"
        "    except OSError as exc:\n"
        "        print('DENIED', path, type(exc).__name__)\n"
    )

    result = await run_command(workdir, py(probe, *targets), SMALL, backend)

    assert result.exit_code == 0, result.output
    assert (workdir / "inside.txt").read_text() == "ok"
    for target in targets:
        assert not os.path.exists(target), target
    # /tmp inside bwrap is a private tmpfs: writing there is fine and leaves no trace.
    assert result.output.count("WROTE") <= 1
    assert f"WROTE /tmp/atelier-marker-{token}" in result.output or "WROTE" not in result.output


@pytest.fixture
def host_secrets() -> Iterator[list[Path]]:
    """World-readable secret files outside any work dir: under the real home and /var/tmp."""
    token = secrets.token_hex(6)
    dirs = [Path.home() / f".atelier-secret-{token}", Path("/var/tmp") / f"atelier-secret-{token}"]
    files = []
    for directory in dirs:
        directory.mkdir(mode=0o755)
        secret = directory / "api_key.txt"
        secret.write_text(f"sk-secret-{token}")
        secret.chmod(0o644)  # file permissions would not stop anyone: only hiding does
        files.append(secret)
    try:
        yield files
    finally:
        for directory in dirs:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("backend", FILESYSTEM_ISOLATED)
async def test_host_secrets_are_not_visible(
    backend: str, workdir: Path, host_secrets: list[Path]
) -> None:
    probe = (
        "import os, sys\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        print('READ', open(path).read())\n"
        "    except OSError as exc:\n"
        "        print('HIDDEN', path, type(exc).__name__)\n"
        "print('ROOT', sorted(os.listdir('/root')) if os.path.isdir('/root') else None)\n"
        "print('ETC', sorted(os.listdir('/etc')))\n"
    )

    result = await run_command(workdir, py(probe, *map(str, host_secrets)), SMALL, backend)

    assert result.exit_code == 0, result.output
    assert "sk-secret-" not in result.output
    assert "READ" not in result.output
    assert result.output.count("HIDDEN") == len(host_secrets)
    # Of the host's /etc only what the loader and tools need is there.
    assert "postgresql" not in result.output and "shadow" not in result.output


@pytest.mark.parametrize("backend", ALL)
async def test_parent_environment_is_not_inherited(
    backend: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_LLM_API_KEY", "sk-atelier-leak")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-leak")

    result = await run_command(
        workdir, py("import os; print(sorted(os.environ.items()))"), SMALL, backend
    )

    assert result.exit_code == 0, result.output
    assert "leak" not in result.output
    assert "API_KEY" not in result.output
    assert "PATH" in result.output  # the minimal environment is there


# ---------------------------------------------------------------- time and cpu


@pytest.mark.parametrize("backend", ALL)
async def test_an_infinite_loop_ends_at_the_wall_time(backend: str, workdir: Path) -> None:
    limits = SandboxLimits(wall_time_s=2, cpu_s=60, max_processes=32)
    marker = f"atelier-loop-{secrets.token_hex(6)}"
    started = time.monotonic()

    result = await run_command(workdir, py("while True: pass", marker), limits, backend)

    elapsed = time.monotonic() - started
    assert result.timed_out
    assert result.exit_code is None
    assert 2.0 <= result.duration_s < 5.0
    assert elapsed < 6.0
    assert leftovers(marker) == []


@pytest.mark.parametrize("backend", ALL)
async def test_cpu_time_limit_kills_a_busy_loop(backend: str, workdir: Path) -> None:
    limits = SandboxLimits(wall_time_s=15, cpu_s=1, max_processes=32)

    result = await run_command(workdir, py("while True: pass"), limits, backend)

    assert not result.timed_out
    assert result.exit_code != 0
    assert result.duration_s < 10


# ---------------------------------------------------------------- processes


FORK_BOMB = (
    "import os, time\n"
    "while True:\n"
    "    try:\n"
    "        os.fork()\n"
    "    except OSError:\n"
    "        time.sleep(0.01)\n"
)


@pytest.mark.parametrize("backend", ALL)
async def test_a_fork_bomb_is_contained_and_leaves_nothing(backend: str, workdir: Path) -> None:
    if "processes" not in guarantees(backend):
        pytest.skip(f"{backend}: no uid drop, no pids cgroup and running as root on this host")
    limits = SandboxLimits(wall_time_s=4, cpu_s=30, memory_mb=512, max_processes=32)
    marker = f"atelier-forkbomb-{secrets.token_hex(6)}"

    run = asyncio.create_task(run_command(workdir, py(FORK_BOMB, marker), limits, backend))
    await asyncio.sleep(2)
    during = len(leftovers(marker))
    # The host is still responsive: a fresh process starts and finishes promptly.
    probe_started = time.monotonic()
    probe = await asyncio.create_subprocess_exec("/bin/true")
    assert await probe.wait() == 0
    probe_s = time.monotonic() - probe_started
    result = await run

    assert 0 < during <= limits.max_processes + 8
    assert probe_s < 2.0
    assert result.timed_out
    assert result.duration_s < limits.wall_time_s + 4
    await asyncio.sleep(0.2)
    assert leftovers(marker) == []


@pytest.mark.parametrize("backend", ALL)
async def test_a_daemonised_child_does_not_outlive_the_run(backend: str, workdir: Path) -> None:
    if "processes" not in guarantees(backend):
        pytest.skip(f"{backend}: cannot find escaped processes on this host")
    marker = f"atelier-daemon-{secrets.token_hex(6)}"
    escape = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.close(1); os.close(2)\n"
        "        time.sleep(300)\n"
        "    os._exit(0)\n"
        "print('parent done')\n"
    )

    result = await run_command(workdir, py(escape, marker), SMALL, backend)

    assert result.exit_code == 0, result.output
    assert result.duration_s < 8
    await asyncio.sleep(0.2)
    assert leftovers(marker) == []


# ---------------------------------------------------------------- memory and files


@pytest.mark.parametrize("backend", ALL)
async def test_a_memory_hog_hits_the_memory_limit(backend: str, workdir: Path) -> None:
    limits = SandboxLimits(wall_time_s=15, cpu_s=15, memory_mb=256, max_processes=32)
    hog = "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n"
    host_available = psutil.virtual_memory().available

    result = await run_command(workdir, py(hog), limits, backend)

    assert not result.timed_out
    assert result.exit_code not in (0, None)
    assert "MemoryError" in result.output
    assert result.duration_s < 10
    # The host never came close to running out.
    assert psutil.virtual_memory().available > host_available - 512 * 1024 * 1024


@pytest.mark.parametrize("backend", ALL)
async def test_file_size_limit_stops_a_disk_filler(backend: str, workdir: Path) -> None:
    limits = SandboxLimits(wall_time_s=15, cpu_s=15, max_file_mb=2, max_processes=32)
    filler = (
        "import signal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "with open('big.bin', 'wb') as f:\n"
        "    for _ in range(64):\n"
        "        f.write(b'x' * 1024 * 1024)\n"
    )

    result = await run_command(workdir, py(filler), limits, backend)

    assert result.exit_code != 0
    assert "File too large" in result.output
    assert (workdir / "big.bin").stat().st_size <= 2 * 1024 * 1024
