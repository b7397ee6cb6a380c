"""HumanEval pass@1 per strategy, one model, through the real pipeline.

The pipeline sees only each problem's `prompt` (wrapped in a short instruction); the
hidden `test` and `canonical_solution` are used only to score. Every (problem,
strategy) outcome is appended to a JSONL file as soon as it is known, so a long run
can be resumed (`--resume`) and aggregated at any time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from atelier.domain.events import Event
from atelier.domain.spec import ROLES, Budgets, JobOptions, ModelChoice, Spec, Strategy
from atelier.llm.base import LLM
from atelier.pipeline.memory import InMemoryCheckpointStore
from atelier.pipeline.models import build_role_llms
from atelier.pipeline.run import run_pipeline
from atelier.settings import Settings
from bench.common import RESULTS_DIR, append_jsonl, iter_jsonl, ratio, table
from bench.scoring import score_humaneval, source_files

SPEC_TEMPLATE = (
    "Write a Python module `solution.py` that implements the function below exactly "
    "(same name and signature), including any helper functions shown. The docstring "
    "describes the behaviour and gives examples. Use only the standard library.\n\n"
    "```python\n{prompt}```\n"
)


def humaneval_spec(
    problem: Mapping[str, str], strategy: Strategy, *, model: str, max_fix_rounds: int | None,
    max_time_s: float | None, review: bool, docs: bool,
) -> Spec:
    budgets = Budgets(max_wall_time_s=max_time_s)
    if max_fix_rounds is not None:
        budgets.max_fix_rounds = max_fix_rounds
    options = JobOptions(provider="local", model=model, strategy=strategy, budgets=budgets,
                         review=review, docs=docs)
    return Spec(prompt=SPEC_TEMPLATE.format(prompt=problem["prompt"]), language="python",
                options=options)


async def _print_steps(event: Event) -> None:
    """--verbose: one line per finished step and per test run, to see where time goes."""
    if event.type == "step_finished":
        print(f"      {event.job_id} {event.step}: {event.data.get('duration_s')}s", flush=True)
    elif event.type == "test_run":
        print(f"      {event.job_id} tests round {event.data.get('round')} "
              f"({event.data.get('strategy')}): {event.data.get('passed')} passed, "
              f"{event.data.get('failed')} failed, {event.data.get('errors')} errors", flush=True)


async def run_one(
    problem: Mapping[str, str], strategy: Strategy, llms: Mapping[Any, LLM], settings: Settings,
    *, model: str, max_fix_rounds: int | None, max_time_s: float | None, review: bool,
    docs: bool, verbose: bool = False,
) -> dict[str, Any]:
    """Generate one problem with one strategy and score it; never raises for a bad job."""
    spec = humaneval_spec(problem, strategy, model=model, max_fix_rounds=max_fix_rounds,
                          max_time_s=max_time_s, review=review, docs=docs)
    job_id = f"he-{problem['task_id'].replace('/', '-')}-{strategy}"
    started = time.monotonic()
    spent_by_round: dict[int, int] = {}
    candidates: list[dict[str, Any]] = []  # each resample draw: what k would have bought

    async def emit(event: Event) -> None:
        if event.type == "test_run":
            spent_by_round[int(event.data["round"])] = int(event.data["completion_tokens"])
        elif event.type == "log" and event.data.get("message") == "resample candidate":
            candidates.append({k: event.data.get(k) for k in (
                "candidate", "passed", "failed", "errors", "acceptable", "completion_tokens")})
        if verbose:
            await _print_steps(event)

    result = await run_pipeline(job_id, spec, llms=llms, settings=settings,
                                checkpoints=InMemoryCheckpointStore(), emit=emit)
    wall = time.monotonic() - started
    score = await score_humaneval(result.files, problem)
    sandbox_s = sum(r.report.duration_s for r in result.rounds)
    return {
        "task_id": problem["task_id"],
        "strategy": strategy,
        "model": model,
        "passed": score.passed,
        "score_detail": score.detail,
        "scored_module": score.module,
        "status": result.status,
        "reason": result.reason,
        "completion_tokens": result.usage.completion_tokens,
        "prompt_tokens": result.usage.prompt_tokens,
        "calls": result.usage.calls,
        "wall_s": round(wall, 2),
        "sandbox_s_in_rounds": round(sandbox_s, 2),
        "fix_rounds": result.fix_rounds,
        "steps_s": result.step_durations_s,
        "rounds": [
            {"round": r.round, "strategy": r.strategy, "passed": r.report.passed,
             "failed": r.report.failed, "errors": r.report.errors,
             "completion_tokens_so_far": spent_by_round.get(r.round)}
            for r in result.rounds
        ],
        "resample_candidates": candidates,
        "plan_files": [f.path for f in result.plan.files] if result.plan else [],
        "sources": source_files(result.files),
        "tests": {p: c for p, c in result.files.items() if p not in source_files(result.files)},
    }


def bench_settings(threads: int | None) -> Settings:
    """The environment's settings, with the local model's thread count pinned if given."""
    return Settings(local_threads=threads) if threads else Settings()


def role_llms(model: str, settings: Settings) -> Mapping[Any, LLM]:
    """One shared local model for all roles, built once for every strategy."""
    options = JobOptions(provider="local", model=model,
                         roles={r: ModelChoice() for r in ROLES})
    return build_role_llms(options, settings)


def results_path(model: str, tag: str = "") -> Path:
    return RESULTS_DIR / f"humaneval-{model}{'-' + tag if tag else ''}.jsonl"


def done_keys(path: Path) -> set[tuple[str, str]]:
    return {(str(r["task_id"]), str(r["strategy"])) for r in iter_jsonl(path)}


def aggregate(
    records: Sequence[Mapping[str, Any]], strategies: Sequence[str], baseline: str = "single",
    task_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """pass@1, tokens, wall time per strategy over the problems every strategy finished
    (so the comparison is paired), plus lift and token ratio against `baseline`."""
    latest: dict[tuple[str, str], Mapping[str, Any]] = {}
    for r in records:
        latest[(str(r["task_id"]), str(r["strategy"]))] = r
    tasks = sorted({t for t, _ in latest}, key=_task_number)
    if task_ids is not None:
        wanted = set(task_ids)
        tasks = [t for t in tasks if t in wanted]
    common = [t for t in tasks if all((t, s) in latest for s in strategies)]
    per: dict[str, dict[str, Any]] = {}
    for s in strategies:
        rows = [latest[(t, s)] for t in common]
        n = len(rows)
        passed = sum(bool(r["passed"]) for r in rows)
        per[s] = {
            "problems": n,
            "passed": passed,
            "pass_at_1": round(passed / n, 4) if n else None,
            "completion_tokens": sum(int(r["completion_tokens"]) for r in rows),
            "prompt_tokens": sum(int(r["prompt_tokens"]) for r in rows),
            "calls": sum(int(r["calls"]) for r in rows),
            "wall_s": round(sum(float(r["wall_s"]) for r in rows), 1),
            # Jobs that ended failed (e.g. a model call timed out) are still scored on
            # the files they left, as a user would get them.
            "jobs_not_succeeded": sum(r.get("status", "succeeded") != "succeeded"
                                      for r in rows),
            "stop_reasons": sorted({str(r.get("reason")).split(":")[0] for r in rows
                                    if r.get("reason")}),
        }
    base = per.get(baseline)
    for s, row in per.items():
        if base is None or not row["problems"]:
            continue
        row["lift_points"] = round(100 * (row["passed"] - base["passed"]) / row["problems"], 1)
        row["token_ratio"] = ratio(row["completion_tokens"], base["completion_tokens"])
        row["wall_ratio"] = ratio(row["wall_s"], base["wall_s"])
        if s != baseline:
            gained = [t for t in common if latest[(t, s)]["passed"]
                      and not latest[(t, baseline)]["passed"]]
            lost = [t for t in common if not latest[(t, s)]["passed"]
                    and latest[(t, baseline)]["passed"]]
            row["gained"], row["lost"] = gained, lost
    return {"problems": len(common), "task_ids": common, "strategies": per}


def _task_number(task_id: str) -> int:
    tail = task_id.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 10**9


def summary_table(agg: Mapping[str, Any]) -> str:
    rows = []
    for s, r in agg["strategies"].items():
        rows.append([s, f"{r['passed']}/{r['problems']}",
                     f"{100 * (r['pass_at_1'] or 0):.1f}%", r.get("lift_points", "-"),
                     r["completion_tokens"], r.get("token_ratio", "-"), r["wall_s"],
                     r.get("wall_ratio", "-"), len(r.get("gained", [])),
                     len(r.get("lost", [])), r["jobs_not_succeeded"]])
    return table(["strategy", "passed", "pass@1", "lift pts", "compl. tokens", "tok ×single",
                  "wall s", "wall ×single", "gained", "lost", "jobs failed"], rows)


async def run_humaneval(
    problems: Sequence[Mapping[str, str]], strategies: Sequence[Strategy], *, model: str,
    threads: int | None, workers: int, resume: bool, out: Path, max_fix_rounds: int | None,
    max_time_s: float | None, review: bool, docs: bool, log: bool = True, verbose: bool = False,
) -> list[dict[str, Any]]:
    """Run every (problem, strategy) not already in `out` (when resuming); return the new
    records. Strategies are interleaved per problem so a partial run stays paired."""
    settings = bench_settings(threads)
    llms = role_llms(model, settings)
    skip = done_keys(out) if resume else set()
    if not resume and out.exists():
        out.unlink()
    todo = [(p, s) for p in problems for s in strategies if (p["task_id"], s) not in skip]
    semaphore = asyncio.Semaphore(max(1, workers))
    records: list[dict[str, Any]] = []
    counter = {"done": 0}

    async def one(problem: Mapping[str, str], strategy: Strategy) -> None:
        async with semaphore:
            record = await run_one(problem, strategy, llms, settings, model=model,
                                   max_fix_rounds=max_fix_rounds, max_time_s=max_time_s,
                                   review=review, docs=docs, verbose=verbose)
        append_jsonl(out, record)
        records.append(record)
        counter["done"] += 1
        if log:
            print(f"[{counter['done']}/{len(todo)}] {record['task_id']:<14} {strategy:<16} "
                  f"{'PASS' if record['passed'] else 'fail'}  {record['completion_tokens']:>5} tok "
                  f"{record['wall_s']:>6.1f}s  rounds={[r['passed'] for r in record['rounds']]}"
                  f"  {'' if record['passed'] else record['score_detail'][:70]}", flush=True)

    if workers <= 1:
        for problem, strategy in todo:
            await one(problem, strategy)
    else:
        await asyncio.gather(*(one(p, s) for p, s in todo))
    return records
