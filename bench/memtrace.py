"""tracemalloc for a bench server, opt-in: what the Python heap holds, and where it grows.

    python -m bench.soak --duration 180 --tracemalloc /tmp/snaps   # the server dumps snapshots
    python -m bench.memtrace diff /tmp/snaps [--from 1] [--to -1] [--top 25]

`python -m bench.memtrace serve …` stands in for `python -m atelier.cli serve …`: it starts
tracemalloc first, then a thread dumps a snapshot every BENCH_TRACEMALLOC_EVERY_S seconds
into BENCH_TRACEMALLOC_DIR. The product has no hook for this: tracing slows every
allocation, so it only ever runs under the bench.

With BENCH_CENSUS=1 it traces nothing and writes a census instead (census.jsonl in the
same directory): RSS, glibc's malloc counters (mallinfo2: bytes in use vs held free in
the arenas — growth of the second is fragmentation, not a leak), pymalloc's blocks, and
the live objects by type. Cheap enough to leave the soak's timing about as it is;
`python -m bench.memtrace census DIR` compares the first sample after --skip s with the last.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import os
import runpy
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

ENV_DIR = "BENCH_TRACEMALLOC_DIR"
ENV_EVERY = "BENCH_TRACEMALLOC_EVERY_S"
ENV_FRAMES = "BENCH_TRACEMALLOC_FRAMES"
ENV_CENSUS = "BENCH_CENSUS"
ENV_NO_TRIM = "BENCH_NO_HEAP_TRIM"  # for A/B runs: the server without its periodic malloc_trim


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _mallinfo() -> dict[str, int]:
    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):  # not glibc, or glibc < 2.33
        return {}
    fn.restype = _MallInfo2
    info = fn()
    # arena: bytes taken from the system by sbrk/arenas; uordblks: in use; fordblks:
    # free but kept; hblkhd: in mmap'd blocks (returned to the system when freed).
    return {name: int(getattr(info, name)) for name in ("arena", "hblkhd", "uordblks",
                                                         "fordblks", "keepcost")}


def _arenas(scratch: Path) -> int | None:
    """How many malloc arenas glibc has made (each thread that met contention may add
    one, up to MALLOC_ARENA_MAX, 8 per core by default)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    libc.fopen.restype = ctypes.c_void_p
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    fp = libc.fopen(str(scratch).encode(), b"w")
    if not fp:
        return None
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    return scratch.read_text().count("<heap nr=")


def _rss_by_kind() -> dict[str, int]:
    """Resident kB by kind of mapping: [heap] is glibc's main arena, files are code and
    data; "anon" is every anonymous map (pymalloc's arenas, glibc's other arenas, large
    blocks, thread stacks: the kernel merges neighbours, so sizes do not tell them apart)."""
    kinds: Counter[str] = Counter()
    kind = "anon"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and len(head) >= 5:  # a mapping's first line
            name = head[5] if len(head) > 5 else ""
            kind = ("malloc_main" if name == "[heap]" else "files" if name.startswith("/")
                    else "anon" if not name else "other")
        elif head[0] == "Rss:":
            kinds[kind] += int(head[1])
    return dict(kinds)


def _pymalloc(scratch: Path) -> dict[str, int]:
    """pymalloc's own counts (arenas of 1 MiB, bytes in used and in free blocks), read
    from sys._debugmallocstats, which only writes to the C stderr: lent to a file."""
    saved = os.dup(2)
    try:
        with scratch.open("w") as f:
            os.dup2(f.fileno(), 2)
            try:
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
    text = scratch.read_text()
    wanted = {"arenas_current": "# arenas allocated current",
              "arenas_highwater": "# arenas highwater mark",
              "bytes_in_use": "# bytes in allocated blocks",
              "bytes_free": "# bytes in available blocks"}
    out: dict[str, int] = {}
    for line in text.splitlines():
        for key, label in wanted.items():
            if line.startswith(label):
                out[key] = int(line.rsplit("=", 1)[1].replace(",", "").strip())
        if "unused pools" in line and "=" in line:
            out["bytes_in_unused_pools"] = int(line.rsplit("=", 1)[1].replace(",", "").strip())
    return out


def _sqlite_memory() -> dict[str, int]:
    """SQLite's own heap (page caches, schemas, statements) in bytes, all connections of
    the process together: sqlite3_status64(SQLITE_STATUS_MEMORY_USED)."""
    import _sqlite3  # loads the library the sqlite3 module uses

    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        status = lib.sqlite3_status64
    except (OSError, AttributeError):
        return {}
    del _sqlite3
    current, highwater = ctypes.c_int64(), ctypes.c_int64()
    status(0, ctypes.byref(current), ctypes.byref(highwater), 0)
    return {"used": current.value, "highwater": highwater.value}


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _census(out: Path, every_s: float) -> None:
    began = time.monotonic()
    with (out / "census.jsonl").open("a", encoding="utf-8") as f:
        while True:
            time.sleep(every_s)
            types = Counter(type(o).__qualname__ for o in gc.get_objects())
            record: dict[str, Any] = {
                "t_s": round(time.monotonic() - began, 1), "rss_kb": _rss_kb(),
                "malloc": _mallinfo(), "pymalloc_blocks": sys.getallocatedblocks(),
                "threads": threading.active_count(), "gc_objects": sum(types.values()),
                "arenas": _arenas(out / "malloc_info.xml"), "rss_by_kind_kb": _rss_by_kind(),
                "pymalloc": _pymalloc(out / "pymalloc.txt"), "sqlite": _sqlite_memory(),
                "types": dict(types.most_common(60)),
            }
            f.write(json.dumps(record) + "\n")
            f.flush()
# Deep enough to see which of our modules asked, through SQLAlchemy and pydantic; each
# frame costs on every allocation (1 frame is about half the overhead of 12).
FRAMES = 12


def _dump_forever(out: Path, every_s: float) -> None:
    began = time.monotonic()
    while True:
        time.sleep(every_s)
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        # Named by seconds since start, so a listing sorts by time; renamed into place
        # whole, so a reader never loads one half written.
        path = out / f"snap-{int(time.monotonic() - began):05d}.pickle"
        snapshot.dump(str(path.with_suffix(".tmp")))
        path.with_suffix(".tmp").replace(path)


def serve(argv: list[str]) -> None:
    out = Path(os.environ[ENV_DIR])
    out.mkdir(parents=True, exist_ok=True)
    every_s = float(os.environ.get(ENV_EVERY, "20"))
    if os.environ.get(ENV_CENSUS):
        threading.Thread(target=_census, args=(out, every_s), daemon=True).start()
    else:
        tracemalloc.start(int(os.environ.get(ENV_FRAMES, FRAMES)))
        threading.Thread(target=_dump_forever, args=(out, every_s), daemon=True).start()
    if os.environ.get(ENV_NO_TRIM):
        from atelier.observability import heap

        heap.malloc_trim = lambda: None  # trim_heap_forever then returns at once
    sys.argv = ["atelier", *argv]
    runpy.run_module("atelier.cli", run_name="__main__", alter_sys=True)


def _frames(stat: tracemalloc.StatisticDiff, ours_only: bool) -> str:
    frames = [f for f in stat.traceback if not ours_only or "/atelier/" in f.filename]
    shown = frames[:4] or list(stat.traceback)[:2]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in shown)


def diff(directory: Path, first: int, last: int, top: int) -> None:
    snaps = sorted(directory.glob("snap-*.pickle"))
    if len(snaps) < 2:
        raise SystemExit(f"fewer than two snapshots in {directory}")
    old_path, new_path = snaps[first], snaps[last]
    old, new = tracemalloc.Snapshot.load(str(old_path)), tracemalloc.Snapshot.load(str(new_path))
    total_old = sum(s.size for s in old.statistics("filename"))
    total_new = sum(s.size for s in new.statistics("filename"))
    print(f"{old_path.name} -> {new_path.name}: traced {total_old / 2**20:.1f} -> "
          f"{total_new / 2**20:.1f} MB")
    for key in ("lineno", "traceback"):
        print(f"\n--- top {top} by {key} ---")
        for stat in new.compare_to(old, key)[:top]:
            where = _frames(stat, ours_only=key == "traceback")
            print(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
                  f"(now {stat.size / 1024:8.1f} KiB)  {where}")


def census(directory: Path, skip_s: float, top: int) -> None:
    rows = [json.loads(line) for line in (directory / "census.jsonl").open(encoding="utf-8")]
    first = next((r for r in rows if r["t_s"] >= skip_s), rows[0])
    last = rows[-1]
    print(f"t {first['t_s']} s -> {last['t_s']} s")
    print("t_s rss_mb arena_mb in_use_mb free_mb mmap_mb pymalloc_blocks gc_objects threads "
          "arenas")
    for r in rows:
        m = r["malloc"]
        print(r["t_s"], round(r["rss_kb"] / 1024, 1),
              *(round(m.get(k, 0) / 2**20, 1) for k in ("arena", "uordblks", "fordblks",
                                                         "hblkhd")),
              r["pymalloc_blocks"], r["gc_objects"], r["threads"], r.get("arenas"))
    if "rss_by_kind_kb" in first:
        print("\nresident MB by kind, first -> last:")
        for name in sorted(set(first["rss_by_kind_kb"]) | set(last["rss_by_kind_kb"])):
            a = first["rss_by_kind_kb"].get(name, 0) / 1024
            b = last["rss_by_kind_kb"].get(name, 0) / 1024
            print(f"  {name:24s} {a:7.1f} -> {b:7.1f}  ({b - a:+.1f})")
    if first.get("sqlite"):
        print("sqlite heap MB:", " ".join(f"{r['t_s']:g}s:{r['sqlite']['used'] / 2**20:.1f}"
                                          for r in rows))
    if "pymalloc" in first:
        print("pymalloc, first -> last:", {k: (first["pymalloc"].get(k), v)
                                           for k, v in last["pymalloc"].items()})
    grown = Counter(last["types"])
    grown.subtract(first["types"])
    print(f"\nobject types that grew most (of the top {len(last['types'])}):")
    for name, n in grown.most_common(top):
        print(f"{n:+8d}  {name} (now {last['types'].get(name, 0)})")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diff", help="what grew between two snapshots")
    d.add_argument("directory", type=Path)
    d.add_argument("--from", dest="first", type=int, default=1, help="snapshot index")
    d.add_argument("--to", dest="last", type=int, default=-1, help="snapshot index")
    d.add_argument("--top", type=int, default=25)
    c = sub.add_parser("census", help="the census series and what grew")
    c.add_argument("directory", type=Path)
    c.add_argument("--skip", type=float, default=60.0, help="seconds of warm-up to skip")
    c.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if args.command == "census":
        census(args.directory, args.skip, args.top)
    else:
        diff(args.directory, args.first, args.last, args.top)


if __name__ == "__main__":
    main()
