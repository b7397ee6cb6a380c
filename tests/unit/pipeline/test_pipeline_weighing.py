"""A wrong generated test does not make correct code `failing` once the evidence says so."""

from __future__ import annotations

from atelier.settings import Settings

from .scripts import GOOD_OPS, one_file_script
from .test_pipeline_scripted import Recorder, ScriptWriter, run

# `add` of two numbers is right; the Tester also expects add(2, 2) == 5, which is wrong.
TESTS_WITH_ONE_WRONG = {"files": [{"path": "tests/test_ops.py", "content": (
    "from calc.ops import add, mul\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n\n\n"
    "def test_add_twos():\n    assert add(2, 2) == 5\n")}]}
# Independently drawn correct versions (they differ, so each is its own evidence).
DRAWS = [
    "```python\ndef add(a, b):\n    return b + a\n\n\ndef mul(a, b):\n    return a * b\n```",
    "```python\ndef add(x, y):\n    return x + y\n\n\ndef mul(x, y):\n    return x * y\n```",
    "```python\ndef add(a, b):\n    total = a + b\n    return total\n\n\n"
    "def mul(a, b):\n    return b * a\n```",
]


async def test_a_test_every_correct_candidate_fails_is_set_aside_and_the_code_verified(
    settings: Settings, write_script: ScriptWriter
) -> None:
    events = Recorder()
    result = await run(settings, write_script(one_file_script(
        [GOOD_OPS, *DRAWS], tester=[TESTS_WITH_ONE_WRONG])),
        prompt="Write calc/ops.py with add(a, b) and mul(a, b).",
        strategy="resample", resample_k=3, events=events)

    assert [s.name for s in result.set_aside] == ["tests.test_ops::test_add_twos"]
    # Set aside after the second draw (3 versions agree), which then is good enough:
    # the third draw is never paid for.
    assert "3 versions" in result.set_aside[0].reason
    assert result.usage.calls == 1 + 1 + 2 + 1 + 1  # coder, tester, 2 draws, review, docs
    verdict = result.verdict
    assert verdict.verdict == "verified", verdict.reason
    assert verdict.set_aside == result.set_aside
    assert any(e.type == "log" and e.data.get("message") == "tests set aside"
               for e in events.events)


async def test_a_test_that_one_candidate_passes_is_kept_and_decides(
    settings: Settings, write_script: ScriptWriter
) -> None:
    # The first draft is wrong on one test; a resampled candidate passes it: the
    # test was right, nothing is set aside, and the better candidate wins.
    buggy = "```python\ndef add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n```"
    result = await run(settings, write_script(one_file_script([buggy, GOOD_OPS])),
                       prompt="Write calc/ops.py with add(a, b) and mul(a, b).",
                       strategy="resample", resample_k=2)

    assert result.set_aside == []
    assert result.verdict.verdict == "verified"
