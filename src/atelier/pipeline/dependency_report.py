"""The report's account of what the code ran with: the packages installed (name,
version, hash), those refused and why, and the sandbox policy of every test round."""

from __future__ import annotations

from typing import Any

from atelier.domain.environment import EnvironmentReport
from atelier.domain.job import TestRound
from atelier.domain.report import SandboxPolicy


def dependencies_json(environment: EnvironmentReport | None) -> dict[str, Any] | None:
    if environment is None:
        return None
    return environment.model_dump(mode="json", exclude={"manifests"}) | {
        "manifests": sorted(environment.manifests)}


def policy_line(policy: SandboxPolicy | None) -> str:
    """One line a reader can check: where the code ran and what it could reach."""
    if policy is None:
        return "not recorded"
    limits = policy.limits
    return (f"{policy.backend}; network {policy.network}; {policy.filesystem}; processes: "
            f"{policy.processes}; limits {limits.get('wall_time_s', 0):.0f} s wall, "
            f"{limits.get('cpu_s', 0):.0f} s CPU, {limits.get('memory_mb', 0):.0f} MB memory, "
            f"{limits.get('max_processes', 0):.0f} processes, "
            f"{limits.get('max_file_mb', 0):.0f} MB per file; {policy.environment}")


def dependencies_md(environment: EnvironmentReport | None, rounds: list[TestRound]) -> list[str]:
    """Markdown: installed packages, refused ones, then each round's sandbox policy."""
    lines: list[str] = []
    if environment is not None and (environment.requested or environment.findings):
        lines += ["## Dependencies", ""]
        if environment.installed:
            lines += [f"Installed from {environment.index} (wheels only, no install scripts) "
                      "and pinned in " + ", ".join(f"`{m}`" for m in sorted(
                          environment.manifests)) + ":", "",
                      "| package | version | hash |", "|---|---|---|"]
            lines += [f"| {p.name}{' (direct)' if p.direct else ''} | {p.version} | "
                      f"`{p.hash[:23]}…` |" for p in environment.installed]
        if environment.findings:
            lines += ["", "Not installed:", ""]
            lines += [f"- `{f.name}` — {f.message}" for f in environment.findings]
        lines.append("")
    if rounds:
        lines += ["## Sandbox policy", ""]
        lines += [f"- round {r.round} ({r.strategy}): {policy_line(r.report.policy)}"
                  for r in rounds]
        lines.append("")
    return lines
