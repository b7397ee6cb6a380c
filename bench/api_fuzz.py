"""A longer schemathesis run than the CI suite's (tests/security/test_api_fuzz.py).

    python -m bench.api_fuzz [--examples 100] [--db sqlite|postgresql|both]

Runs the same loop — every operation of the live schema, positive and negative data,
as the fuzzing admin and without credentials, against a real ``atelier serve`` — with
more examples per operation, prints each engine's request count and status tally, and
writes them to bench/results/api_fuzz.json. The suite's assertions apply (0 × 5xx,
the error shape, schema conformance, the fuzzer still signed in at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "api_fuzz.json"
_TALLY = re.compile(r"^fuzz: (\d+) requests, statuses (\{.*\})$", re.MULTILINE)


def run(examples: int, db: str) -> dict[str, object]:
    selector = {"sqlite": "sqlite", "postgresql": "postgresql", "both": ""}[db]
    argv = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
            "-o", "timeout=7200", "tests/security/test_api_fuzz.py"]
    if selector:
        argv += ["-k", selector]
    started = time.monotonic()
    env = {**os.environ, "ATELIER_FUZZ_EXAMPLES": str(examples)}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    tallies = [
        {"requests": int(n), "statuses": json.loads(statuses)}
        for n, statuses in _TALLY.findall(done.stdout)
    ]
    return {
        "examples_per_operation": examples,
        "db": db,
        "passed": done.returncode == 0,
        "runs": tallies,
        "requests": sum(t["requests"] for t in tallies),
        "server_errors": sum(
            count for t in tallies for status, count in t["statuses"].items() if int(status) >= 500
        ),
        "duration_s": round(time.monotonic() - started, 1),
        "tail": done.stdout[-3000:] if done.returncode else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    result = run(args.examples, args.db)
    print(json.dumps({k: v for k, v in result.items() if k != "tail"}, indent=2))
    if result["tail"]:
        print(result["tail"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
