"""A JavaScript project's environment: ``npm install --ignore-scripts`` from a shared cache.

No install script of any package runs. The resulting ``node_modules`` is shared by
every job asking for the same packages, linked into the project and mounted
read-only for the test run; its ``package-lock.json`` pins what was tested.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

from atelier.domain.environment import (
    DependencyFinding,
    EnvironmentReport,
    InstalledPackage,
    Requirement,
)
from atelier.domain.errors import SandboxError
from atelier.sandbox.env_policy import DependencyPolicy, PreparedEnvironment
from atelier.sandbox.installer import (
    new_build_directory,
    publish_directory,
    run_installer,
    tree_size_bytes,
)

_ENV_NAME = "atelier-environment"
_FINDINGS = "atelier-findings.json"
_NOT_FOUND = re.compile(r"404 Not Found - GET \S+/(@?[^/\s]+(?:%2[fF][^/\s]+)?)(?=\s|$)",
                        re.MULTILINE)
_NOT_IN_REGISTRY = re.compile(
    r"'(@?[^@'\s]+)@[^']*' (?:is not in this registry|could not be found)")
_NO_VERSION = re.compile(r"No matching version found for (@?[^@\s]+)@(\S+?)\.?\s")


def npm_binary() -> str:
    npm = shutil.which("npm", path="/usr/bin:/usr/local/bin:/bin")
    if npm is None:
        raise SandboxError("npm is not installed; JavaScript projects with dependencies "
                           "need Node.js and npm")
    return npm


def explain_failure(output: str, requirements: list[Requirement]) -> list[DependencyFinding]:
    """Turn npm's error output into findings about the requirements it names."""
    by_name = {r.name: r for r in requirements}
    findings: dict[str, DependencyFinding] = {}
    for pattern, message in (
        (_NOT_FOUND, "`{name}` does not exist in the npm registry; use an installed package "
                     "or Node's standard library"),
        (_NOT_IN_REGISTRY, "`{name}` does not exist in the npm registry; use an installed "
                           "package or Node's standard library"),
        (_NO_VERSION, "`{text}` matches no published version; drop the pin or name a version "
                      "that exists"),
    ):
        for match in pattern.finditer(output):
            name = match.group(1).replace("%2f", "/").replace("%2F", "/")
            if name in by_name and name not in findings:
                findings[name] = DependencyFinding(name=name, message=message.format(
                    name=name, text=f"{name}@{by_name[name].spec or '*'}"))
    return list(findings.values())


def _locked(lock: dict[str, Any]) -> list[InstalledPackage]:
    direct = set((lock.get("packages", {}).get("", {}) or {}).get("dependencies", {}))
    out = []
    for key, entry in sorted(lock.get("packages", {}).items()):
        if not key.startswith("node_modules/") or not isinstance(entry, dict):
            continue
        name = key.rsplit("node_modules/", 1)[1]
        out.append(InstalledPackage(name=name, version=str(entry.get("version", "")),
                                    hash=str(entry.get("integrity", "")),
                                    direct=key == f"node_modules/{name}" and name in direct))
    return out


def _env_dir(policy: DependencyPolicy, requirements: list[Requirement], registry: str) -> Path:
    ident = "\n".join([registry, *sorted(f"{r.name}@{r.spec}" for r in requirements)])
    return policy.envs_dir / f"js-{hashlib.sha256(ident.encode()).hexdigest()[:20]}"


async def _npm_install(requirements: list[Requirement], policy: DependencyPolicy,
                       workdir: Path) -> tuple[bool, str]:
    manifest = {"name": _ENV_NAME, "version": "0.0.0", "private": True,
                "dependencies": {r.name: r.spec or "*" for r in requirements}}
    (workdir / "package.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                          encoding="utf-8")
    argv = [npm_binary(), "install", "--ignore-scripts", "--no-audit", "--no-fund",
            "--prefer-offline", "--loglevel=error", "--cache", str(policy.cache_dir / "npm")]
    if policy.npm_registry:
        argv += ["--registry", policy.npm_registry]
    env = {**policy.installer_env, "NO_COLOR": "1", "npm_config_update_notifier": "false"}
    run = await run_installer(argv, cwd=workdir, env=env, timeout_s=policy.timeout_s)
    return run.ok, run.output


async def prepare_node(
    requirements: list[Requirement], findings: list[DependencyFinding],
    policy: DependencyPolicy, *, project_manifest: str | None = None,
    project_name: str = "project",
) -> PreparedEnvironment:
    """Install (or reuse) node_modules for the requirements and describe them."""
    registry = policy.npm_registry or "(npm's configured registry)"
    report = EnvironmentReport(language="javascript", requested=requirements,
                               findings=list(findings), index=registry)
    kept = [r for r in requirements if policy.refusal(r.name) is None]
    report.findings += [DependencyFinding(name=r.name, message=why) for r in requirements
                        if (why := policy.refusal(r.name)) is not None]
    if not kept:
        return PreparedEnvironment(report=report)
    # Keyed by what was asked (names npm turns down included), so a later job asking the same
    # finds the environment, and the findings recorded with it, without running npm.
    final = _env_dir(policy, kept, registry)
    reused = final.is_dir()
    if not reused:
        problem = await _build(kept, policy, final)
        if problem is not None:
            report.findings += problem
            return PreparedEnvironment(report=report)
    recorded = json.loads((final / _FINDINGS).read_text(encoding="utf-8"))
    report.findings += [DependencyFinding.model_validate(f) for f in recorded]
    final.touch()
    lock = json.loads((final / "package-lock.json").read_text(encoding="utf-8"))
    report.installed = _locked(lock)
    report.manifests = pinned_manifests(project_manifest, project_name, final, report.installed)
    report.reused = reused
    return PreparedEnvironment(report=report, node_modules=final / "node_modules",
                               mounts=[final])


async def _build(requirements: list[Requirement], policy: DependencyPolicy,
                 final: Path) -> list[DependencyFinding] | None:
    """Install into a fresh directory and publish it at ``final``; the findings that
    left nothing to publish, or None when it was published."""
    building = await asyncio.to_thread(new_build_directory, final.parent)
    findings: list[DependencyFinding] = []
    kept = list(requirements)
    while kept:
        ok, output = await _npm_install(kept, policy, building)
        if ok:
            break
        blamed = explain_failure(output, kept) or [
            DependencyFinding(name=r.name, message=f"`{r.name}` could not be installed: "
                              f"{_last_error(output)}") for r in kept]
        findings += blamed
        names = {f.name for f in blamed}
        kept = [r for r in kept if r.name not in names]
    problem = None
    if kept:
        lock = json.loads((building / "package-lock.json").read_text(encoding="utf-8"))
        problem = _over_limits(_locked(lock), building, policy)
        findings += [DependencyFinding(name=r.name, message=f"`{r.name}` was not installed: "
                                       f"{problem}") for r in kept if problem is not None]
    if not kept or problem is not None:
        shutil.rmtree(building, ignore_errors=True)
        return findings
    (building / _FINDINGS).write_text(
        json.dumps([f.model_dump() for f in findings]), encoding="utf-8")
    publish_directory(building, final)
    return None


def _over_limits(installed: list[InstalledPackage], root: Path,
                 policy: DependencyPolicy) -> str | None:
    denied = [why for p in installed if (why := policy.refusal(p.name)) is not None]
    if denied:
        return "; ".join(denied)
    if len(installed) > policy.max_packages:
        return (f"{len(installed)} packages needed, over this server's limit of "
                f"{policy.max_packages}; depend on fewer or smaller packages")
    size = tree_size_bytes(root / "node_modules")
    if size > policy.max_size_mb * 1024 * 1024:
        return (f"the packages take {size / 2**20:.0f} MB, over this server's limit of "
                f"{policy.max_size_mb} MB")
    return None


def _last_error(output: str) -> str:
    lines = [ln for ln in output.strip().splitlines() if "complete log" not in ln]
    return (lines[-1] if lines else "npm failed")[:300]


def pinned_manifests(project_manifest: str | None, project_name: str,
                     env_root: Path, installed: list[InstalledPackage]) -> dict[str, str]:
    """The project's package.json with exact versions of what was tested, and the lock."""
    try:
        data = json.loads(project_manifest) if project_manifest else {}
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    data.setdefault("name", project_name)
    data.setdefault("version", "1.0.0")
    data.setdefault("private", True)
    scripts = data.get("scripts")
    data["scripts"] = {"test": "node --test", **(scripts if isinstance(scripts, dict) else {})}
    data.pop("devDependencies", None)
    data["dependencies"] = {p.name: p.version for p in installed if p.direct}
    lock = json.loads((env_root / "package-lock.json").read_text(encoding="utf-8"))
    lock["name"] = data["name"]
    lock["version"] = data["version"]
    root = lock.get("packages", {}).get("")
    if isinstance(root, dict):
        root["name"] = data["name"]
        root["version"] = data["version"]
        root["dependencies"] = dict(data["dependencies"])
    return {"package.json": json.dumps(data, indent=2) + "\n",
            "package-lock.json": json.dumps(lock, indent=2) + "\n"}
