"""Dependency environments: the time to create a job's environment with one dependency.

For Python (`flask`, 7 packages with its dependencies) and JavaScript (`express`),
through the install phase's own entry point (`prepare_environment`: collect, resolve,
check the policy, install, pin), against the real package index and npm registry:

* cold    — an empty download cache and no built environments (the first job of a fresh
            server; for Python this includes installing the sandbox's pytest once);
* warm    — the cache of a cold run kept, the environments dir fresh: a new environment
            is built from the cache (a job asking for a set no job asked for before);
* reused  — the same environments dir again: the environment is found as built.

Baseline, measured in the same run: cold. The issue's target: a warm flask environment
in well under a second.

    python -m bench.dependency_env [--reps 3] [--languages python,javascript]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from atelier.sandbox.env_policy import DependencyPolicy, PreparedEnvironment
from atelier.sandbox.environment import prepare_environment
from atelier.settings import Settings
from bench.common import ratio, table, write_result

# language -> (the one dependency, the project file that imports it)
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "python": ("flask", {"app.py": "from flask import Flask\n\napp = Flask(__name__)\n"}),
    "javascript": ("express", {"app.js": "const express = require('express');\n"}),
}
WARM_TARGET_S = 1.0  # python flask, warm cache


@dataclasses.dataclass
class Timing:
    seconds: float
    packages: int
    reused: bool
    findings: list[str]


async def _prepare(language: str, policy: DependencyPolicy) -> Timing:
    package, files = CASES[language]
    began = time.perf_counter()
    env: PreparedEnvironment = await prepare_environment(language, [package], files, policy,
                                                         project_name="bench")
    seconds = time.perf_counter() - began
    return Timing(seconds=seconds, packages=len(env.report.installed), reused=env.report.reused,
                  findings=[f"{f.name}: {f.message}" for f in env.report.findings])


async def measure(language: str, root: Path, reps: int) -> dict[str, Any]:
    """Cold, warm and reused timings (``reps`` each) for one language, under ``root``."""
    base = DependencyPolicy.from_settings(Settings(data_dir=root, _env_file=None))  # type: ignore[call-arg]

    def policy(cache: Path, envs: Path) -> DependencyPolicy:
        return dataclasses.replace(base, cache_dir=cache, envs_dir=envs)

    cold = [await _prepare(language, policy(root / f"cold-{i}" / "cache",
                                            root / f"cold-{i}" / "envs"))
            for i in range(reps)]
    kept_cache = root / "cold-0" / "cache"
    warm = [await _prepare(language, policy(kept_cache, root / f"warm-{i}" / "envs"))
            for i in range(reps)]
    built = root / "warm-0" / "envs"
    reused = [await _prepare(language, policy(kept_cache, built)) for _ in range(reps)]
    problems = sorted({f for t in cold + warm + reused for f in t.findings})
    problems += [f"warm run {i} found an environment built" for i, t in enumerate(warm)
                 if t.reused]
    problems += [f"reused run {i} built a new environment" for i, t in enumerate(reused)
                 if not t.reused]
    return summarise(language, CASES[language][0], cold, warm, reused, problems)


def summarise(language: str, package: str, cold: list[Timing], warm: list[Timing],
              reused: list[Timing], problems: list[str]) -> dict[str, Any]:
    """Medians, ratios to cold, and the target check, as stored in the JSON."""
    cold_s = statistics.median(t.seconds for t in cold)
    warm_s = statistics.median(t.seconds for t in warm)
    reused_s = statistics.median(t.seconds for t in reused)
    result: dict[str, Any] = {
        "language": language,
        "package": package,
        "packages_installed": cold[0].packages,
        "reps": len(cold),
        "cold_s": round(cold_s, 3),
        "warm_s": round(warm_s, 3),
        "reused_s": round(reused_s, 4),
        "warm_ratio_to_cold": ratio(warm_s, cold_s),
        "reused_ratio_to_cold": ratio(reused_s, cold_s),
        "runs_s": {"cold": [round(t.seconds, 3) for t in cold],
                   "warm": [round(t.seconds, 3) for t in warm],
                   "reused": [round(t.seconds, 4) for t in reused]},
        "problems": problems,
    }
    if language == "python":
        result["warm_target_s"] = WARM_TARGET_S
        result["warm_target_met"] = warm_s < WARM_TARGET_S
    return result


def line(result: dict[str, Any]) -> str:
    """``python flask: cold 2.4 s, warm 0.41 s (ratio 0.17), reused 0.02 s``."""
    return (f"{result['language']} {result['package']}: cold {result['cold_s']:.2f} s, "
            f"warm {result['warm_s']:.2f} s (ratio {result['warm_ratio_to_cold']}), "
            f"reused {result['reused_s']:.3f} s (ratio {result['reused_ratio_to_cold']})")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.dependency_env", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--languages", default="python,javascript")
    args = p.parse_args(argv)
    languages = [name.strip() for name in args.languages.split(",") if name.strip()]
    results = []
    for language in languages:
        with tempfile.TemporaryDirectory(prefix=f"atelier-bench-deps-{language}-") as tmp:
            results.append(asyncio.run(measure(language, Path(tmp), args.reps)))
    print(f"Dependency environments — one dependency each, median of {args.reps} runs "
          "(baseline: cold)")
    print(table(["environment", "packages", "cold s", "warm s", "warm/cold", "reused s",
                 "reused/cold"],
                [[f"{r['language']} {r['package']}", r["packages_installed"], r["cold_s"],
                  r["warm_s"], r["warm_ratio_to_cold"], r["reused_s"],
                  r["reused_ratio_to_cold"]] for r in results]))
    print()
    for r in results:
        print(line(r))
        if "warm_target_met" in r:
            print(f"  target: warm < {WARM_TARGET_S:g} s: "
                  f"{'met' if r['warm_target_met'] else 'MISSED'}")
        for problem in r["problems"]:
            print(f"  warning: {problem}")
    data = {"reps": args.reps, "results": results}
    path = write_result("dependency_env", data)
    print(f"→ {path}")
    return data


if __name__ == "__main__":
    main()
