"""Quality benchmark (`make bench-quality`): does the pipeline write more working code
than one plain call with the same model?

* HumanEval pass@1 per strategy (`single` is the baseline), with completion tokens,
  wall time, lift in points and token ratio; per-problem JSONL, resumable.
* Project level: small Python and JavaScript projects from bench/projects/, generated
  end to end with `atelier generate --json`, scored by acceptance tests the pipeline
  never sees; plus per-step wall time of one small project.
* Held-out (`--suite heldout`): bench/heldout/, the same layout and scoring, requests
  written without examples; never tuned against, reported apart.
* Plain requests (`--suite plain`): bench/plain/, no names and no examples, no
  acceptance tests: verdict, per-step wall time, tokens, generated projects kept for review.

Review and docs are off for HumanEval (they cannot change a single function's
correctness and cost minutes per problem); the output says so.

    python -m bench.quality --suite humaneval --model qwen2.5-coder-0.5b --limit 40
    python -m bench.quality --suite projects --projects 4
    python -m bench.quality --suite heldout                  # never tune against these
    python -m bench.quality --suite plain --strategies resample+repair
    python -m bench.quality --suite humaneval --resume      # continue a killed run
    python -m bench.quality --suite humaneval --aggregate   # only print the summary
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from atelier.domain.spec import Strategy
from atelier.settings import Settings
from bench.common import git_commit, iter_jsonl, load_humaneval, write_result
from bench.humaneval import aggregate, results_path, run_humaneval, summary_table
from bench.plain_requests import plain_suite
from bench.project_level import HELDOUT_DIR, projects_suite, suffix

STRATEGIES: tuple[Strategy, ...] = ("single", "repair", "resample", "resample+repair")
DEFAULT_STRATEGIES = "single,resample+repair"


# The product's default local model, whatever the environment overrides.
DEFAULT_MODEL: str = Settings(_env_file=None).local_default_model  # type: ignore[call-arg]

def parse_strategies(text: str) -> list[Strategy]:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    for s in chosen:
        if s not in STRATEGIES:
            raise SystemExit(f"unknown strategy {s!r}; known: {', '.join(STRATEGIES)}")
    if "single" not in chosen:
        chosen.insert(0, "single")  # the baseline every ratio is measured against
    return cast(list[Strategy], chosen)


def plain_strategies(text: str) -> list[Strategy]:
    """Plain requests have no baseline to be a ratio of: only the strategies named."""
    chosen = parse_strategies(text)
    named = {s.strip() for s in text.split(",")}
    return [s for s in chosen if s != "single" or "single" in named]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite",
                   choices=("humaneval", "projects", "steps", "heldout", "plain", "all"),
                   default="all",
                   help="steps: only the end-to-end per-step timing of one small project; "
                        "heldout: bench/heldout (never tuned against); plain: bench/plain; "
                        "all: humaneval + projects + steps")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help="catalog id or GGUF path (local provider)")
    p.add_argument("--strategies", default=DEFAULT_STRATEGIES,
                   help=f"comma list of {', '.join(STRATEGIES)} (single is always added)")
    p.add_argument("--limit", type=int, default=None, help="HumanEval problems (default all)")
    p.add_argument("--offset", type=int, default=0, help="first HumanEval problem index")
    p.add_argument("--tasks", default=None,
                   help="comma list of HumanEval task ids to run instead of a range "
                        "(e.g. to re-measure the problems a change affects)")
    p.add_argument("--workers", type=int, default=1,
                   help="jobs in flight (the model serves one call at a time anyway)")
    p.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    p.add_argument("--resume", action="store_true",
                   help="keep the per-problem JSONL and run only what is missing")
    p.add_argument("--aggregate", action="store_true",
                   help="do not run anything: summarise the JSONL files")
    p.add_argument("--max-fix-rounds", type=int, default=None,
                   help="default: the setting (ATELIER_MAX_FIX_ROUNDS)")
    p.add_argument("--max-time", type=float, default=None,
                   help="wall-time budget per HumanEval job in seconds (default none)")
    p.add_argument("--projects", type=int, default=None,
                   help="how many bench/projects specs (default all)")
    p.add_argument("--project-names", default=None,
                   help="comma list of project (or held-out / plain request) names")
    p.add_argument("--project-timeout", type=float, default=1800.0,
                   help="seconds one `atelier generate` may take")
    p.add_argument("--role", action="append", default=[], metavar="ROLE=MODEL",
                   help="projects, held-out and plain suites: run one agent on another "
                        "model (repeatable), e.g. --role planner=qwen2.5-coder-1.5b; "
                        "give the run its own --tag")
    p.add_argument("--verbose", action="store_true", help="log every step of every job")
    p.add_argument("--tag", default="",
                   help="suffix of the result files (keeps a quick run apart from a long one)")
    p.add_argument("--keep", type=Path, default=None, metavar="DIR",
                   help="projects / held-out: keep each generated project (its tests and "
                        "ATELIER_REPORT.*) under DIR/<project>/<strategy>/ for diagnosis")
    p.add_argument("--no-step-timing", action="store_true",
                   help="skip the end-to-end per-step timing of one small project")
    return p


def humaneval_suite(args: argparse.Namespace, strategies: Sequence[Strategy]) -> dict[str, Any]:
    problems = load_humaneval()
    end = None if args.limit is None else args.offset + args.limit
    chosen = problems[args.offset:end]
    if args.tasks:
        wanted = {t.strip() for t in args.tasks.split(",") if t.strip()}
        chosen = [p for p in chosen if p["task_id"] in wanted]
    out = results_path(args.model, args.tag)
    print(f"HumanEval: {len(chosen)} problems (#{args.offset}..), model {args.model}, "
          f"strategies {', '.join(strategies)}; review and docs OFF for speed; "
          f"per-problem records → {out}", flush=True)
    started = time.monotonic()
    code_at_start = None if args.aggregate else git_commit()
    if not args.aggregate:
        asyncio.run(run_humaneval(
            chosen, strategies, model=args.model, threads=args.threads, workers=args.workers,
            resume=args.resume, out=out, max_fix_rounds=args.max_fix_rounds,
            max_time_s=args.max_time, review=False, docs=False, verbose=args.verbose))
    agg = aggregate(list(iter_jsonl(out)), strategies,
                    task_ids=[p["task_id"] for p in chosen])
    print()
    print(f"HumanEval pass@1 — {args.model}, {agg['problems']} problems every strategy "
          f"finished (review/docs off, max_fix_rounds "
          f"{args.max_fix_rounds if args.max_fix_rounds is not None else 'as configured'})")
    print(summary_table(agg))
    data = {
        "model": args.model, "offset": args.offset, "limit": args.limit,
        "strategies": list(strategies), "review": False, "docs": False,
        "max_fix_rounds": args.max_fix_rounds, "threads": args.threads,
        "elapsed_s": round(time.monotonic() - started, 1), "records": str(out.name),
        "code_at_start": code_at_start,
        **agg,
    }
    path = write_result(f"quality-humaneval-{args.model}{suffix(args.tag)}", data)
    print(f"→ {path}")
    return data


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parser().parse_args(argv)
    strategies = parse_strategies(args.strategies)
    out: dict[str, Any] = {}
    if args.suite in ("humaneval", "all"):
        out["humaneval"] = humaneval_suite(args, strategies)
    if args.suite in ("projects", "steps", "all"):
        out["projects"] = projects_suite(args, strategies)
    if args.suite == "heldout":
        out["heldout"] = projects_suite(args, strategies, kind="heldout", directory=HELDOUT_DIR)
    if args.suite == "plain":
        out["plain"] = plain_suite(args, plain_strategies(args.strategies))
    return out


if __name__ == "__main__":
    main()
