"""The install phase inside a job: one environment per distinct set of requirements,
and what the tests and the fixer learn from it.

Candidates of a fix round usually ask for the same packages, so an environment is
prepared once per set and reused for every run that needs it. A package that could
not be installed becomes an error case of the test report — with the file that asks
for it, so the fixer knows where to change it — unless only the plan named it and no
file uses it: then it is recorded, and nothing can fail for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping

from atelier.domain.environment import EnvironmentReport
from atelier.domain.report import TestCase, TestReport
from atelier.sandbox.dependencies import collect_requirements
from atelier.sandbox.env_policy import DependencyPolicy, PreparedEnvironment
from atelier.sandbox.environment import prepare_environment

EnvironmentListener = Callable[[EnvironmentReport], Awaitable[None]]


def _key(language: str, files: Mapping[str, str], declared: Iterable[str],
         request: str) -> str:
    collected = collect_requirements(language, declared, files, request)
    wanted = sorted(f"{r.name}{r.spec}@{r.source}:{r.origin}"
                    for r in collected.requirements.values())
    refused = sorted(f.name for f in collected.findings)
    return "\n".join([language, *wanted, "--", *refused])


class ProjectEnvironments:
    """The environments of one job's runs, prepared on first need."""

    def __init__(self, policy: DependencyPolicy, *, on_prepared: EnvironmentListener,
                 request: str = "") -> None:
        self.policy = policy
        self.request = request
        self._on_prepared = on_prepared
        self._prepared: dict[str, PreparedEnvironment] = {}

    async def for_files(self, language: str, declared: Iterable[str],
                        files: Mapping[str, str], *, project_name: str) -> PreparedEnvironment:
        """The environment these files need (prepared now, or earlier in this job)."""
        declared = list(declared)
        key = _key(language, files, declared, self.request)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = await prepare_environment(language, declared, files, self.policy,
                                                 project_name=project_name,
                                                 request=self.request)
            self._prepared[key] = prepared
            await self._on_prepared(prepared.report)
        return prepared

    def known(self, language: str, declared: Iterable[str],
              files: Mapping[str, str]) -> PreparedEnvironment | None:
        """The environment already prepared for these files, if any (no install)."""
        return self._prepared.get(_key(language, files, list(declared), self.request))


def dependency_cases(report: EnvironmentReport) -> list[TestCase]:
    """Error cases for the packages the code or a manifest asks for but did not get."""
    by_name = {r.name: r for r in report.requested}
    cases = []
    for finding in report.findings:
        wanted = by_name.get(finding.name)
        if wanted is not None and wanted.source == "plan":
            continue  # only the plan names it: no file of the project can fail for it
        where = ""
        if wanted is not None and wanted.origin:
            verb = "imports" if wanted.source == "import" else "lists"
            where = f" ({wanted.origin} {verb} it)"
        cases.append(TestCase(name=f"install {finding.name}", classname="dependencies",
                              outcome="error", message=finding.message + where))
    return cases


def with_dependency_findings(report: TestReport, environment: EnvironmentReport) -> TestReport:
    """The report with an error case per missing dependency, named first in the output."""
    cases = dependency_cases(environment)
    if not cases:
        return report
    lines = "\n".join(f"dependency error: {c.message}" for c in cases)
    return report.model_copy(update={
        "cases": [*cases, *report.cases],
        "errors": report.errors + len(cases),
        "output_tail": f"{lines}\n{report.output_tail}",
    })
