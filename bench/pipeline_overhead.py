"""Pipeline overhead: a 20-file scripted job with zero LLM latency.

What the pipeline itself costs (planning, prompt building, context fitting, parsing,
events, checkpoints, metering, packaging) — the model answers instantly, and the
sandbox's time (running the generated tests) is measured and subtracted.

Baseline, measured in the same run: the same LLM calls (the very requests the
pipeline made, recorded) sent straight to a fresh ScriptedLLM — the pure LLM-layer
cost. The ratio says how much slower the whole pipeline is than its model calls alone.

    python -m bench.pipeline_overhead [--files 20] [--reps 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import atelier.pipeline.run as pipeline_run
from atelier.domain.events import Event
from atelier.domain.job import STEPS, JobResult
from atelier.domain.report import TestReport
from atelier.domain.spec import JobOptions, Role, Spec
from atelier.llm.base import LLM, ChatRequest, ChatResult, DelegatingLLM
from atelier.llm.scripted import ScriptedLLM
from atelier.pipeline.memory import InMemoryCheckpointStore
from atelier.pipeline.models import build_role_llms
from atelier.pipeline.package import deliverable_files
from atelier.settings import Settings
from bench.common import ratio, table, write_result

_MODULE_TEMPLATE = '''"""A module of the benchmark project: small arithmetic helpers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float

    def scaled(self, factor: float) -> Point:
        return Point(self.x * factor, self.y * factor)


def double(value: int) -> int:
    """Twice the value."""
    return 2 * value


def clamp(value: float, low: float, high: float) -> float:
    """The value held between low and high."""
    if low > high:
        raise ValueError("low must not exceed high")
    return max(low, min(high, value))


def mean(values: list[float]) -> float:
    """The arithmetic mean; ValueError for an empty list."""
    if not values:
        raise ValueError("mean of nothing")
    return sum(values) / len(values)


def describe(values: list[float]) -> dict[str, float]:
    """Smallest, largest and mean of the values."""
    return {"min": min(values), "max": max(values), "mean": mean(values)}
'''


def module_path(index: int) -> str:
    return f"pkg_{index:02d}.py"


def depends_on(index: int) -> list[str]:
    """Every fourth file starts a chain; the others import their predecessor (and the
    chain head), giving several dependency waves with independent files in each."""
    if index % 4 == 0:
        return []
    head = index - index % 4
    deps = [module_path(index - 1)]
    if head != index - 1:
        deps.append(module_path(head))
    return deps


def build_script(files: int) -> dict[str, Any]:
    """Replies for every role: a plan of `files` Python files, one coder reply per file,
    tests that pass, a reviewer with only a low finding, a README."""
    plan = {
        "name": "bench-project",
        "summary": f"{files} small modules of arithmetic helpers",
        "language": "python",
        "files": [
            {"path": module_path(i),
             "purpose": "Point (x, y) with scaled(factor); double(value); "
                        "clamp(value, low, high); mean(values); describe(values)",
             "depends_on": depends_on(i)}
            for i in range(files)
        ],
        "dependencies": [],
        "test_command": "pytest tests",
    }
    modules = [module_path(i)[:-3] for i in range(files)]
    tests = "import importlib\n\nimport pytest\n\nMODULES = " + json.dumps(modules) + """


@pytest.mark.parametrize("name", MODULES)
def test_double(name):
    assert importlib.import_module(name).double(2) == 4


@pytest.mark.parametrize("name", MODULES)
def test_clamp(name):
    assert importlib.import_module(name).clamp(5, 0, 3) == 3


def test_mean_of_nothing():
    with pytest.raises(ValueError):
        importlib.import_module(MODULES[0]).mean([])
"""
    coder_reply = f"Here is the file:\n\n```python\n{_MODULE_TEMPLATE}```\n"
    return {
        "planner": [plan],
        "coder": [coder_reply] * files,
        "tester": [{"files": [{"path": "tests/test_modules.py", "content": tests}]}],
        "reviewer": [{"findings": [{"severity": "low", "path": module_path(0), "line": 1,
                                    "message": "module docstring could be more specific",
                                    "suggestion": None}]}],
        "documenter": ["# bench-project\n\nSmall arithmetic helpers.\n\n## Usage\n\n"
                       "```python\nfrom pkg_00 import double\ndouble(2)\n```\n"],
        "delay_s": 0.0,
    }


class RequestTap(DelegatingLLM):
    """A pass-through LLM that keeps the requests (to replay them for the baseline)."""

    def __init__(self, inner: LLM, requests: list[ChatRequest]) -> None:
        super().__init__(inner)
        self._requests = requests

    async def chat(self, request: ChatRequest) -> ChatResult:
        self._requests.append(request)
        return await self.inner.chat(request)


class StepClock:
    """Event sink recording when each step started and finished."""

    def __init__(self) -> None:
        self.windows: dict[str, list[float]] = {}
        self.events = 0

    async def __call__(self, event: Event) -> None:
        self.events += 1
        if event.step and event.type in ("step_started", "step_finished"):
            self.windows.setdefault(event.step, []).append(time.perf_counter())


SandboxFn = Callable[..., Awaitable[TestReport]]


def timed_sandbox(real: SandboxFn, intervals: list[tuple[float, float]]) -> SandboxFn:
    async def run(*args: Any, **kwargs: Any) -> TestReport:
        began = time.perf_counter()
        try:
            return await real(*args, **kwargs)
        finally:
            intervals.append((began, time.perf_counter()))
    return run


def overlap(window: list[float], intervals: list[tuple[float, float]]) -> float:
    if len(window) < 2:
        return 0.0
    start, end = window[0], window[-1]
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in intervals)


async def one_run(script_path: Path, settings: Settings, files: int) -> dict[str, Any]:
    options = JobOptions(provider="scripted", script=str(script_path))
    requests: list[ChatRequest] = []
    llms: Mapping[Role, LLM] = {role: RequestTap(llm, requests) for role, llm
                                in build_role_llms(options, settings).items()}
    clock = StepClock()
    intervals: list[tuple[float, float]] = []
    # The pipeline calls the sandbox through this module-level name: time every call.
    real = pipeline_run.run_tests  # type: ignore[attr-defined]
    pipeline_run.run_tests = timed_sandbox(real, intervals)  # type: ignore[attr-defined,assignment]
    spec = Spec(prompt=f"A Python project of {files} modules of small arithmetic helpers.",
                language="python", options=options)
    try:
        began = time.perf_counter()
        result: JobResult = await pipeline_run.run_pipeline(
            "bench-overhead", spec, llms=llms, settings=settings,
            checkpoints=InMemoryCheckpointStore(), emit=clock)
        packaged = deliverable_files(result)  # the package step's real work: the reports
        total = time.perf_counter() - began
    finally:
        pipeline_run.run_tests = real  # type: ignore[attr-defined]
    sandbox_total = sum(b - a for a, b in intervals)
    steps: dict[str, dict[str, float]] = {}
    for step in STEPS:
        window = clock.windows.get(step, [])
        wall = window[-1] - window[0] if len(window) >= 2 else 0.0
        sandbox = overlap(window, intervals)
        steps[step] = {"wall_s": wall, "sandbox_s": sandbox, "excl_sandbox_s": wall - sandbox}

    # Baseline: the same requests, straight to a fresh ScriptedLLM.
    raw = ScriptedLLM.from_file(script_path)
    began = time.perf_counter()
    for request in requests:
        await raw.chat(request)
    raw_s = time.perf_counter() - began

    tests = result.final_report
    return {
        "status": result.status,
        "files": len([p for p in result.files if p.startswith("pkg_")]),
        "packaged_files": len(packaged),
        "calls": len(requests),
        "events": clock.events,
        "tests_passed": tests.passed if tests else 0,
        "sandbox_runs": len(intervals),
        "sandbox_reported_s": sum(r.report.duration_s for r in result.rounds),
        "total_s": total,
        "sandbox_s": sandbox_total,
        "excl_sandbox_s": total - sandbox_total,
        "steps": steps,
        "raw_llm_s": raw_s,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline_overhead", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=20)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args(argv)
    settings = Settings(llm_provider="scripted", strategy="resample+repair")
    with tempfile.TemporaryDirectory(prefix="atelier-bench-overhead-") as tmp:
        script_path = Path(tmp) / "script.json"
        script_path.write_text(json.dumps(build_script(args.files)), encoding="utf-8")
        asyncio.run(one_run(script_path, settings, args.files))  # warm-up: imports, caches
        runs = [asyncio.run(one_run(script_path, settings, args.files))
                for _ in range(args.reps)]

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)

    first = runs[0]
    if first["status"] != "succeeded" or first["files"] != args.files:
        print(f"warning: the scripted job did not run as designed: {first['status']}, "
              f"{first['files']} files")
    step_rows = []
    steps_out: dict[str, dict[str, float]] = {}
    for step in STEPS:
        wall = statistics.median(r["steps"][step]["wall_s"] for r in runs)
        sandbox = statistics.median(r["steps"][step]["sandbox_s"] for r in runs)
        excl = statistics.median(r["steps"][step]["excl_sandbox_s"] for r in runs)
        steps_out[step] = {"wall_ms": round(1000 * wall, 2), "sandbox_ms": round(1000 * sandbox, 2),
                           "excl_sandbox_ms": round(1000 * excl, 2)}
        step_rows.append([step, f"{1000 * wall:.1f}", f"{1000 * sandbox:.1f}",
                          f"{1000 * excl:.1f}"])
    excl = med("excl_sandbox_s")
    raw = med("raw_llm_s")
    calls = int(first["calls"])
    step_rows.append(["TOTAL", f"{1000 * med('total_s'):.1f}", f"{1000 * med('sandbox_s'):.1f}",
                      f"{1000 * excl:.1f}"])
    print(f"Pipeline overhead — {args.files}-file scripted job, zero LLM latency, "
          f"median of {args.reps} runs ({calls} LLM calls, {first['sandbox_runs']} sandbox "
          f"run(s), {first['events']} events, tests passed {first['tests_passed']})")
    print(table(["step", "wall ms", "sandbox ms", "excl. sandbox ms"], step_rows))
    overhead_ratio = ratio(excl, raw)
    print(f"\nbaseline: the same {calls} calls straight to ScriptedLLM: {1000 * raw:.2f} ms")
    print(f"pipeline excl. sandbox: {1000 * excl:.1f} ms = {overhead_ratio}× the raw LLM "
          f"calls; {1000 * (excl - raw) / max(1, calls):.2f} ms of pipeline work per call, "
          f"{1000 * excl / args.files:.2f} ms per file")
    print(f"(sandbox measured by timing every run_tests call: {1000 * med('sandbox_s'):.0f} ms; "
          f"the rounds report {1000 * med('sandbox_reported_s'):.0f} ms inside the sandbox)")
    data = {
        "files": args.files, "reps": args.reps, "calls": calls,
        "sandbox_runs": first["sandbox_runs"], "events": first["events"],
        "status": first["status"], "tests_passed": first["tests_passed"],
        "total_ms": round(1000 * med("total_s"), 2),
        "sandbox_ms": round(1000 * med("sandbox_s"), 2),
        "sandbox_reported_ms": round(1000 * med("sandbox_reported_s"), 2),
        "excl_sandbox_ms": round(1000 * excl, 2),
        "raw_llm_ms": round(1000 * raw, 3),
        "overhead_ratio": overhead_ratio,
        "overhead_ms_per_call": round(1000 * (excl - raw) / max(1, calls), 3),
        "steps": steps_out,
    }
    path = write_result("pipeline_overhead", data)
    print(f"→ {path}")
    return data


if __name__ == "__main__":
    main()
