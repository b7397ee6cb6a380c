"""`atelier serve` caps glibc's malloc arenas (observability.heap)."""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import textwrap

import pytest

from atelier.observability import heap

# The module, not the `serve` function that atelier.cli re-exports under the same name.
serve_cli = importlib.import_module("atelier.cli.serve")

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

# Threads that malloc and free outside the GIL (ctypes releases it), as aiosqlite's do:
# each one that meets the lock taken gets an arena of its own unless capped.
_PROBE = textwrap.dedent("""
    import ctypes, sys, tempfile, threading
    from atelier.observability.heap import limit_malloc_arenas
    if sys.argv[1] == "cap":
        limit_malloc_arenas()
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    def work():
        for _ in range(20000):
            libc.free(libc.malloc(1024))
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    libc.fopen.restype = ctypes.c_void_p
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    with tempfile.NamedTemporaryFile("r") as f:
        fp = libc.fopen(f.name.encode(), b"w")
        libc.malloc_info(0, fp)
        libc.fclose(fp)
        print(f.read().count("<heap nr="))
""")


def _arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    return int(out.stdout.strip())


@glibc_only
def test_threads_share_at_most_two_arenas_once_capped() -> None:
    assert _arenas("cap") <= heap.MALLOC_ARENAS


def test_an_arena_max_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert heap.limit_malloc_arenas() is False


def test_serve_caps_the_arenas_before_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []

    def settings() -> None:
        order.append("settings")
        raise RuntimeError("stop here")

    monkeypatch.setattr(serve_cli, "limit_malloc_arenas", lambda: order.append("cap"))
    monkeypatch.setattr(serve_cli, "get_settings", settings)
    with pytest.raises(RuntimeError):
        serve_cli.serve()
    assert order == ["cap", "settings"]
