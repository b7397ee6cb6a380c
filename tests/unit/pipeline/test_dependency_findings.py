"""A dependency that could not be installed reaches the fixer as an error case that names
the file asking for it — unless only the plan named it; environments are prepared once
per job and set of requirements."""

from __future__ import annotations

from pathlib import Path

from atelier.domain.environment import DependencyFinding, EnvironmentReport, Requirement
from atelier.domain.report import TestCase, TestReport
from atelier.pipeline.dependencies import (
    ProjectEnvironments,
    dependency_cases,
    with_dependency_findings,
)
from atelier.sandbox.dependencies import collect_requirements
from atelier.sandbox.env_policy import DependencyPolicy

MISSING = "`reqests` does not exist on the package index; use an installed package"


def _environment(requested: list[Requirement], *missing: str) -> EnvironmentReport:
    return EnvironmentReport(
        language="python", requested=requested,
        findings=[DependencyFinding(name=n, message=MISSING.replace("reqests", n))
                  for n in missing])


def test_a_package_only_the_plan_named_fails_nothing() -> None:
    env = _environment([Requirement(name="reqests", source="plan")], "reqests")

    assert dependency_cases(env) == []


def test_an_imported_package_is_an_error_case_naming_the_importing_file() -> None:
    env = _environment([Requirement(name="reqests", source="import", origin="app/client.py")],
                       "reqests")

    [case] = dependency_cases(env)

    assert (case.name, case.classname, case.outcome) == ("install reqests", "dependencies",
                                                         "error")
    assert case.message == MISSING + " (app/client.py imports it)"


def test_a_manifest_package_is_an_error_case_naming_the_manifest() -> None:
    env = _environment([Requirement(name="docopt", source="manifest",
                                    origin="requirements.txt")], "docopt")

    [case] = dependency_cases(env)

    assert case.message.endswith("(requirements.txt lists it)")


def test_a_refusal_of_something_never_requested_is_still_reported() -> None:
    # e.g. an invalid requirement line: refused while collecting, never requested.
    env = _environment([], "flask ==")

    [case] = dependency_cases(env)

    assert case.name == "install flask =="
    assert case.message == MISSING.replace("reqests", "flask ==")


def test_the_plan_naming_an_imported_package_does_not_hide_its_failure() -> None:
    collected = collect_requirements("python", ["reqests"],
                                     {"app.py": "import reqests\n", "tests/test_app.py": ""})
    env = _environment(list(collected.requirements.values()), "reqests")

    [case] = dependency_cases(env)

    assert case.message.endswith("(app.py imports it)")


def test_with_dependency_findings_adds_errors_first_and_counts_them() -> None:
    report = TestReport(passed=1, failed=1, cases=[
        TestCase(name="test_ok", outcome="passed"),
        TestCase(name="test_get", outcome="failed", message="ModuleNotFoundError")],
        output_tail="1 failed, 1 passed")
    env = _environment([
        Requirement(name="reqests", source="import", origin="app.py"),
        Requirement(name="docopt", source="manifest", origin="requirements.txt"),
        Requirement(name="flask-extra", source="plan"),
    ], "reqests", "docopt", "flask-extra")

    merged = with_dependency_findings(report, env)

    assert [c.name for c in merged.cases] == ["install reqests", "install docopt", "test_ok",
                                              "test_get"]
    assert (merged.passed, merged.failed, merged.errors) == (1, 1, 2)
    assert not merged.green
    lines = merged.output_tail.splitlines()
    assert lines[0].startswith("dependency error: `reqests` does not exist")
    assert lines[0].endswith("(app.py imports it)")
    assert lines[1].startswith("dependency error: `docopt`")
    assert lines[-1] == "1 failed, 1 passed"
    assert (report.errors, len(report.cases)) == (0, 2)  # the original is left as it was


def test_with_dependency_findings_leaves_a_clean_report_alone() -> None:
    report = TestReport(passed=2, output_tail="2 passed")
    env = _environment([Requirement(name="flask", source="import", origin="app.py")])

    assert with_dependency_findings(report, env) is report
    plan_only = _environment([Requirement(name="nope", source="plan")], "nope")
    assert with_dependency_findings(report, plan_only) is report


async def test_project_environments_prepare_once_per_set_of_requirements(
        tmp_path: Path) -> None:
    prepared: list[EnvironmentReport] = []

    async def record(report: EnvironmentReport) -> None:
        prepared.append(report)

    policy = DependencyPolicy(cache_dir=tmp_path / "cache", envs_dir=tmp_path / "envs")
    environments = ProjectEnvironments(policy, on_prepared=record)
    # Only the standard library: nothing to download, so no network is needed.
    files = {"calc.py": "import json\n", "tests/test_calc.py": "import calc\n"}

    assert environments.known("python", [], files) is None
    first = await environments.for_files("python", [], files, project_name="calc")
    again = await environments.for_files("python", [], {**files, "util.py": "import re\n"},
                                         project_name="calc")

    assert again is first
    assert environments.known("python", [], files) is first
    assert len(prepared) == 1
    assert first.report.requested == [] and first.python is None and first.mounts == []
    assert first.summary == "no third-party packages"
