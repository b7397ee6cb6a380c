"""A JavaScript test file cut off mid-way is closed after its last complete statement,
and the tests it had written run: checked with the real `node --test` in the sandbox."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from atelier.pipeline.js_cut_tail import with_cut_tail_closed
from atelier.pipeline.js_test_mending import mend_javascript_test
from atelier.sandbox import run_tests
from atelier.sandbox.limits import SandboxLimits

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

CASECONV = ("function splitWords(text) { return text.split(/[ _-]+/).filter(Boolean); }\n"
            "module.exports = { splitWords };\n")
# As the loop guard left it: the looping asserts cut inside the second test.
CUT = """\
const test = require('node:test');
const assert = require('node:assert');
const { splitWords } = require('../caseconv.js');

test('splits on spaces', () => {
  assert.deepStrictEqual(splitWords('hello world'), ['hello', 'world']);
});

describe('splitWords', () => {
  it('splits on underscores', () => {
    assert.deepStrictEqual(splitWords('a_b'), ['a', 'b']);
    assert.deepStrictEqual(splitWords('hello world!_123'), ['hello', 'world!', '123']);
    assert.deepStrictEqual(splitWords('hello world!_123!'), ['hello', 'wor"""


def run(test: str) -> tuple[int, int, int]:
    files = {"caseconv.js": CASECONV, "tests/caseconv.test.js": test}
    report = asyncio.run(run_tests(files, "javascript", SandboxLimits()))
    return report.passed, report.failed, report.errors


def test_as_cut_the_file_does_not_load() -> None:
    assert run(CUT) == (0, 0, 1)


def test_closed_after_its_last_complete_statement_its_tests_run() -> None:
    closed = with_cut_tail_closed(CUT)
    assert closed.endswith("['hello', 'world!', '123']);\n})});\n")
    mended = mend_javascript_test("tests/caseconv.test.js", CUT, {"caseconv.js": CASECONV})
    assert run(mended) == (2, 0, 0)


@pytest.mark.parametrize(
    "source",
    [
        "test('x', () => {\n  assert.ok(true);\n});\n",  # balanced: untouched
        "const s = 'a;\n",  # no complete statement to cut back to
        "test('x', () => { assert.ok(1) ]);\n",  # mismatched: not guessed at
        # a quote in a regular expression: the scanner is lost, the file is not cut
        "const quote = /['\"]/;\ntest('x', () => {\n  assert.ok(quote);\n});\n",
    ],
)
def test_files_that_balance_or_cannot_be_closed_are_left_alone(source: str) -> None:
    assert with_cut_tail_closed(source) == source
