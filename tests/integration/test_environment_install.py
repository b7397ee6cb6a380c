"""The install phase for real: uv and npm against the real package index and registry,
then the project's tests in the no-network sandbox with the environment mounted read-only.

Each test has its own data dir (so its own built environments); the download cache is
shared by the whole session, as it is by every job of a server.
"""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from atelier.domain.environment import EnvironmentReport
from atelier.pipeline.dependencies import dependency_cases
from atelier.sandbox import SandboxLimits, run_tests
from atelier.sandbox.env_policy import DependencyPolicy, PreparedEnvironment
from atelier.sandbox.environment import prepare_environment
from atelier.sandbox.node_env import npm_binary
from atelier.sandbox.python_env import configured_index, uv_binary
from atelier.settings import Settings

pytestmark = pytest.mark.integration

LIMITS = SandboxLimits(wall_time_s=90, cpu_s=90, memory_mb=1024, max_processes=64)
NPM_REGISTRY = "https://registry.npmjs.org/"

FLASK_APP = '''from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify(status="ok")
'''
FLASK_TESTS = '''from app import app


def test_health_answers_ok():
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
'''
EXPRESS_APP = """const express = require('express');

const app = express();
app.get('/health', (req, res) => res.json({ status: 'ok' }));

module.exports = { app };
"""
EXPRESS_TESTS = """const { test } = require('node:test');
const assert = require('node:assert');
const { app } = require('../app.js');

test('GET /health answers ok over a real socket', async () => {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  try {
    const { port } = server.address();
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.strictEqual(res.status, 200);
    assert.deepStrictEqual(await res.json(), { status: 'ok' });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
"""

Prepare = Callable[..., Any]


def _reachable(url: str) -> str | None:
    """None when ``url`` answers at all (any HTTP status), else why not."""
    try:
        with urllib.request.urlopen(url, timeout=20):
            return None
    except urllib.error.HTTPError:
        return None
    except (urllib.error.URLError, OSError) as exc:
        return f"{url}: {exc}"


@pytest.fixture(scope="session")
def registries() -> None:
    """The installers must exist (a missing one fails); an unreachable registry skips."""
    uv_binary()
    npm_binary()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    index = configured_index(settings.installer_environment()).rstrip("/")
    problems = [p for p in (_reachable(f"{index}/flask/"), _reachable(f"{NPM_REGISTRY}express"))
                if p is not None]
    if len(problems) == 2:
        pytest.skip(f"no package registry is reachable: {'; '.join(problems)}")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deps-cache")


@pytest.fixture
def policy_for(tmp_path: Path, shared_cache: Path,
               registries: None) -> Callable[..., DependencyPolicy]:
    """A policy from this test's own settings, with the session's download cache."""
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]

    def build(**changes: Any) -> DependencyPolicy:
        base = DependencyPolicy.from_settings(settings)
        return dataclasses.replace(base, cache_dir=shared_cache, **changes)

    return build


async def _prepare(language: str, declared: list[str], files: Mapping[str, str],
                   policy: DependencyPolicy) -> PreparedEnvironment:
    return await prepare_environment(language, declared, files, policy, project_name="demo")


def _names(report: EnvironmentReport) -> set[str]:
    return {p.name for p in report.installed}


def _finding(report: EnvironmentReport, name: str) -> str:
    messages = [f.message for f in report.findings if f.name == name]
    assert messages, f"no finding for {name}: {report.findings}"
    return messages[0]


def _site_packages(env: PreparedEnvironment) -> Path:
    assert env.python is not None
    return next((env.python.parent.parent / "lib").glob("python*/site-packages"))


# --- Python


async def test_flask_environment_is_pinned_by_hash_and_reused(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    policy = policy_for()
    files = {"app.py": FLASK_APP, "tests/test_app.py": FLASK_TESTS}

    env = await _prepare("python", ["flask"], files, policy)

    report = env.report
    assert report.findings == []
    assert {"flask", "werkzeug", "jinja2", "click", "itsdangerous", "markupsafe"} <= _names(report)
    for package in report.installed:
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", package.hash), package
        assert re.fullmatch(r"\d+(\.\d+)+\S*", package.version), package
    assert [p.name for p in report.installed if p.direct] == ["flask"]
    flask = next(p for p in report.installed if p.name == "flask")
    assert set(report.manifests) == {"requirements.txt", "pylock.toml"}
    requirements = report.manifests["requirements.txt"]
    assert f"flask=={flask.version}\n" in requirements
    assert all(f"{p.name}=={p.version}\n" in requirements for p in report.installed)
    assert flask.hash.removeprefix("sha256:") in report.manifests["pylock.toml"]
    assert report.reused is False
    assert env.python is not None and env.python.parent.parent.parent == policy.envs_dir
    assert (_site_packages(env) / "flask" / "__init__.py").is_file()

    again = await _prepare("python", ["flask"], files, policy)

    assert again.report.reused is True
    assert again.python == env.python
    assert again.report.installed == report.installed
    assert again.report.manifests == report.manifests


async def test_flask_app_tests_pass_in_the_sandbox_without_network(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    files = {"app.py": FLASK_APP, "tests/test_app.py": FLASK_TESTS}
    env = await _prepare("python", [], files, policy_for())
    assert "flask" in _names(env.report), env.report.findings

    report = await run_tests(files, "python", LIMITS, environment=env)

    assert report.green, report.output_tail
    assert (report.passed, report.failed, report.errors) == (1, 0, 0)
    assert report.isolation == "bwrap"
    assert report.policy is not None
    assert report.policy.network == "none"
    assert report.policy.environment == env.summary
    assert str(env.python) in report.command


async def test_the_sandboxed_tests_cannot_write_into_the_environment(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    tests = '''import pathlib

import flask


def test_flask_imports():
    assert flask.Flask


def test_plant_a_module_in_site_packages():
    site = pathlib.Path(flask.__file__).resolve().parent.parent
    (site / "planted.py").write_text("x = 1\\n")
'''
    files = {"app.py": FLASK_APP, "tests/test_write.py": tests}
    env = await _prepare("python", [], files, policy_for())

    report = await run_tests(files, "python", LIMITS, environment=env)

    outcomes = {c.name: c.outcome for c in report.cases}
    assert outcomes == {"test_flask_imports": "passed",
                        "test_plant_a_module_in_site_packages": "failed"}, report.output_tail
    planted = next(c for c in report.cases if c.name == "test_plant_a_module_in_site_packages")
    assert re.search(r"Read-only file system|Permission denied", planted.message), planted.message
    assert not (_site_packages(env) / "planted.py").exists()


@pytest.mark.parametrize("declared", ["docopt", "docopt==0.6.2"])
async def test_sdist_only_package_is_refused_and_not_installed(
        policy_for: Callable[..., DependencyPolicy], declared: str) -> None:
    files = {"cli.py": "import docopt\nimport flask\n"}

    env = await _prepare("python", [declared], files, policy_for())

    message = _finding(env.report, "docopt")
    assert "no wheel for this platform" in message
    assert "source distributions are never built" in message
    assert "docopt" not in _names(env.report)
    assert "flask" in _names(env.report)
    site = _site_packages(env)
    assert not list(site.glob("docopt*"))
    assert "docopt" not in env.report.manifests["requirements.txt"]


async def test_misspelt_package_is_a_finding_and_the_rest_installs(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    files = {"client.py": "import reqests\nimport flask\n",
             "tests/test_client.py": "import client\n"}

    env = await _prepare("python", ["reqests"], files, policy_for())

    assert [f.name for f in env.report.findings] == ["reqests"]
    assert _finding(env.report, "reqests") == (
        "`reqests` does not exist on the package index; use an installed package or the "
        "standard library")
    assert "flask" in _names(env.report)
    [case] = dependency_cases(env.report)
    assert case.name == "install reqests"
    assert case.message.endswith("(client.py imports it)")


async def test_an_import_provided_under_another_name_is_not_reported(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    # pyhumps is imported as `humps`; `utils` is nobody's declared package (a module
    # that was never written) and is reported, never fetched from the index.
    files = {"cases.py": "import humps\nfrom utils import helper\n"}

    env = await _prepare("python", ["pyhumps"], files, policy_for())

    assert "pyhumps" in _names(env.report)
    assert [(f.name, f.kind) for f in env.report.findings] == [("utils", "unknown-import")]
    assert "utils" not in _names(env.report)
    [case] = dependency_cases(env.report)
    assert case.message.startswith("cases.py imports `utils`, which is neither a module")


async def test_a_range_no_release_satisfies_is_a_finding_and_the_rest_installs(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    env = await _prepare("python", ["flask>=99", "itsdangerous"], {}, policy_for())

    assert [f.name for f in env.report.findings] == ["flask"]
    assert _finding(env.report, "flask").startswith("`flask>=99` matches no published version")
    assert _names(env.report) == {"itsdangerous"}


async def test_too_many_packages_is_refused(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    env = await _prepare("python", ["flask"], {}, policy_for(max_packages=2))

    assert re.search(r"\d+ packages needed, over this server's limit of 2",
                     _finding(env.report, "flask"))
    assert env.report.installed == [] and env.python is None and env.mounts == []


@pytest.mark.parametrize(("limit_mb", "expected"), [
    (0, "the wheels alone are over this server's limit of 0 MB"),
    (1, "MB unpacked, over this server's limit of 1 MB"),
])
async def test_too_large_is_refused(policy_for: Callable[..., DependencyPolicy],
                                    limit_mb: int, expected: str) -> None:
    policy = policy_for(max_size_mb=limit_mb)

    env = await _prepare("python", ["flask"], {}, policy)

    assert expected in _finding(env.report, "flask")
    assert env.report.installed == [] and env.python is None
    built = list(policy.envs_dir.iterdir()) if policy.envs_dir.is_dir() else []
    assert built == []  # nothing published, and no half-built directory left behind


async def test_an_install_past_its_time_limit_is_a_finding(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    env = await _prepare("python", ["flask"], {}, policy_for(timeout_s=0.01))

    assert "timed out" in _finding(env.report, "flask")
    assert env.report.installed == [] and env.python is None


async def test_a_denied_transitive_dependency_refuses_the_package(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    env = await _prepare("python", ["flask"], {}, policy_for(deny=frozenset({"werkzeug"})))

    assert "`werkzeug` is on this server's deny list" in _finding(env.report, "flask")
    assert env.report.installed == [] and env.python is None


async def test_a_package_off_the_allow_list_is_refused(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    env = await _prepare("python", ["flask"], {}, policy_for(allow=frozenset({"requests"})))

    assert "`flask` is not on this server's allow list (requests)" in _finding(env.report,
                                                                                "flask")
    assert env.report.installed == [] and env.python is None


# --- JavaScript


async def test_express_environment_is_pinned_by_integrity_and_reused(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    policy = policy_for()
    files = {"app.js": EXPRESS_APP, "package.json": '{"name": "demo", "dependencies": '
             '{"express": "*"}, "scripts": {"start": "node app.js"}}'}

    env = await _prepare("javascript", [], files, policy)

    report = env.report
    assert report.findings == []
    assert {"express", "body-parser", "router"} <= _names(report)
    for package in report.installed:
        assert package.hash.startswith("sha512-"), package
        assert re.fullmatch(r"\d+\.\d+\.\d+\S*", package.version), package
    express = next(p for p in report.installed if p.name == "express")
    assert express.direct
    assert set(report.manifests) == {"package.json", "package-lock.json"}
    manifest = json.loads(report.manifests["package.json"])
    assert manifest["dependencies"] == {"express": express.version}
    assert manifest["scripts"] == {"test": "node --test", "start": "node app.js"}
    lock = json.loads(report.manifests["package-lock.json"])
    assert lock["name"] == "demo"
    assert lock["packages"][""]["dependencies"] == {"express": express.version}
    assert lock["packages"]["node_modules/express"]["version"] == express.version
    assert lock["packages"]["node_modules/express"]["integrity"] == express.hash
    assert report.reused is False
    assert env.node_modules is not None and (env.node_modules / "express").is_dir()

    again = await _prepare("javascript", [], files, policy)

    assert again.report.reused is True
    assert again.node_modules == env.node_modules
    assert again.report.installed == report.installed


async def test_express_app_tests_pass_in_the_sandbox_without_network(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    files = {"app.js": EXPRESS_APP, "test/app.test.js": EXPRESS_TESTS}
    env = await _prepare("javascript", [], files, policy_for())
    assert "express" in _names(env.report), env.report.findings

    report = await run_tests(files, "javascript", LIMITS, environment=env)

    assert report.green, report.output_tail
    assert (report.passed, report.failed, report.errors) == (1, 0, 0)
    assert report.isolation == "bwrap"
    assert report.policy is not None and report.policy.network == "none"
    assert report.policy.environment == env.summary


async def test_missing_npm_package_is_a_finding_and_the_rest_installs(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    files = {"index.js": "const express = require('express');\n"
                         "const gone = require('nonexistent-pkg-zz9x');\n"}
    policy = policy_for()

    env = await _prepare("javascript", ["nonexistent-pkg-zz9x"], files, policy)

    assert [f.name for f in env.report.findings] == ["nonexistent-pkg-zz9x"]
    assert "does not exist in the npm registry" in _finding(env.report, "nonexistent-pkg-zz9x")
    assert "express" in _names(env.report)
    assert env.node_modules is not None and not (env.node_modules / "nonexistent-pkg-zz9x").exists()
    [case] = dependency_cases(env.report)
    assert case.message.endswith("(index.js imports it)")

    again = await _prepare("javascript", ["nonexistent-pkg-zz9x"], files, policy)  # no npm

    assert again.report.reused is True
    assert again.report.findings == env.report.findings


async def test_npm_install_scripts_never_run(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    # esbuild's postinstall (install.js) replaces the JavaScript launcher bin/esbuild with
    # a hard link to the native binary; with --ignore-scripts the launcher stays.
    env = await _prepare("javascript", ["esbuild"], {}, policy_for())

    assert "esbuild" in _names(env.report), env.report.findings
    lock = json.loads(env.report.manifests["package-lock.json"])
    assert lock["packages"]["node_modules/esbuild"]["hasInstallScript"] is True
    assert env.node_modules is not None
    launcher = env.node_modules / "esbuild" / "bin" / "esbuild"
    head = launcher.read_bytes()[:32]
    assert head.startswith(b"#!/usr/bin/env node"), head
    assert not head.startswith(b"\x7fELF")
    assert launcher.stat().st_nlink == 1
    native = list(env.node_modules.glob("@esbuild/*/bin/esbuild"))
    assert native and native[0].read_bytes()[:4] == b"\x7fELF"  # what the script would link


async def test_the_sandboxed_tests_cannot_write_into_node_modules(
        policy_for: Callable[..., DependencyPolicy]) -> None:
    tests = """const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

test('express loads', () => {
  assert.strictEqual(typeof require('express'), 'function');
});

test('plant a file in node_modules', () => {
  const dir = path.dirname(require.resolve('express'));
  fs.writeFileSync(path.join(dir, 'planted.js'), 'module.exports = 1;\\n');
});
"""
    files = {"app.js": EXPRESS_APP, "test/write.test.js": tests}
    env = await _prepare("javascript", [], files, policy_for())

    report = await run_tests(files, "javascript", LIMITS, environment=env)

    outcomes = {c.name: c.outcome for c in report.cases}
    assert outcomes == {"express loads": "passed",
                        "plant a file in node_modules": "failed"}, report.output_tail
    assert re.search(r"EROFS|EACCES|read-only file system|permission denied",
                     report.output_tail), report.output_tail
    assert env.node_modules is not None
    assert not (env.node_modules / "express" / "planted.js").exists()
