"""`atelier generate` end to end on real local models (llama.cpp in-process).

SmolLM2-135M proves the plumbing with a model that writes poor code; the default
Qwen2.5-Coder model proves the pipeline turns a description into tested code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atelier.llm.catalog import CATALOG, is_installed
from atelier.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

try:
    import llama_cpp  # noqa: F401

    HAVE_LLAMA = True
except ImportError:  # pragma: no cover - depends on the install
    HAVE_LLAMA = False

needs_llama = pytest.mark.skipif(not HAVE_LLAMA, reason="llama-cpp-python is not installed")


def generate(tmp_path: Path, prompt: str, *args: str) -> tuple[dict[str, object], Path]:
    out = tmp_path / "out"
    env = {**os.environ, "ATELIER_LLM_PROVIDER": "local"}
    env.pop("ATELIER_LLM_SCRIPT", None)
    proc = subprocess.run(
        [sys.executable, "-m", "atelier.cli", "generate", prompt, "--out", str(out), "--json",
         *args],
        capture_output=True, text=True, timeout=1500, env=env, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout), out


@needs_llama
def test_smollm2_generate_completes_and_writes_its_report(tmp_path: Path) -> None:
    summary, out = generate(
        tmp_path, "A Python module greet.py with a function greet(name) that returns "
        "'Hello, <name>!'", "--model", "smollm2-135m", "--strategy", "repair",
        "--max-fix-rounds", "1")

    assert summary["status"] == "succeeded"
    report = json.loads((out / "ATELIER_REPORT.json").read_text())
    assert report["usage"]["calls"] == summary["usage"]["calls"]  # type: ignore[index]
    assert report["usage"]["completion_tokens"] > 0
    assert [s for s in report["timings"]["steps_s"]] == [
        "plan", "code", "test", "fix", "review", "docs", "package"]
    for entry in report["files"]:
        assert (out / entry["path"]).is_file()
    assert (out / "ATELIER_REPORT.md").is_file()


DEFAULT_MODEL = Settings(_env_file=None).local_default_model  # type: ignore[call-arg]


@needs_llama
@pytest.mark.skipif(
    not is_installed(CATALOG[DEFAULT_MODEL], Settings()),
    reason=f"{DEFAULT_MODEL} is not pulled (make setup pulls it)",
)
def test_default_qwen_model_generates_code_that_passes_its_tests(tmp_path: Path) -> None:
    prompt = (
        "Write a Python module `numbers_util.py` with a function `is_prime(n: int) -> bool` "
        "that tells whether n is a prime number.\n\n"
        ">>> is_prime(7)\nTrue\n>>> is_prime(1)\nFalse\n>>> is_prime(12)\nFalse\n"
    )
    summary, out = generate(tmp_path, prompt, "--no-review", "--no-docs")

    assert summary["status"] == "succeeded"
    assert "numbers_util.py" in summary["files"]  # type: ignore[operator]
    tests = summary["tests"]
    assert tests["passed"] >= 3 and tests["failed"] == 0 and tests["errors"] == 0  # type: ignore[index]
    # The spec's own examples were turned into tests and they pass.
    report = json.loads((out / "ATELIER_REPORT.json").read_text())
    cases = report["rounds"][-1]["cases"]
    example_cases = [c for c in cases if "spec_examples" in c["classname"]]
    assert len(example_cases) == 3 and all(c["outcome"] == "passed" for c in example_cases)
