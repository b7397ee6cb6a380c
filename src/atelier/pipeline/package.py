"""The job's deliverable: project files plus ATELIER_REPORT.json and ATELIER_REPORT.md."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from atelier.domain.errors import InvalidPath
from atelier.domain.job import JobResult
from atelier.domain.paths import validate_project_path
from atelier.pipeline.dependency_report import dependencies_json, dependencies_md
from atelier.pipeline.run import sha256_text
from atelier.pipeline.verdict_report import verdict_md

REPORT_JSON = "ATELIER_REPORT.json"
REPORT_MD = "ATELIER_REPORT.md"


def tests_summary(result: JobResult) -> dict[str, int]:
    report = result.final_report
    if report is None:
        return {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    return {"passed": report.passed, "failed": report.failed, "errors": report.errors,
            "skipped": report.skipped}


def build_report(result: JobResult) -> dict[str, Any]:
    """The machine-readable report: plan, file hashes, test rounds, findings, usage, timings."""
    return {
        "job_id": result.job_id,
        "status": result.status,
        "reason": result.reason,
        "verdict": result.verdict.model_dump(mode="json"),
        "plan": result.plan.model_dump(mode="json") if result.plan else None,
        "files": [
            {"path": path, "sha256": sha256_text(content), "size": len(content.encode())}
            for path, content in sorted(result.files.items())
        ],
        "tests": tests_summary(result),
        "rounds": [
            {
                "round": r.round,
                "strategy": r.strategy,
                "passed": r.report.passed,
                "failed": r.report.failed,
                "errors": r.report.errors,
                "skipped": r.report.skipped,
                "timed_out": r.report.timed_out,
                "duration_s": r.report.duration_s,
                "isolation": r.report.isolation,
                "policy": r.report.policy.model_dump(mode="json") if r.report.policy else None,
                "cases": [c.model_dump(mode="json") for c in r.report.cases],
                "output_tail": r.report.output_tail[-2000:],
            }
            for r in result.rounds
        ],
        "fix_rounds": result.fix_rounds,
        "dependencies": dependencies_json(result.environment),
        "findings": [f.model_dump(mode="json") for f in result.findings],
        "usage": result.usage.model_dump(),
        "timings": {"steps_s": result.step_durations_s, "total_s": result.duration_s},
    }


def render_report_md(result: JobResult) -> str:
    """The human-readable report."""
    tests = tests_summary(result)
    name = result.plan.name if result.plan else "project"
    lines = [
        f"# Atelier report — {name}",
        "",
        *verdict_md(result),
        f"- Job: `{result.job_id}`",
        f"- Status: **{result.status}**" + (f" — {result.reason}" if result.reason else ""),
        f"- Tests: {tests['passed']} passed, {tests['failed']} failed, {tests['errors']} errors",
        f"- Fix rounds: {result.fix_rounds}",
        f"- Usage: {result.usage.calls} calls, {result.usage.prompt_tokens} prompt + "
        f"{result.usage.completion_tokens} completion tokens, ${result.usage.cost_usd:.4f}",
        f"- Duration: {result.duration_s:.1f}s",
        "",
    ]
    if result.plan:
        lines += ["## Plan", "", result.plan.summary or "", ""]
        lines += [f"- `{f.path}` — {f.purpose}" for f in result.plan.files]
        lines.append("")
        if result.plan.examples:
            lines += ["The request gave no examples; the plan holds the code to these "
                      "(run first, weighed like generated tests):", ""]
            lines += [f"- `{example}`" for example in result.plan.examples]
            lines.append("")
    lines += ["## Files", "", "| path | bytes | sha256 |", "|---|---|---|"]
    for path, content in sorted(result.files.items()):
        lines.append(f"| `{path}` | {len(content.encode())} | `{sha256_text(content)[:12]}` |")
    lines += ["", "## Test rounds", "", "| round | strategy | passed | failed | errors |",
              "|---|---|---|---|---|"]
    for r in result.rounds:
        lines.append(f"| {r.round} | {r.strategy} | {r.report.passed} | {r.report.failed} "
                     f"| {r.report.errors} |")
    lines += ["", *dependencies_md(result.environment, result.rounds)]
    if result.findings:
        lines += ["## Review findings", ""]
        for f in result.findings:
            where = f"{f.path}:{f.line}" if f.line else f.path
            lines.append(f"- **{f.severity}** `{where}` — {f.message}")
    lines += ["", "## Step timings", ""]
    lines += [f"- {step}: {seconds:.2f}s" for step, seconds in result.step_durations_s.items()]
    return "\n".join(lines) + "\n"


def deliverable_files(result: JobResult) -> dict[str, str]:
    """Project files plus both reports, as they go into a directory or a ZIP."""
    return {
        **result.files,
        REPORT_JSON: json.dumps(build_report(result), indent=2) + "\n",
        REPORT_MD: render_report_md(result),
    }


def write_project(result: JobResult, out_dir: Path) -> list[Path]:
    """Write the deliverable under out_dir. Every path is re-validated and must stay inside.

    Raises InvalidPath for a path that is unsafe (it is never written).
    """
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for raw, content in deliverable_files(result).items():
        path = validate_project_path(raw) if raw not in (REPORT_JSON, REPORT_MD) else raw
        target = (out_dir / path).resolve()
        if not target.is_relative_to(out_dir):
            raise InvalidPath(f"{raw!r} escapes the output directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return written


def zip_bytes(files: dict[str, str], root: str) -> bytes:
    """A ZIP of the files under a top-level folder `root`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(files.items()):
            archive.writestr(f"{root}/{path}", content)
    return buffer.getvalue()
