"""Every built-in template, on the scripted provider, yields a project whose tests pass in
the sandbox with its dependencies installed (issue 14 §1).

Each template's job is scripted from ``tests/data/templates/<id>/``: ``job.json`` holds the
request, the Planner's reply and the packages the project must get; ``project/`` holds the
files a good model writes for the template's hint — one Coder reply per planned file, the
Tester's reply (``tests/``) and the Documenter's (``README.md``). Nothing is stubbed below
the model: the dependencies are resolved and installed from the real index and registry
(one download cache for the session keeps that quick), and the tests run in the sandbox
without network, with the environment mounted read-only.

``tests/data/misspelt-dependency/`` is a Flask project that imports ``reqests``: the job
must neither crash nor pass silently, and a fix that drops the import turns it green.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from atelier.agents.planner import PlannerReply, build_plan
from atelier.catalog import ProjectTemplate, builtin_template, builtin_templates
from atelier.domain.environment import EnvironmentReport
from atelier.domain.events import Event
from atelier.domain.job import JobResult
from atelier.domain.paths import is_readme_path, is_test_path, language_of
from atelier.domain.spec import Budgets, JobOptions, Spec
from atelier.llm.base import ChatRequest
from atelier.llm.recording import InMemoryCallRecorder
from atelier.pipeline.memory import InMemoryCheckpointStore
from atelier.pipeline.models import build_role_llms
from atelier.pipeline.package import REPORT_JSON, deliverable_files
from atelier.pipeline.run import run_pipeline
from atelier.sandbox.node_env import npm_binary
from atelier.sandbox.python_env import configured_index, uv_binary
from atelier.settings import Settings

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parent.parent / "data"
TEMPLATE_JOBS = DATA / "templates"
MISSPELT = DATA / "misspelt-dependency"
CONFTEST = "tests/conftest.py"  # the Tester adds it to every Python project
PYTHON_MANIFESTS = {"requirements.txt", "pylock.toml"}
NODE_MANIFESTS = {"package.json", "package-lock.json"}
MISSING_REQESTS = ("`reqests` does not exist on the package index; use an installed package "
                   "or the standard library")


# --- the scripted jobs -------------------------------------------------------------------

@dataclass(frozen=True)
class ScriptedJob:
    """A job as a good model would do it: its request, plan, files and packages."""

    name: str
    prompt: str
    plan: dict[str, Any]
    # The packages the project asks for directly (planned or imported): each must be
    # installed, and nothing else requested.
    installs: list[str]
    files: dict[str, str]  # project path -> content, as the job must deliver it

    @property
    def language(self) -> str:
        return str(self.plan["language"])

    def coder_order(self) -> list[str]:
        """The planned source files in the order the pipeline asks the Coder for them."""
        plan = build_plan(PlannerReply.model_validate(self.plan), language=self.language)
        return [f.path for wave in plan.generation_order() for f in wave]

    def test_files(self) -> dict[str, str]:
        return {p: c for p, c in self.files.items() if is_test_path(p)}

    def script(self) -> dict[str, Any]:
        """Replies in the scripted provider's format (as ``examples/slugify.json``)."""
        tests = "\n\n".join(f"### {path}\n{fenced(path, content)}"
                            for path, content in self.test_files().items())
        return {
            "planner": [self.plan],
            "coder": [fenced(path, self.files[path]) for path in self.coder_order()],
            "tester": [tests],
            "reviewer": [{"findings": []}],
            "documenter": [self.files["README.md"]],
        }


def fenced(path: str, content: str) -> str:
    fence = language_of(path)
    return f"```{'' if fence == 'text' else fence}\n{content}```\n"


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.relative_to(root).parts}


def load_job(directory: Path) -> ScriptedJob:
    data = json.loads((directory / "job.json").read_text(encoding="utf-8"))
    job = ScriptedJob(name=directory.name, prompt=data["prompt"], plan=data["plan"],
                      installs=data["installs"], files=read_tree(directory / "project"))
    planned = set(job.coder_order())
    others = {p for p in job.files if is_test_path(p) or is_readme_path(p)}
    assert set(job.files) - others == planned, f"{directory}: project/ and the plan disagree"
    assert job.test_files() and "README.md" in job.files, f"{directory}: tests or README missing"
    return job


def scripted_template_ids() -> list[str]:
    return sorted(p.name for p in TEMPLATE_JOBS.iterdir() if (p / "job.json").is_file())


# --- running a job -----------------------------------------------------------------------

@dataclass
class Run:
    result: JobResult
    recorder: InMemoryCallRecorder
    events: list[Event]

    def calls(self, agent: str) -> list[ChatRequest]:
        """The requests sent to the model for ``agent``, in order."""
        return [request for _, request, _ in self.recorder.calls if request.agent == agent]


def template_hint(template: ProjectTemplate) -> str:
    """What the runner hands the Planner for a job's template (runtime/runner.py)."""
    return f"{template.name} ({template.language}). {template.prompt_hint}".strip()


async def run_job(settings: Settings, tmp_path: Path, job: ScriptedJob,
                  template: ProjectTemplate, script: dict[str, Any], **options: Any) -> Run:
    script_path = tmp_path / f"{job.name}.script.json"
    script_path.write_text(json.dumps(script, indent=2), encoding="utf-8")
    job_options = JobOptions(provider="scripted", script=str(script_path), **options)
    spec = Spec(prompt=job.prompt, language=template.language, template=template.id,
                options=job_options)
    # As the runner does: the stored spec names the template, the Planner gets its text.
    spec = spec.model_copy(update={"template": template_hint(template)})
    recorder = InMemoryCallRecorder()
    llms = build_role_llms(job_options, settings, recorder)
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    result = await run_pipeline(f"job-{job.name}", spec, llms=llms, settings=settings,
                                checkpoints=InMemoryCheckpointStore(), emit=emit)
    return Run(result=result, recorder=recorder, events=events)


# --- fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dependency_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """uv's and npm's download caches, shared by every job of the session."""
    return tmp_path_factory.mktemp("dependency-cache")


@pytest.fixture
def settings(tmp_path: Path, dependency_cache: Path) -> Settings:
    """A data dir of the test's own, whose download cache is the session's."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "cache").symlink_to(dependency_cache, target_is_directory=True)
    return Settings(data_dir=data_dir, llm_provider="scripted", sandbox_timeout_s=120,
                    _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def registry_problems(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Per language, why its package registry cannot be reached at all (None: it can);
    filled on first need."""
    return {}


# How uv and npm say that they could not connect (anything else is a failure, not a skip).
UNREACHABLE = re.compile(
    r"failed to fetch|error sending request|dns error|connect(?:ion)? (?:error|refused)|"
    r"timed out|network is unreachable|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN",
    re.IGNORECASE)


def registry_unreachable(language: str, settings: Settings) -> str | None:
    """Why the package registry for ``language`` cannot be reached at all, or None.

    One look-up with the ordinary client and the configuration the install phase uses.
    Only a failure to connect is a reason to skip; any other failure fails the test.
    """
    env = settings.installer_environment()
    with tempfile.TemporaryDirectory(prefix="atelier-registry-probe-") as tmp:
        cache_dir = Path(tmp) / "cache"
        if language == "python":
            index = configured_index(env)
            argv = [uv_binary(), "pip", "compile", "-", "--no-header", "--quiet",
                    "--python", sys.executable, "--default-index", index,
                    "--cache-dir", str(cache_dir)]
            stdin, where = "flask\n", f"the Python package index {index}"
        else:
            argv = [npm_binary(), "view", "express", "version", "--cache", str(cache_dir)]
            stdin, where = "", "the npm registry"
        try:
            done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env,
                                  timeout=120, check=False, cwd=tmp)
        except subprocess.TimeoutExpired:
            return f"{where} cannot be reached: no answer in 120 s"
    if done.returncode == 0:
        return None
    output = (done.stderr + done.stdout).strip()
    assert UNREACHABLE.search(output), f"probing {where} failed: {output[-1000:]}"
    return f"{where} cannot be reached: {output[-300:]}"


def needs_registry(job: ScriptedJob, settings: Settings,
                   problems: dict[str, str | None]) -> None:
    """Skip (saying why) only when the job has packages to install and their registry
    cannot be reached from this machine at all."""
    if not job.installs:
        return
    if job.language not in problems:
        problems[job.language] = registry_unreachable(job.language, settings)
    if (why := problems[job.language]) is not None:
        pytest.skip(why)


# --- the tests ---------------------------------------------------------------------------

def test_every_built_in_template_has_a_scripted_job() -> None:
    assert scripted_template_ids() == sorted(t.id for t in builtin_templates())


def assert_environment(env: EnvironmentReport | None, job: ScriptedJob,
                       delivered: dict[str, str]) -> None:
    """The packages are installed and pinned, exactly as tested, in the deliverable."""
    assert env is not None and env.language == job.language
    assert env.findings == []
    # What the plan and the code ask for, and nothing else: the project's own modules
    # (`from app import create_app`) and the test runner are never packages.
    assert sorted(r.name for r in env.requested) == sorted(job.installs)
    assert sorted(p.name for p in env.installed if p.direct) == sorted(job.installs)
    installed = {p.name: p for p in env.installed}
    if not job.installs:
        assert installed == {} and env.manifests == {}
        assert not set(delivered) & (PYTHON_MANIFESTS | NODE_MANIFESTS)
        return
    for name in job.installs:
        package = installed.get(name)
        assert package is not None, f"{name} not installed: {sorted(installed)}"
        assert package.direct and package.version
        prefix = "sha256:" if job.language == "python" else "sha512-"
        assert package.hash.startswith(prefix) and len(package.hash) > len(prefix) + 40
    assert set(env.manifests) == (PYTHON_MANIFESTS if job.language == "python"
                                  else NODE_MANIFESTS)
    for path, content in env.manifests.items():
        assert delivered[path] == content, f"{path} is not delivered as pinned"
    if job.language == "python":
        pins = {line.partition("==")[0]: line.partition("==")[2]
                for line in delivered["requirements.txt"].splitlines()
                if line and not line.startswith("#")}
        assert pins == {p.name: p.version for p in env.installed}
        lock = tomllib.loads(delivered["pylock.toml"])
        locked = {p["name"]: p["version"] for p in lock["packages"]}
        assert {name: installed[name].version for name in job.installs}.items() <= \
            locked.items()
    else:
        manifest = json.loads(delivered["package.json"])
        assert manifest["dependencies"] == {n: installed[n].version for n in job.installs}
        written = json.loads(job.files["package.json"])  # the Coder's, otherwise kept
        assert {k: manifest[k] for k in ("name", "main", "scripts")} == {
            k: written[k] for k in ("name", "main", "scripts")}
        lock = json.loads(delivered["package-lock.json"])
        for name in job.installs:
            entry = lock["packages"][f"node_modules/{name}"]
            assert (entry["version"], entry["integrity"]) == (installed[name].version,
                                                              installed[name].hash)


@pytest.mark.parametrize("template_id", sorted(t.id for t in builtin_templates()))
async def test_a_template_job_delivers_a_project_whose_tests_pass_in_the_sandbox(
    template_id: str, settings: Settings, tmp_path: Path,
    registry_problems: dict[str, str | None],
) -> None:
    template = builtin_template(template_id)
    assert template is not None
    assert (TEMPLATE_JOBS / template_id / "job.json").is_file(), \
        f"no scripted job for the template {template_id!r} in {TEMPLATE_JOBS}"
    job = load_job(TEMPLATE_JOBS / template_id)
    assert job.language == template.language
    needs_registry(job, settings, registry_problems)

    run = await run_job(settings, tmp_path, job, template, job.script())
    result = run.result

    assert result.status == "succeeded", result.reason
    final = result.final_report
    assert final is not None, "no test ran"
    summary = f"{final.passed} passed, {final.failed} failed, {final.errors} errors\n" \
              f"{final.output_tail}"
    assert final.passed > 0 and final.failed == 0 and final.errors == 0, summary
    assert final.passed >= len(job.test_files()), summary
    assert result.fix_rounds == 0, "a good model's project needs no fix"
    assert result.verdict.verdict == "verified"
    for round_ in result.rounds:
        assert round_.report.policy is not None
        assert round_.report.policy.network == "none"
        assert round_.report.isolation == round_.report.policy.backend
    if job.installs:
        assert final.policy is not None and "packages, read-only at" in \
            final.policy.environment

    # The Planner saw the template's hint; the Coder was asked for each planned file.
    [planner_call] = run.calls("planner")
    assert template.prompt_hint in planner_call.messages[-1].content
    asked = [c.messages[-1].content for c in run.calls("coder")]
    assert len(asked) == len(job.coder_order())
    for path, prompt in zip(job.coder_order(), asked, strict=True):
        assert f"Write the complete file {path}" in prompt

    # Everything planned, tested and documented is delivered, plus the pinned manifests.
    env = result.environment
    extra = {CONFTEST} if job.language == "python" else set()
    manifests = set(env.manifests) if env is not None else set()
    assert set(result.files) == set(job.files) | extra | manifests
    for path, content in job.files.items():
        if path not in manifests:
            assert result.files[path] == content, f"{path} differs from the script"
    delivered = deliverable_files(result)
    assert_environment(env, job, delivered)
    if job.installs:
        [installed_event] = [e for e in run.events if e.type == "dependencies_installed"]
        assert {p["name"] for p in installed_event.data["installed"]} >= set(job.installs)

    report = json.loads(delivered[REPORT_JSON])
    assert report["tests"] == {"passed": final.passed, "failed": 0, "errors": 0,
                               "skipped": final.skipped}
    assert [r["policy"]["network"] for r in report["rounds"]] == ["none"] * len(result.rounds)
    installed = {p["name"]: p["version"] for p in report["dependencies"]["installed"]}
    assert {n: v for n, v in installed.items() if n in job.installs} == {
        p.name: p.version for p in (env.installed if env else []) if p.name in job.installs}


# --- a package that does not exist -------------------------------------------------------

@pytest.fixture
def misspelt(settings: Settings, registry_problems: dict[str, str | None]) -> ScriptedJob:
    job = load_job(MISSPELT)
    needs_registry(job, settings, registry_problems)
    return job


def flask_template() -> ProjectTemplate:
    template = builtin_template("flask-webapp")
    assert template is not None
    return template


async def test_a_misspelt_package_is_an_error_case_the_fixer_is_told_about(
    misspelt: ScriptedJob, settings: Settings, tmp_path: Path
) -> None:
    # No fix round: the run ends on the round that imports `reqests`.
    run = await run_job(settings, tmp_path, misspelt, flask_template(), misspelt.script(),
                        budgets=Budgets(max_fix_rounds=0))
    result = run.result

    assert result.status == "succeeded", result.reason  # the job ran to its end …
    # … and its verdict says that no test could run, and why: the missing package first.
    assert result.verdict.verdict == "untested"
    assert MISSING_REQESTS in result.verdict.reason
    final = result.final_report
    assert final is not None and not final.green
    cases = {c.name: c for c in final.cases}
    case = cases["install reqests"]
    assert (case.classname, case.outcome) == ("dependencies", "error")
    assert case.message == f"{MISSING_REQESTS} (app/__init__.py imports it)"
    assert final.output_tail.startswith(f"dependency error: {MISSING_REQESTS}")
    # Flask itself was installed: one bad name does not cost the project its other packages.
    env = result.environment
    assert env is not None
    assert "flask" in {p.name for p in env.installed if p.direct}
    assert [f.name for f in env.findings] == ["reqests"]
    assert "reqests" not in result.files.get("requirements.txt", "")
    report = json.loads(deliverable_files(result)[REPORT_JSON])
    last = report["rounds"][-1]
    assert any(c["name"] == "install reqests" and c["outcome"] == "error"
               and MISSING_REQESTS in c["message"] for c in last["cases"])
    assert [f["name"] for f in report["dependencies"]["findings"]] == ["reqests"]


async def test_a_fix_that_drops_the_misspelt_import_turns_the_job_green(
    misspelt: ScriptedJob, settings: Settings, tmp_path: Path
) -> None:
    fixed = read_tree(MISSPELT / "fixed")
    script = misspelt.script()
    script["coder"] = [*script["coder"], fenced("app/__init__.py", fixed["app/__init__.py"])]

    run = await run_job(settings, tmp_path, misspelt, flask_template(), script,
                        strategy="repair")
    result = run.result

    assert result.status == "succeeded", result.reason
    first, last = result.rounds[0].report, result.final_report
    assert "install reqests" in {c.name for c in first.cases if c.outcome == "error"}
    assert last is not None and last.green, last.output_tail if last else "no test ran"
    assert result.fix_rounds == 1 and result.verdict.verdict == "verified"
    # The repair request told the Coder what was wrong and what to do instead.
    repair = run.calls("coder")[-1].messages[-1].content
    assert "Write the complete file app/__init__.py" in repair
    assert MISSING_REQESTS in repair
    assert "reqests" not in result.files["app/__init__.py"]
    assert result.files["app/__init__.py"] == fixed["app/__init__.py"]
    # The plan still names `reqests`: recorded as not installed, but nothing fails for it.
    env = result.environment
    assert env is not None
    assert {r.name: r.source for r in env.requested}["reqests"] == "plan"
    assert [(f.name, f.message) for f in env.findings] == [("reqests", MISSING_REQESTS)]
    assert "install reqests" not in {c.name for c in last.cases}
    assert "flask" in {p.name for p in env.installed if p.direct}
    assert "reqests" not in result.files["requirements.txt"]
    assert all(r.report.policy is not None and r.report.policy.network == "none"
               for r in result.rounds)
