"""At most MALLOC_ARENAS glibc malloc arenas in a server process.

glibc gives a thread that finds the malloc lock taken an arena of its own, up to 8 per
core. The server's threads come and go (aiosqlite runs one per database connection,
and the pool opens and closes overflow connections under load; asyncio's executor), so
a soak ends up with 16 arenas on 2 cores, each keeping the free space of its own busiest
moment. bench.soak (with bench.memtrace's census) measured the Python heap and malloc's
bytes in use flat while the free bytes malloc held grew, and resident memory with them;
three 4-minute soaks side by side on the same loaded machine gave a second-half RSS slope
of 4.1 MB/min with 16 arenas and 0.9 MB/min with 2 (malloc's free bytes 9 -> 15 MB
against 2 -> 7 MB). A periodic malloc_trim(0) did not help: the free space is in holes
smaller than a page. Two arenas cost next to nothing in lock contention here: the GIL
already serialises most allocations.

`MALLOC_ARENA_MAX` in the environment (read by glibc at start) wins; the image sets it
too, for the processes that do not call this (migrations).
"""

from __future__ import annotations

import ctypes
import os

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter, <malloc.h>


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap the arenas glibc may create from now on; False when not glibc or when the
    environment already decided. Call before the process starts threads."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # musl, macOS: their allocators differ
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))
