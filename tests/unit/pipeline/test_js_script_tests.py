"""A JavaScript test file written as a script of top-level asserts runs as tests:
checked with the real `node --test` in the sandbox, before and after the mending."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from atelier.domain.report import TestReport
from atelier.pipeline.js_script_tests import with_script_checks_as_tests
from atelier.pipeline.js_test_mending import mend_javascript_test
from atelier.sandbox import run_tests
from atelier.sandbox.limits import SandboxLimits

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

COLLECTIONS = """\
class Queue {
  constructor(capacity) { this.capacity = capacity; this.items = []; }
  enqueue(item) {
    if (this.items.length === this.capacity) { throw new Error('Queue is already full'); }
    this.items.push(item);
  }
  size() { return this.items.length; }
}
class Stack {
  constructor() { this.items = []; }
  push(item) { this.items.push(item); }
  pop() { return this.items.pop(); }
}
module.exports = { Queue, Stack };
"""

# As the 1.5B wrote it (shortened): the queue's last assert expects a return value
# where the code throws, so as written the file stops loading there.
SCRIPT = """\
const { Queue, Stack } = require('../collections.js');
const assert = require('node:assert');

// Test Queue
const queue = new Queue(2);
assert(queue.enqueue(1) === undefined, 'enqueue returns nothing');
assert(queue.enqueue(2) === undefined, 'enqueue returns nothing');
assert(queue.enqueue(3) === 'Queue is full', 'a full queue says so');

// Test Stack
const stack = new Stack();
stack.push(1);
stack.push(2);
assert(stack.pop() === 2, 'last in, first out');

// Stack size after pop
assert(stack.items.length === 1, 'one left');
"""


def run(test: str) -> TestReport:
    files = {"collections.js": COLLECTIONS, "tests/collections.test.js": test}
    return asyncio.run(run_tests(files, "javascript", SandboxLimits()))


def test_as_written_the_script_does_not_load_and_nothing_runs() -> None:
    report = run(SCRIPT)
    assert (report.passed, report.failed, report.errors) == (0, 0, 1)


def test_its_sections_run_as_tests_titled_by_their_comments() -> None:
    mended = mend_javascript_test("tests/collections.test.js", SCRIPT,
                                  {"collections.js": COLLECTIONS})
    assert "test('Test Queue', () => {" in mended
    # The last section uses `stack`, declared by the one before: they stay together.
    assert "test('Stack size after pop'" not in mended
    report = run(mended)
    assert (report.passed, report.failed, report.errors) == (1, 1, 0), report.output_tail
    failed = next(c for c in report.cases if c.outcome == "failed")
    assert failed.name == "Test Queue"


@pytest.mark.parametrize(
    "test",
    [
        # already written as tests
        "const assert = require('node:assert');\ntest('x', () => { assert.ok(1); });\n",
        # nothing to check
        "const { Queue } = require('../collections.js');\nconsole.log(new Queue(1));\n",
        # brackets that do not balance: not guessed at
        "const assert = require('node:assert');\nassert.ok((1);\n",
    ],
)
def test_other_files_are_left_alone(test: str) -> None:
    assert with_script_checks_as_tests(test) == test


def test_a_script_without_section_comments_is_one_test_and_awaits_make_it_async() -> None:
    script = ("const assert = require('node:assert');\n"
              "const value = await Promise.resolve(3);\nassert.equal(value, 3);\n")
    assert with_script_checks_as_tests(script) == (
        "const assert = require('node:assert');\n\n"
        "test('top-level checks', async () => {\n"
        "  const value = await Promise.resolve(3);\n  assert.equal(value, 3);\n});\n")
