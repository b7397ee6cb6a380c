"""`make bench`: the quick set — local tokens/s, pipeline overhead, and a small quality
run (a few HumanEval problems and two projects, one Python and one JavaScript) — then
one summary table. Results go to bench/results/ (the quality ones tagged `quick`, so
they never overwrite a long `make bench-quality` run).

    python -m bench.run_all [--model qwen2.5-coder-0.5b] [--limit 5] [--projects 2]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench import local_tokens, pipeline_overhead, quality
from bench.common import table, write_result


def quality_rows(q: dict[str, Any], model: str) -> list[list[Any]]:
    """Summary rows of a quality.main() result: HumanEval and project level."""
    rows: list[list[Any]] = []
    if "humaneval" in q:
        he = q["humaneval"]["strategies"]
        single, best = he.get("single", {}), he.get("resample+repair", {})
        rows.append([f"HumanEval pass@1 ({q['humaneval']['problems']} problems)", model,
                     f"single {single.get('passed')}/{single.get('problems')}, pipeline "
                     f"{best.get('passed')}/{best.get('problems')}",
                     f"{best.get('lift_points')} pts at {best.get('token_ratio')}× tokens"])
    if "projects" in q:
        pr = q["projects"]["strategies"]
        ps, pp = pr.get("single", {}), pr.get("resample+repair", {})
        rows.append([f"projects all green ({len(q['projects']['projects'])})", model,
                     f"single {ps.get('projects_all_passed')}, pipeline "
                     f"{pp.get('projects_all_passed')}",
                     f"tests {ps.get('acceptance_tests_passed')} → "
                     f"{pp.get('acceptance_tests_passed')} of {pp.get('acceptance_tests_total')}"])
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="qwen2.5-coder-0.5b", help="model of the quality run")
    p.add_argument("--tokens-model", default="smollm2-135m", help="model of the tokens/s run")
    p.add_argument("--limit", type=int, default=5, help="HumanEval problems")
    p.add_argument("--projects", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-quality", action="store_true")
    args = p.parse_args(argv)
    started = time.monotonic()

    print("== 1. local provider tokens/s ==")
    tokens = local_tokens.main(["--model", args.tokens_model, "--reps", "3",
                                "--threads", str(args.threads)])
    print("\n== 2. pipeline overhead ==")
    overhead = pipeline_overhead.main(["--files", "20", "--reps", "5"])
    rows: list[list[Any]] = [
        ["local tokens/s", args.tokens_model,
         f"{tokens['atelier_tokens_per_s']} vs raw {tokens['raw_tokens_per_s']}",
         f"{tokens['ratio']}× raw"],
        ["pipeline overhead", "20 files, scripted",
         f"{overhead['excl_sandbox_ms']} ms excl. sandbox ({overhead['sandbox_ms']} ms sandbox)",
         f"{overhead['overhead_ratio']}× raw LLM calls"],
    ]
    if not args.skip_quality:
        print("\n== 3. quality (quick: tagged `quick`) ==")
        q = quality.main(["--suite", "all", "--model", args.model, "--limit", str(args.limit),
                          "--projects", str(args.projects), "--threads", str(args.threads),
                          "--strategies", "single,resample+repair", "--tag", "quick",
                          "--no-step-timing"])
        rows += quality_rows(q, args.model)
    elapsed = round(time.monotonic() - started, 1)
    print(f"\n== summary ({elapsed}s) ==")
    print(table(["benchmark", "subject", "measured", "vs baseline"], rows))
    data = {"rows": rows, "elapsed_s": elapsed}
    write_result("run_all", data)
    return data


if __name__ == "__main__":
    main()
