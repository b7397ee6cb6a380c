"""Run a generated project's tests in the sandbox and report them as a TestReport."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from atelier.domain.errors import InvalidPath, SandboxError
from atelier.domain.report import SandboxPolicy, TestCase, TestReport
from atelier.sandbox.backends import guarantees, process_containment
from atelier.sandbox.env_policy import PreparedEnvironment
from atelier.sandbox.junit import MAX_JUNIT_BYTES, JUnitError, ParsedTests, parse_junit
from atelier.sandbox.limits import SandboxLimits
from atelier.sandbox.process import SandboxResult, run_command
from atelier.sandbox.tap import parse_tap

JUNIT_FILE = ".atelier-junit.xml"
TAP_FILE = ".atelier-tap.txt"
# V8 reserves a large virtual address range at start-up and aborts below ~600 MB of
# RLIMIT_AS; the heap itself is held to the configured size with --max-old-space-size.
NODE_MIN_ADDRESS_SPACE_MB = 1024
_LANGUAGES = ("python", "javascript")
# Words of a test command that name a program, never a path ("npm test" is not ./test).
_RUNNER_WORDS = frozenset(
    {"npm", "npx", "yarn", "pnpm", "node", "python", "python3", "pytest", "run", "test"}
    | {"jest", "mocha", "vitest", "unittest"}
)


def write_project(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (project-relative path -> text) under ``root``.

    Raises :class:`InvalidPath` if a path is absolute or would land outside ``root``.
    """
    base = root.resolve()
    for rel, content in files.items():
        if not rel or Path(rel).is_absolute():
            raise InvalidPath(f"not a relative path: {rel!r}")
        target = (base / rel).resolve()
        if target == base or not target.is_relative_to(base):
            raise InvalidPath(f"path escapes the project: {rel!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def select_test_paths(test_command: str | None, root: Path) -> list[str]:
    """The project paths named in an LLM-supplied test command, and nothing else.

    ``pytest tests/ -x`` gives ``["tests/"]``; options, programs and anything not
    an existing path inside the project are dropped, so the command can only choose
    what to test, never what to run. pytest node ids (``file.py::test``) are kept.
    """
    if not test_command:
        return []
    try:
        tokens = shlex.split(test_command)
    except ValueError:
        return []
    base = root.resolve()
    paths = []
    for token in tokens:
        if token.startswith("-") or token in _RUNNER_WORDS or any(c in token for c in "\0\n"):
            continue
        file_part = token.split("::", 1)[0]
        if not file_part or Path(file_part).is_absolute():
            continue
        candidate = (base / file_part).resolve()
        if candidate != base and candidate.is_relative_to(base) and candidate.exists():
            paths.append(token)
    return paths


def _pytest_argv(paths: list[str], python: Path | None = None) -> list[str]:
    return [
        str(python) if python is not None else sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        # Plugin autoload is off in the sandbox; async tests still work.
        "-p",
        "pytest_asyncio.plugin",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        # Relative to the cwd, which is the project root with every backend.
        f"--junitxml={JUNIT_FILE}",
        *paths,
    ]


def _node_argv(paths: list[str], limits: SandboxLimits) -> list[str]:
    node = shutil.which("node", path="/usr/bin:/usr/local/bin:/bin") or "node"
    return [
        node,
        f"--max-old-space-size={max(16, limits.memory_mb)}",
        # WebAssembly (fetch's HTTP parser, for one) reserves ~10 GB of guard pages per
        # instance, far over RLIMIT_AS; without the trap handler it checks bounds instead.
        "--disable-wasm-trap-handler",
        "--test",
        # TAP to a file for parsing (the stdout tail may be cut), spec to the output.
        "--test-reporter=tap",
        f"--test-reporter-destination={TAP_FILE}",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        *paths,
    ]


def _read_capped(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_JUNIT_BYTES + 1)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


def sandbox_policy(
    backend: str, limits: SandboxLimits, environment: PreparedEnvironment | None
) -> SandboxPolicy:
    """What the code of a run could reach: the backend's guarantees here, its limits."""
    props = guarantees(backend)
    containment = process_containment(backend)
    return SandboxPolicy(
        backend=backend,
        network="none" if "network" in props else "host",
        filesystem=(
            "host hidden; system directories and dependencies read-only; the project "
            "directory is the only writable path; private /tmp"
            if "filesystem" in props else "host filesystem visible (weak isolation)"
        ),
        processes={"uid": "per-run uid with RLIMIT_NPROC", "cgroup": "per-run pids cgroup",
                   "user": "RLIMIT_NPROC of the service's uid"}.get(containment or "",
                                                                      "not contained"),
        limits={"wall_time_s": limits.wall_time_s, "cpu_s": limits.cpu_s,
                "memory_mb": limits.memory_mb, "max_processes": limits.max_processes,
                "max_file_mb": limits.max_file_mb},
        environment=environment.summary if environment is not None else
        "no third-party packages",
    )


def _report(
    parsed: ParsedTests | None, result: SandboxResult, command: str, why_missing: str
) -> TestReport:
    if parsed is None:
        # No machine-readable result (crash, timeout, bad config): one error that
        # points the fixer at the output, never an empty "0 failed" report.
        reason = "timed out" if result.timed_out else why_missing
        parsed = ParsedTests(cases=[TestCase(name="test run", outcome="error", message=reason)])
    return TestReport(
        passed=parsed.count("passed"),
        failed=parsed.count("failed"),
        errors=parsed.count("error"),
        skipped=parsed.count("skipped"),
        cases=parsed.cases,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        duration_s=result.duration_s,
        output_tail=result.output,
        command=command,
        isolation=result.isolation,
    )


async def run_tests(
    files: dict[str, str],
    language: str,
    limits: SandboxLimits,
    *,
    test_command: str | None = None,
    backend: str = "auto",
    environment: PreparedEnvironment | None = None,
) -> TestReport:
    """Write ``files`` to a fresh temp dir, run its tests in the sandbox, parse the results.

    python: ``python -m pytest`` with JUnit XML; javascript: ``node --test`` with TAP.
    ``test_command`` only selects test paths (see :func:`select_test_paths`); it is never run.
    ``environment`` holds the project's installed dependencies: pytest runs with its
    interpreter, node finds its ``node_modules`` through a link; both are mounted
    read-only. Failing tests, crashes and timeouts come back as a report (errors >= 1 when no
    results could be read). Raises :class:`InvalidPath` for a path escaping the
    project, :class:`SandboxError` for an unsupported language or a sandbox that
    cannot start.
    """
    if language not in _LANGUAGES:
        raise SandboxError(f"no test runner for language {language!r}")
    root = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="atelier-run-"))
    try:
        await asyncio.to_thread(write_project, root, files)
        paths = select_test_paths(test_command, root)
        read_only = environment.mounts if environment is not None else []
        if environment is not None and environment.node_modules is not None:
            link = root / "node_modules"
            await asyncio.to_thread(shutil.rmtree, link, True)
            await asyncio.to_thread(link.symlink_to, environment.node_modules, True)
        if language == "python":
            argv = _pytest_argv(paths, environment.python if environment else None)
            result_file = root / JUNIT_FILE
            run_limits = limits
        else:
            argv = _node_argv(paths, limits)
            result_file = root / TAP_FILE
            run_limits = SandboxLimits(
                wall_time_s=limits.wall_time_s,
                cpu_s=limits.cpu_s,
                memory_mb=max(limits.memory_mb, NODE_MIN_ADDRESS_SPACE_MB),
                max_processes=limits.max_processes,
                max_file_mb=limits.max_file_mb,
                output_tail_chars=limits.output_tail_chars,
            )
        # Anything already there was written by the project, not by the runner.
        result_file.unlink(missing_ok=True)
        result = await run_command(root, argv, run_limits, backend, read_only=read_only)
        command = shlex.join(argv)
        text = await asyncio.to_thread(_read_capped, result_file)
        parsed: ParsedTests | None = None
        why = f"no {result_file.name} was written (exit code {result.exit_code})"
        if text is not None:
            try:
                parsed = parse_junit(text) if language == "python" else parse_tap(text)
            except JUnitError as exc:
                why = str(exc)
        report = _report(parsed, result, command, why)
        report.policy = sandbox_policy(result.isolation, run_limits, environment)
        return report
    finally:
        await asyncio.to_thread(shutil.rmtree, root, True)
