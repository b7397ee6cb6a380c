"""Project-level quality: small projects generated end to end by `atelier generate --json`
(a subprocess, as a user runs it), scored by acceptance tests the pipeline never sees.

Each bench/projects/<name>/ holds `spec.json` ({"language", "prompt", "summary"}) and
`acceptance/` (pytest files or node:test files). Only the generated source files (not
the pipeline's own tests, README or reports) are copied next to the acceptance tests,
which then run in the Atelier sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atelier.domain.spec import Strategy
from atelier.sandbox import SandboxLimits, run_tests
from bench.common import (
    REPO_ROOT,
    RESULTS_DIR,
    append_jsonl,
    git_commit,
    iter_jsonl,
    ratio,
    table,
    write_result,
)
from bench.scoring import source_files


def suffix(tag: str) -> str:
    return f"-{tag}" if tag else ""

PROJECTS_DIR = REPO_ROOT / "bench" / "projects"
# Requests written without examples, never tuned against (bench/heldout/README.md).
HELDOUT_DIR = REPO_ROOT / "bench" / "heldout"
# Plain requests: no file names, no function names, no examples; no acceptance tests.
PLAIN_DIR = REPO_ROOT / "bench" / "plain"
ACCEPTANCE_LIMITS = SandboxLimits(wall_time_s=60.0, cpu_s=60, memory_mb=1024,
                                  max_processes=128, max_file_mb=16, output_tail_chars=4000)
# Lets acceptance tests import modules at the project root or under src/.
_PY_CONFTEST = '''import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
for _p in (_ROOT / "src", _ROOT):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
'''
_REPORT_FILES = {"ATELIER_REPORT.json", "ATELIER_REPORT.md"}


@dataclass(frozen=True)
class ProjectSpec:
    name: str
    language: str
    prompt: str
    acceptance: dict[str, str]  # path relative to the project root → content

    @property
    def expected_tests(self) -> int:
        """Test functions in the acceptance files (the denominator of "tests passed":
        a module that cannot even be imported fails all of them, not one)."""
        pattern = r"^def test_" if self.language == "python" else r"^test\("
        return sum(len(re.findall(pattern, text, re.M)) for text in self.acceptance.values())


def load_projects(names: Sequence[str] | None = None,
                  directory: Path = PROJECTS_DIR) -> list[ProjectSpec]:
    """Every project under `directory` (bench/projects/ by default; sorted by name), or
    the ones named. A project without `acceptance/` (a plain request) has none."""
    projects = []
    for spec_file in sorted(directory.glob("*/spec.json")):
        project_dir = spec_file.parent
        if names is not None and project_dir.name not in names:
            continue
        data = json.loads(spec_file.read_text(encoding="utf-8"))
        acceptance = {
            str(p.relative_to(project_dir)): p.read_text(encoding="utf-8")
            for p in sorted((project_dir / "acceptance").rglob("*")) if p.is_file()
        }
        projects.append(ProjectSpec(project_dir.name, data["language"], data["prompt"],
                                    acceptance))
    return projects


def interleaved(projects: Sequence[ProjectSpec]) -> list[ProjectSpec]:
    """Python and JavaScript alternately, so a `--projects 2` run covers both languages."""
    py = [p for p in projects if p.language == "python"]
    js = [p for p in projects if p.language != "python"]
    out: list[ProjectSpec] = []
    for i in range(max(len(py), len(js))):
        out += py[i:i + 1] + js[i:i + 1]
    return out


def generate(
    project: ProjectSpec, strategy: Strategy, model: str, out_dir: Path, *, review: bool,
    docs: bool, threads: int | None, timeout_s: float, roles: Sequence[str] = (),
) -> tuple[dict[str, Any] | None, str, float]:
    """Run `atelier generate --json`; returns (summary or None, stderr tail, wall seconds).

    `roles`: ROLE=MODEL overrides of `model` for single agents (`atelier generate --role`).
    """
    argv = [sys.executable, "-m", "atelier.cli", "generate", project.prompt,
            "--out", str(out_dir), "--language", project.language, "--provider", "local",
            "--model", model, "--strategy", strategy, "--json",
            "--review" if review else "--no-review", "--docs" if docs else "--no-docs"]
    for role in roles:
        argv += ["--role", role]
    env = dict(os.environ)
    if threads:
        env["ATELIER_LOCAL_THREADS"] = str(threads)
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env=env,
                              cwd=REPO_ROOT, check=False)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        return None, f"timed out after {timeout_s:.0f}s {stderr[-500:]}", time.monotonic() - started
    wall = time.monotonic() - started
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError:
        summary = None
    return summary, f"exit {proc.returncode}: {proc.stderr.strip()[-800:]}", wall


def read_generated(out_dir: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    if not out_dir.is_dir():
        return files
    for path in sorted(out_dir.rglob("*")):
        rel = str(path.relative_to(out_dir))
        if path.is_file() and rel not in _REPORT_FILES:
            try:
                files[rel] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return files


async def run_acceptance(project: ProjectSpec, generated: Mapping[str, str]) -> dict[str, Any]:
    """The project's acceptance tests against the generated sources, in the sandbox."""
    files = dict(source_files(generated))
    for path in list(files):
        if path.startswith("acceptance/"):
            del files[path]  # never let generated code stand in for the acceptance tests
    files.update(project.acceptance)
    if project.language == "python":
        files["acceptance/conftest.py"] = _PY_CONFTEST
        command = "pytest acceptance"
    else:
        command = " ".join(p for p in project.acceptance if p.endswith(".js"))
    report = await run_tests(files, project.language, ACCEPTANCE_LIMITS, test_command=command)
    ran = report.passed + report.failed + report.errors
    total = max(project.expected_tests, ran)
    return {"passed": report.passed, "failed": report.failed, "errors": report.errors,
            "ran": ran, "total": total,
            "all_passed": report.green and report.passed >= project.expected_tests,
            "timed_out": report.timed_out,
            "output_tail": "" if report.green else report.output_tail[-1500:]}


def pending_runs(
    out: Path, projects: Sequence[ProjectSpec], strategies: Sequence[Strategy], *, resume: bool
) -> list[tuple[ProjectSpec, Strategy]]:
    """The (project, strategy) runs still to do: all of them on a fresh run (the old
    records are removed), those without a record in ``out`` when resuming."""
    done = {(r["project"], r["strategy"]) for r in iter_jsonl(out)} if resume else set()
    if not resume and out.exists():
        out.unlink()
    return [(p, s) for p in projects for s in strategies if (p.name, s) not in done]


def results_path(model: str, tag: str = "", kind: str = "projects") -> Path:
    """The per-project JSONL of a run; `kind` is the suite (projects, heldout, plain)."""
    return RESULTS_DIR / f"{kind}-{model}{'-' + tag if tag else ''}.jsonl"


def run_project(
    project: ProjectSpec, strategy: Strategy, model: str, *, review: bool, docs: bool,
    threads: int | None, timeout_s: float, keep_dir: Path | None = None,
    roles: Sequence[str] = (),
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"atelier-bench-{project.name}-"))
    out_dir = work / "out"
    try:
        summary, stderr, wall = generate(project, strategy, model, out_dir, review=review,
                                         docs=docs, threads=threads, timeout_s=timeout_s,
                                         roles=roles)
        generated = read_generated(out_dir)
        report_file = out_dir / "ATELIER_REPORT.json"
        report = (json.loads(report_file.read_text(encoding="utf-8"))
                  if report_file.is_file() else {})
        acceptance = asyncio.run(run_acceptance(project, generated))
        if keep_dir is not None and out_dir.is_dir():
            shutil.rmtree(keep_dir, ignore_errors=True)
            shutil.copytree(out_dir, keep_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    usage = (summary or {}).get("usage", {})
    return {
        "project": project.name, "language": project.language, "strategy": strategy,
        "model": model, "roles": list(roles), "review": review, "docs": docs,
        "status": (summary or {}).get("status"), "reason": (summary or {}).get("reason"),
        "verdict": ((summary or {}).get("verdict") or {}).get("verdict"),
        "generate": None if summary else stderr,
        "acceptance": acceptance,
        "generated_tests": (summary or {}).get("tests"),
        "fix_rounds": (summary or {}).get("fix_rounds"),
        "completion_tokens": int(usage.get("completion_tokens", 0)),
        "prompt_tokens": int(usage.get("prompt_tokens", 0)),
        "calls": int(usage.get("calls", 0)),
        "wall_s": round(wall, 1),
        "steps_s": report.get("timings", {}).get("steps_s", {}),
        "plan_files": [f["path"] for f in (report.get("plan") or {}).get("files", [])],
        "sources": source_files(generated),
    }


def aggregate(records: Sequence[Mapping[str, Any]], strategies: Sequence[str],
              projects: Sequence[ProjectSpec]) -> dict[str, Any]:
    latest = {(r["project"], r["strategy"]): r for r in records}
    expected = {p.name: p.expected_tests for p in projects}
    common = [p.name for p in projects if all((p.name, s) in latest for s in strategies)]

    def total(r: Mapping[str, Any]) -> int:
        return max(expected[r["project"]], int(r["acceptance"]["total"]))

    def green(r: Mapping[str, Any]) -> bool:
        acc = r["acceptance"]
        return bool(acc["all_passed"]) and int(acc["passed"]) >= expected[r["project"]]

    per: dict[str, dict[str, Any]] = {}
    for s in strategies:
        rows = [latest[(n, s)] for n in common]
        per[s] = {
            "projects": len(rows),
            "projects_all_passed": sum(green(r) for r in rows),
            "acceptance_tests_passed": sum(int(r["acceptance"]["passed"]) for r in rows),
            "acceptance_tests_total": sum(total(r) for r in rows),
            "completion_tokens": sum(int(r["completion_tokens"]) for r in rows),
            "wall_s": round(sum(float(r["wall_s"]) for r in rows), 1),
            "per_project": {r["project"]: f"{r['acceptance']['passed']}/{total(r)}"
                            for r in rows},
        }
    base = per.get("single")
    if base is not None:
        for row in per.values():
            row["token_ratio"] = ratio(row["completion_tokens"], base["completion_tokens"])
            row["wall_ratio"] = ratio(row["wall_s"], base["wall_s"])
    return {"projects": common, "strategies": per}


def step_timing(model: str, threads: int | None, timeout_s: float) -> dict[str, Any]:
    """One small project end to end (plan, code, tests, review, README) on `model`,
    default strategy: wall time per step from ATELIER_REPORT.json."""
    project = ProjectSpec(
        "step-timing", "python",
        "Write a Python module `slugify.py` with a function `slugify(text: str) -> str` that "
        "lowercases the text, replaces every run of characters that are not letters or "
        "digits with one hyphen, and strips leading and trailing hyphens. "
        "Example: slugify('Hello, World!') == 'hello-world'.", {})
    work = Path(tempfile.mkdtemp(prefix="atelier-bench-steps-"))
    try:
        summary, stderr, wall = generate(project, "resample+repair", model, work / "out",
                                         review=True, docs=True, threads=threads,
                                         timeout_s=timeout_s)
        report_file = work / "out" / "ATELIER_REPORT.json"
        report = (json.loads(report_file.read_text(encoding="utf-8"))
                  if report_file.is_file() else {})
        files = sorted(read_generated(work / "out"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    timings = report.get("timings", {})
    sandbox_s = sum(float(r.get("duration_s", 0)) for r in report.get("rounds", []))
    return {"model": model, "wall_s": round(wall, 1), "steps_s": timings.get("steps_s", {}),
            "pipeline_total_s": timings.get("total_s"), "sandbox_s_in_rounds": round(sandbox_s, 2),
            "files": files, "tests": (summary or {}).get("tests"),
            "usage": (summary or {}).get("usage"), "error": None if summary else stderr}


def projects_suite(args: argparse.Namespace, strategies: Sequence[Strategy], *,
                   kind: str = "projects", directory: Path = PROJECTS_DIR) -> dict[str, Any]:
    """bench/projects (`kind` "projects", with the step timing) or another set of the
    same layout, e.g. bench/heldout (`kind` "heldout": its own records and summary)."""
    names = args.project_names.split(",") if args.project_names else None
    projects = interleaved(load_projects(names, directory))
    if args.projects is not None:
        projects = projects[: args.projects]
    out = results_path(args.model, args.tag, kind)
    review, docs = True, False
    label = {"projects": "Projects", "heldout": "Held-out (never tuned against)"}.get(kind, kind)
    print(f"{label}: {len(projects)} ({', '.join(p.name for p in projects)}), model "
          f"{args.model}, strategies {', '.join(strategies)}, via `atelier generate --json`; "
          f"review ON, docs OFF (a README cannot change acceptance); records → {out}",
          flush=True)
    started = time.monotonic()
    code_at_start = None if args.aggregate else git_commit()
    if not args.aggregate and (args.suite != "steps" or kind != "projects"):
        for project, strategy in pending_runs(out, projects, strategies, resume=args.resume):
            keep: Path | None = getattr(args, "keep", None)
            record = run_project(project, strategy, args.model, review=review, docs=docs,
                                 threads=args.threads, timeout_s=args.project_timeout,
                                 keep_dir=keep / project.name / strategy if keep else None,
                                 roles=args.role)
            append_jsonl(out, record)
            acc = record["acceptance"]
            print(f"  {project.name:<15} {strategy:<16} acceptance {acc['passed']}/"
                  f"{acc['total']} {'ALL PASS' if acc['all_passed'] else ''}  "
                  f"generated tests {record['generated_tests']}  "
                  f"{record['completion_tokens']} tok {record['wall_s']}s"
                  + (f"  [{record['generate'][:120]}]" if record["generate"] else ""),
                  flush=True)
    agg = aggregate(list(iter_jsonl(out)), strategies, projects)
    rows = [[s, f"{r['projects_all_passed']}/{r['projects']}",
             f"{r['acceptance_tests_passed']}/{r['acceptance_tests_total']}",
             r["completion_tokens"], r.get("token_ratio", "-"), r["wall_s"],
             r.get("wall_ratio", "-")] for s, r in agg["strategies"].items()]
    print()
    print(f"{label} — {args.model}, {len(agg['projects'])} projects")
    print(table(["strategy", "projects all green", "acceptance tests", "compl. tokens",
                 "tok ×single", "wall s", "wall ×single"], rows))
    data: dict[str, Any] = {"model": args.model, "review": review, "docs": docs,
                            "strategies": list(strategies), "code_at_start": code_at_start,
                            **agg}
    previous = RESULTS_DIR / f"quality-{kind}-{args.model}{suffix(args.tag)}.json"
    # keep the last step timing when this run does not make one
    if kind == "projects" and previous.is_file():
        old = json.loads(previous.read_text(encoding="utf-8")).get("step_timing")
        if old:
            data["step_timing"] = old
    if kind == "projects" and (args.suite == "steps"
                               or (not args.no_step_timing and not args.aggregate)):
        print(f"\nEnd-to-end step timing (module + tests + review + README) on {args.model}:")
        timing = step_timing(args.model, args.threads, args.project_timeout)
        print(table(["step", "wall s"], [[k, v] for k, v in timing["steps_s"].items()]
                    + [["total (pipeline)", timing["pipeline_total_s"]],
                       ["total (process)", timing["wall_s"]],
                       ["of which sandbox", timing["sandbox_s_in_rounds"]]]))
        data["step_timing"] = timing
    data["elapsed_s"] = round(time.monotonic() - started, 1)
    path = write_result(f"quality-{kind}-{args.model}{suffix(args.tag)}", data)
    print(f"→ {path}")
    return data


def check_references(directory: Path = PROJECTS_DIR) -> list[tuple[str, dict[str, Any]]]:
    """Run every project's acceptance tests against its reference/ solution: proves the
    tests themselves are right (each must pass all)."""
    results = []
    for project in load_projects(directory=directory):
        ref_dir = directory / project.name / "reference"
        reference = {str(p.relative_to(ref_dir)): p.read_text(encoding="utf-8")
                     for p in sorted(ref_dir.rglob("*")) if p.is_file()}
        results.append((project.name, asyncio.run(run_acceptance(project, reference))))
    return results


if __name__ == "__main__":
    for name, acc in check_references() + check_references(HELDOUT_DIR):
        print(f"{name:<16} {acc['passed']}/{acc['total']} "
              f"{'ok' if acc['all_passed'] else 'FAILED ' + acc['output_tail'][-800:]}")
