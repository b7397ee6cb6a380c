"""The install phase without the network: which packages a project needs, what uv's and
npm's errors mean, what the policy refuses, and which built environments are pruned."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from atelier.domain.environment import EnvironmentReport, InstalledPackage, Requirement
from atelier.sandbox import node_env, python_env
from atelier.sandbox.dependencies import collect_requirements, is_manifest
from atelier.sandbox.env_policy import DependencyPolicy, PreparedEnvironment
from atelier.sandbox.environment import prune_environments
from atelier.sandbox.python_env import DEFAULT_INDEX, configured_index, parse_pylock

# --- what uv and npm really print (captured from uv 0.x / npm 11 on this machine)

UV_MISSING = """\
error: No solution found when resolving dependencies
  cause: Because reqests was not found in the package registry and you require reqests, we \
can conclude that your requirements are unsatisfiable.
"""
UV_NO_WHEEL = """\
error: No solution found when resolving dependencies
  cause: Because all versions of docopt have no usable wheels and you require docopt, we can \
conclude that your requirements are unsatisfiable.

hint: Wheels are required for `docopt` because building from source is disabled for all \
packages (i.e., with `--no-build`)
"""
UV_NO_WHEEL_PINNED = """\
error: No solution found when resolving dependencies
  cause: Because docopt==0.6.2 has no usable wheels and you require docopt==0.6.2, we can \
conclude that your requirements are unsatisfiable.

hint: Wheels are required for `docopt` because building from source is disabled for all \
packages (i.e., with `--no-build`)
"""
UV_NO_VERSION = """\
error: No solution found when resolving dependencies
  cause: Because there is no version of flask==99 and you require flask==99, we can conclude \
that your requirements are unsatisfiable.
"""
UV_NO_VERSION_NORMALISED = """\
error: No solution found when resolving dependencies
  cause: Because there is no version of flask-login==99 and you require flask-login==99, we \
can conclude that your requirements are unsatisfiable.
"""
UV_ONLY_OLDER = """\
error: No solution found when resolving dependencies
  cause: Because only flask<=3.1.3 is available and you require flask>=99, we can conclude \
that your requirements are unsatisfiable.
"""
NPM_MISSING = """\
npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/nonexistent-pkg-zz9x
npm error 404
npm error 404  The requested resource 'nonexistent-pkg-zz9x@*' could not be found or you do \
not have permission to access it.
npm error 404
npm error 404 Note that you can also install from a
npm error 404 tarball, folder, http url, or git url.
npm error A complete log of this run can be found in: /tmp/npm/_logs/2026-debug-0.log
"""
NPM_MISSING_SCOPED = """\
npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/@types%2fnonexistent-zz9x
npm error 404
npm error 404  The requested resource '@types/nonexistent-zz9x@*' could not be found or you \
do not have permission to access it.
npm error A complete log of this run can be found in: /tmp/npm/_logs/x-debug-0.log
"""
NPM_NO_VERSION = """\
npm error code ETARGET
npm error notarget No matching version found for express@99.
npm error notarget In most cases you or one of your dependencies are requesting a package \
version that doesn't exist.
npm error A complete log of this run can be found in: /tmp/npm/_logs/y-debug-0.log
"""


def _req(name: str, spec: str = "", source: str = "plan") -> Requirement:
    return Requirement(name=name, spec=spec, source=source)  # type: ignore[arg-type]


# --- collecting Python requirements


def test_python_requirements_merge_plan_manifests_and_imports() -> None:
    files = {
        "requirements.txt": "requests>=2.31  # http\n\n-r other.txt\nattrs\n",
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["click==8.1.7", "rich"]\n',
        "app.py": "import flask\nfrom sqlalchemy.orm import Session\nimport requests\n",
    }

    collected = collect_requirements("python", ["Flask", "pydantic>=2"], files)

    got = {name: (r.spec, r.source, r.origin) for name, r in collected.requirements.items()}
    assert got == {
        "flask": ("", "import", "app.py"),  # the plan named it, app.py uses it: the file wins
        "pydantic": (">=2", "plan", ""),
        "requests": (">=2.31", "manifest", "requirements.txt"),
        "attrs": ("", "manifest", "requirements.txt"),
        "click": ("==8.1.7", "manifest", "pyproject.toml"),
        "rich": ("", "manifest", "pyproject.toml"),
        "sqlalchemy": ("", "import", "app.py"),
    }
    assert collected.findings == []


def test_a_manifest_pin_fills_in_the_plans_unpinned_requirement() -> None:
    collected = collect_requirements("python", ["flask"],
                                     {"requirements.txt": "Flask==3.0.3\n"})

    flask = collected.requirements["flask"]
    assert flask.text == "flask==3.0.3"
    assert (flask.source, flask.origin) == ("manifest", "requirements.txt")


@pytest.mark.parametrize(("module", "dist"), [
    ("yaml", "pyyaml"), ("PIL", "pillow"), ("bs4", "beautifulsoup4"),
    ("sklearn", "scikit-learn"), ("dateutil", "python-dateutil"), ("jwt", "pyjwt"),
])
def test_an_import_name_maps_to_its_distribution(module: str, dist: str) -> None:
    collected = collect_requirements("python", [], {"main.py": f"import {module}\n"})

    assert list(collected.requirements) == [dist]


def test_stdlib_local_modules_test_helpers_and_pytest_are_not_packages() -> None:
    files = {
        "calc.py": "import json, os.path\nimport asyncio\nfrom collections import deque\n",
        "shop/__init__.py": "",
        "shop/cart.py": "from shop.prices import total\nfrom . import prices\nimport calc\n",
        "shop/prices.py": "from __future__ import annotations\nimport typing\n",
        "src/engine/core.py": "import engine.util\n",
        "tests/helpers.py": "def make_cart():\n    return []\n",
        "tests/conftest.py": "import pytest\n",
        "tests/test_cart.py": (
            "import pytest\nimport pytest_asyncio\nimport helpers\nimport conftest\n"
            "from shop.cart import total\n"
        ),
        "tests/unit/test_more.py": "from helpers import make_cart\nimport fixtures_data\n",
        "tests/unit/fixtures_data.py": "ROWS = []\n",
    }

    collected = collect_requirements("python", ["pytest", "pytest-cov", "pip"], files)

    assert collected.requirements == {}
    assert collected.findings == []


def test_unparsable_code_and_manifests_contribute_nothing() -> None:
    files = {"broken.py": "import (\n", "pyproject.toml": "[project\n",
             "sub/pyproject.toml": '[project]\ndependencies = ["ignored"]\n'}

    collected = collect_requirements("python", [], files)

    assert collected.requirements == {}


def test_invalid_requirement_text_is_refused_with_a_finding() -> None:
    collected = collect_requirements("python", ["flask ==", "requests"], {})

    assert list(collected.requirements) == ["requests"]
    [finding] = collected.findings
    assert finding.name == "flask =="
    assert "not a valid requirement" in finding.message


@pytest.mark.parametrize("text", [
    "mylib @ https://example.com/mylib-1.0.tar.gz",
    "tool @ git+https://github.com/example/tool.git",
])
def test_url_and_git_requirements_are_refused(text: str) -> None:
    collected = collect_requirements("python", [], {"requirements.txt": f"{text}\nrich\n"})

    assert list(collected.requirements) == ["rich"]
    [finding] = collected.findings
    assert "comes from a URL" in finding.message
    assert "configured index" in finding.message


# --- collecting npm requirements


def test_node_requirements_merge_plan_package_json_and_imports() -> None:
    files = {
        "package.json": ('{"name": "x", "dependencies": {"express": "^4.18.0", "lodash": "*"},'
                         ' "devDependencies": {"supertest": "latest"}}'),
        "index.js": ("const express = require('express');\nconst chalk = require(\"chalk\");\n"
                     "import { z } from 'zod';\nconst m = await import('@scope/pkg/sub/path');\n"),
        "lib/esm.mjs": "import dayjs from 'dayjs/plugin/utc.js';\n",
    }

    collected = collect_requirements("javascript", ["uuid@9.0.1", "cors"], files,
                                     "an API; use @scope/pkg for the parsing")

    got = {name: (r.spec, r.source, r.origin) for name, r in collected.requirements.items()}
    assert got == {
        "uuid": ("9.0.1", "plan", ""),
        "cors": ("", "plan", ""),
        "express": ("^4.18.0", "manifest", "package.json"),
        "lodash": ("", "manifest", "package.json"),
        "supertest": ("", "manifest", "package.json"),
        "chalk": ("", "import", "index.js"),
        "zod": ("", "import", "index.js"),
        "@scope/pkg": ("", "import", "index.js"),
        "dayjs": ("", "import", "lib/esm.mjs"),
    }
    assert collected.findings == []


def test_node_builtins_node_specifiers_and_relative_files_are_not_packages() -> None:
    files = {
        "index.js": (
            "const fs = require('fs');\nconst path = require('node:path');\n"
            "const test = require('node:test');\nconst assert = require('assert/strict');\n"
            "const lib = require('./lib');\nconst up = require('../up.js');\n"
            "import { readFile } from 'fs/promises';\nimport http from 'http';\n"
        ),
        "lib.js": "module.exports = {};\n",
        "test/index.test.js": "const { test } = require('node:test');\n",
    }

    collected = collect_requirements("javascript", ["fs"], files)

    assert collected.requirements == {}
    assert collected.findings == []


@pytest.mark.parametrize("name", ["Express", "../evil", "has space", "@scope/", "-dash"])
def test_invalid_npm_names_are_refused(name: str) -> None:
    collected = collect_requirements("javascript", [name, "express"], {})

    assert list(collected.requirements) == ["express"]
    [finding] = collected.findings
    assert "not a valid npm package name" in finding.message


@pytest.mark.parametrize("spec", ["file:../lib", "git+https://github.com/x/y.git",
                                  "https://example.com/x.tgz", "github:x/y", "link:../z"])
def test_npm_packages_from_outside_the_registry_are_refused(spec: str) -> None:
    manifest = f'{{"dependencies": {{"mine": "{spec}", "express": "4"}}}}'

    collected = collect_requirements("javascript", [], {"package.json": manifest})

    assert list(collected.requirements) == ["express"]
    [finding] = collected.findings
    assert finding.name == "mine"
    assert "configured registry" in finding.message


def test_manifests_are_recognised() -> None:
    assert all(is_manifest(p) for p in ("requirements.txt", "pyproject.toml", "package.json",
                                         "package-lock.json"))
    assert not is_manifest("sub/requirements.txt")
    assert not is_manifest("app.py")


# --- uv's resolution errors


def test_uv_missing_package_is_a_does_not_exist_finding() -> None:
    [finding] = python_env.explain_failure(UV_MISSING, [_req("flask"), _req("reqests")])

    assert finding.name == "reqests"
    assert finding.message.startswith("`reqests` does not exist on the package index")


@pytest.mark.parametrize("output", [UV_NO_WHEEL, UV_NO_WHEEL_PINNED])
def test_uv_sdist_only_package_is_a_no_wheel_finding(output: str) -> None:
    spec = "==0.6.2" if "docopt==" in output else ""
    [finding] = python_env.explain_failure(output, [_req("flask"), _req("docopt", spec)])

    assert finding.name == "docopt"
    assert "has no wheel for this platform" in finding.message
    assert "source distributions are never built" in finding.message


def test_uv_missing_version_names_the_pin() -> None:
    [finding] = python_env.explain_failure(UV_NO_VERSION, [_req("flask", "==99")])

    assert finding.name == "flask"
    assert finding.message.startswith("`flask==99` matches no published version")


def test_uv_missing_version_matches_the_normalised_name() -> None:
    [finding] = python_env.explain_failure(UV_NO_VERSION_NORMALISED,
                                           [_req("flask-login", "==99"), _req("flask")])

    assert finding.name == "flask-login"


def test_uv_range_no_release_satisfies_blames_only_that_package() -> None:
    findings = python_env.explain_failure(UV_ONLY_OLDER, [_req("requests"), _req("flask", ">=99")])

    assert [f.name for f in findings] == ["flask"]
    assert "matches no published version" in findings[0].message


def test_uv_output_naming_nothing_requested_blames_nothing() -> None:
    assert python_env.explain_failure(UV_MISSING, [_req("flask")]) == []
    assert python_env.explain_failure("error: something else entirely", [_req("flask")]) == []


def test_pylock_parsing_takes_the_one_wheel_of_each_package() -> None:
    lock = (
        'lock-version = "1.0"\ncreated-by = "uv"\n\n[[packages]]\nname = "MarkupSafe"\n'
        'version = "3.0.2"\nwheels = [{ url = "https://x/markupsafe.whl", size = 20123, '
        'hashes = { sha256 = "' + "a" * 64 + '" } }]\n'
    )

    [package] = parse_pylock(lock)

    assert package == python_env.LockedPackage(name="markupsafe", version="3.0.2",
                                               sha256="a" * 64, size=20123)


# --- npm's errors


def test_npm_404_is_a_does_not_exist_finding() -> None:
    findings = node_env.explain_failure(
        NPM_MISSING, [_req("express"), _req("nonexistent-pkg-zz9x")])

    assert [f.name for f in findings] == ["nonexistent-pkg-zz9x"]
    assert "does not exist in the npm registry" in findings[0].message


def test_npm_404_of_a_scoped_package_is_unescaped() -> None:
    [finding] = node_env.explain_failure(NPM_MISSING_SCOPED, [_req("@types/nonexistent-zz9x")])

    assert finding.name == "@types/nonexistent-zz9x"


def test_npm_missing_version_names_the_pin() -> None:
    [finding] = node_env.explain_failure(NPM_NO_VERSION, [_req("express", "99"), _req("cors")])

    assert finding.name == "express"
    assert finding.message.startswith("`express@99` matches no published version")


def test_npm_output_naming_nothing_requested_blames_nothing() -> None:
    assert node_env.explain_failure(NPM_MISSING, [_req("express")]) == []


# --- the policy


def _policy(tmp_path: Path, **changes: object) -> DependencyPolicy:
    return DependencyPolicy(cache_dir=tmp_path / "cache", envs_dir=tmp_path / "envs",
                            **changes)  # type: ignore[arg-type]


def test_deny_list_refuses_by_name_case_insensitively(tmp_path: Path) -> None:
    policy = _policy(tmp_path, deny=frozenset({"werkzeug"}))

    assert "deny list" in (policy.refusal("Werkzeug") or "")
    assert policy.refusal("flask") is None


def test_allow_list_refuses_everything_not_on_it(tmp_path: Path) -> None:
    policy = _policy(tmp_path, allow=frozenset({"requests", "idna"}))

    assert policy.refusal("requests") is None
    why = policy.refusal("flask")
    assert why is not None and "allow list (idna, requests)" in why


def test_deny_wins_over_allow(tmp_path: Path) -> None:
    policy = _policy(tmp_path, allow=frozenset({"flask"}), deny=frozenset({"flask"}))

    assert "deny list" in (policy.refusal("flask") or "")


def test_policy_from_settings_normalises_the_lists(tmp_path: Path) -> None:
    from atelier.settings import Settings

    settings = Settings(data_dir=tmp_path, deps_allow=[" Flask ", ""], deps_deny=["Werkzeug"],
                        deps_max_packages=7, _env_file=None)  # type: ignore[call-arg]

    policy = DependencyPolicy.from_settings(settings)

    assert policy.allow == frozenset({"flask"})
    assert policy.deny == frozenset({"werkzeug"})
    assert (policy.cache_dir, policy.envs_dir) == (tmp_path / "cache", tmp_path / "envs")
    assert policy.max_packages == 7


def test_prepared_environment_summary_says_what_the_code_can_import(tmp_path: Path) -> None:
    empty = PreparedEnvironment(report=EnvironmentReport(language="python"))
    env = tmp_path / "envs" / "py-1"
    full = PreparedEnvironment(
        report=EnvironmentReport(language="python", installed=[
            InstalledPackage(name="flask", version="3.1.3"),
            InstalledPackage(name="click", version="8.1.8")]),
        python=env / "bin" / "python")

    assert empty.summary == "no third-party packages"
    assert full.summary == f"2 packages, read-only at {env}"


# --- pruning built environments


def _env(envs: Path, name: str, age_s: int) -> Path:
    path = envs / name
    (path / "lib").mkdir(parents=True)
    (path / "lib" / "x.py").write_text("x = 1\n")
    stamp = 1_700_000_000 - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_prune_removes_the_least_recently_used_beyond_the_limit(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    newest, newer, old, older, oldest = (
        _env(envs, f"py-{i}", age) for i, age in enumerate((10, 20, 30, 40, 50)))
    building = envs / ".build-abc"
    building.mkdir()
    (envs / "stray-file").write_text("")

    removed = prune_environments(envs, 2, keep=[oldest])

    assert removed == 2
    assert {p.name for p in envs.iterdir()} == {
        newest.name, newer.name, oldest.name, ".build-abc", "stray-file"}
    assert not old.exists() and not older.exists()


def test_prune_with_room_to_spare_or_no_directory_removes_nothing(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    _env(envs, "py-a", 1)

    assert prune_environments(envs, 5) == 0
    assert prune_environments(tmp_path / "missing", 0) == 0
    assert (envs / "py-a").is_dir()


# --- which index uv resolves against


def test_pip_index_url_wins(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://from-config.example/simple\n")
    env = {"HOME": str(tmp_path), "PIP_INDEX_URL": "https://mirror.example/simple",
           "PIP_CONFIG_FILE": str(conf)}

    assert configured_index(env) == "https://mirror.example/simple"


def test_pip_config_file_sets_the_index(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://global.example/simple\n"
                    "timeout = 60\n")

    assert configured_index({"HOME": str(tmp_path), "PIP_CONFIG_FILE": str(conf)}) == (
        "https://global.example/simple")

    conf.write_text("[global]\nindex-url = https://global.example/simple\n"
                    "[install]\nindex-url = https://install.example/simple\n")
    assert configured_index({"HOME": str(tmp_path), "PIP_CONFIG_FILE": str(conf)}) == (
        "https://install.example/simple")


def test_user_pip_conf_under_home_sets_the_index(tmp_path: Path) -> None:
    (tmp_path / ".config" / "pip").mkdir(parents=True)
    (tmp_path / ".config" / "pip" / "pip.conf").write_text(
        "[global]\nindex-url = https://user.example/simple\n")

    assert configured_index({"HOME": str(tmp_path)}) == "https://user.example/simple"


def test_without_configuration_the_index_is_pypi(tmp_path: Path) -> None:
    # This machine's /etc/pip.conf sets only extra indexes and a CA bundle.
    missing = tmp_path / "absent.conf"

    assert configured_index({"HOME": str(tmp_path), "PIP_CONFIG_FILE": str(missing)}) == (
        DEFAULT_INDEX)
    assert DEFAULT_INDEX == "https://pypi.org/simple"


def test_an_unreadable_pip_conf_is_ignored(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("this is [not an ini file\n= =\n")

    assert configured_index({"HOME": str(tmp_path), "PIP_CONFIG_FILE": str(conf)}) == (
        DEFAULT_INDEX)


def test_an_undeclared_import_that_is_neither_well_known_nor_asked_for_is_a_finding() -> None:
    # `utils` and `reqests` exist on PyPI as strangers' packages: a missing local module
    # or a typo must never be "fixed" by installing them.
    files = {"app.py": "import requests\nimport reqests\nfrom utils import helper\n"}
    collected = collect_requirements("python", [], files, "Fetch a page over HTTP.")

    assert list(collected.requirements) == ["requests"]
    messages = {f.name: f.message for f in collected.findings}
    assert set(messages) == {"reqests", "utils"}
    assert messages["utils"].startswith("app.py imports `utils`, which is neither a module "
                                        "of this project nor a declared dependency")
    assert "requirements.txt" in messages["utils"]


def test_a_package_the_request_names_or_the_plan_declares_is_installed() -> None:
    files = {"app.py": "import tinydb\nimport humps\n", "index.js": ""}
    collected = collect_requirements("python", ["pyhumps"], files,
                                     "Store records with TinyDB.")
    assert set(collected.requirements) == {"pyhumps", "tinydb"}
    # `humps` is pyhumps's import name: not declared under that name, so reported.
    assert [f.name for f in collected.findings] == ["humps"]
    js = collect_requirements("javascript", [], {"a.js": "require('leftpad-x')\n"}, "")
    assert [f.name for f in js.findings] == ["leftpad-x"]
    assert "package.json" in js.findings[0].message
