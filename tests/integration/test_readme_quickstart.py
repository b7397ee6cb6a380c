"""README's command-line quick start, run as written: every `.venv/bin/atelier` command
of its ```bash blocks is read from README.md and either run for real or excluded below
with the reason, so README cannot promise what a fresh clone does not do."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from atelier.llm.catalog import CATALOG, is_installed
from atelier.settings import Settings

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
ATELIER = ".venv/bin/atelier"
# Options whose value is a path the command writes: redirected into the test's tmp dir.
OUTPUT_OPTIONS = ("--out", "--zip")
_BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)


def readme_commands() -> list[list[str]]:
    """The argv of each `.venv/bin/atelier` line of README's bash blocks, in order."""
    commands: list[list[str]] = []
    for block in _BASH_BLOCK.findall(README.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv and argv[0] == ATELIER:
                commands.append(argv)
    return commands


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


def not_run_because(argv: list[str]) -> str | None:
    """Why a README command is not run here, or None when it is."""
    command = argv[1:3]
    if command[:1] == ["generate"]:
        provider = _option(argv, "--provider")
        if provider is None or provider == "local":
            return ("writes with the local model (minutes on a CPU): "
                    "tests/integration/test_generate_local_models.py")
        if provider != "scripted":
            return f"needs a {provider} server or key"
    if command == ["models", "pull"]:
        return "fetches ~0.5 GB from PyPI; `make setup` pulls the default model"
    if command == ["models", "check"]:
        return ("runs the local model: test_model_pull.py::"
                "test_check_runs_one_humaneval_problem_on_the_installed_qwen")
    return None


def test_readme_shows_a_scripted_generate_and_models_list_that_run_here() -> None:
    runnable = [argv for argv in readme_commands() if not_run_because(argv) is None]
    assert any(a[1] == "generate" and _option(a, "--provider") == "scripted" for a in runnable)
    assert any(a[1:3] == ["models", "list"] for a in runnable)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh data dir whose models/ is the real one, so installed models are found
    (the commands run here only read models)."""
    data = tmp_path / "data"
    data.mkdir()
    real_models = Settings().models_dir
    if real_models.is_dir():
        (data / "models").symlink_to(real_models, target_is_directory=True)
    return data


def run_as_written(
    argv: list[str], tmp_path: Path, data_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run a README command from the repository root, as a user of the clone would;
    only the paths it writes move into `tmp_path` (never the repo's own out/)."""
    args = list(argv)
    for name in OUTPUT_OPTIONS:
        if name in args[:-1]:
            index = args.index(name) + 1
            args[index] = str(tmp_path / args[index])
    executable = REPO_ROOT / ATELIER
    assert executable.is_file(), f"{executable} missing: run `make setup`"
    # The README's commands run with a user's defaults, not this test run's settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env["ATELIER_DATA_DIR"] = str(data_dir)
    return subprocess.run([str(executable), *args[1:]], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def check_generated_project(out: Path) -> None:
    report = json.loads((out / "ATELIER_REPORT.json").read_text(encoding="utf-8"))
    assert report["status"] == "succeeded"
    assert report["verdict"]["verdict"] == "verified"
    assert report["tests"]["passed"] > 0
    assert report["tests"]["failed"] == report["tests"]["errors"] == 0
    assert (out / "README.md").is_file() and (out / "ATELIER_REPORT.md").is_file()
    assert [p for p in out.rglob("*.py") if "tests" not in p.relative_to(out).parts]
    # The delivered project passes outside the sandbox too, under plain pytest.
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=out, capture_output=True, text=True, timeout=120, check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr


def check_models_list(stdout: str, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    for model_id, model in CATALOG.items():
        rows = [line for line in stdout.splitlines() if f" {model_id} " in line]
        assert rows, f"{model_id} missing from:\n{stdout}"
        assert ("yes" in rows[0]) is is_installed(model, settings), rows[0]


def test_every_readme_command_not_run_here_is_covered_elsewhere() -> None:
    # Not a skip: these commands are accounted for, each by the test that runs its work
    # (or by `make setup`, which pulls the models), so nothing of README goes unchecked.
    for argv in readme_commands():
        reason = not_run_because(argv)
        if reason is None:
            continue
        for named in (w for w in reason.replace(":", " ").split() if w.startswith("tests/")
                      or (w.startswith("test_") and w.endswith(".py"))):
            path = REPO_ROOT / named if named.startswith("tests/") else (
                REPO_ROOT / "tests" / "integration" / named)
            assert path.is_file(), f"{shlex.join(argv)}: {reason} names a missing {named}"


@pytest.mark.parametrize(
    "argv", [a for a in readme_commands() if not_run_because(a) is None],
    ids=lambda argv: shlex.join(argv[1:]))
def test_readme_command_runs_as_written(argv: list[str], tmp_path: Path, data_dir: Path) -> None:
    proc = run_as_written(argv, tmp_path, data_dir)

    assert proc.returncode == 0, proc.stderr
    if argv[1] == "generate":
        check_generated_project(tmp_path / str(_option(argv, "--out")))
    elif argv[1:3] == ["models", "list"]:
        check_models_list(proc.stdout, data_dir)
    else:
        pytest.fail(f"README command with no check here: {shlex.join(argv)}; "
                    "add what it must do, or why it is not run, to this file")
