"""A JavaScript "it throws" test whose try block checks nothing must fail when nothing
is thrown: checked with the real `node --test` in the sandbox, before and after."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from atelier.domain.report import TestReport
from atelier.pipeline.js_expected_throws import with_expected_throws_checked
from atelier.pipeline.js_test_mending import mend_javascript_test
from atelier.sandbox import run_tests
from atelier.sandbox.limits import SandboxLimits

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

TODO = """\
function addTask(title) {
  if (title === 'boom') { throw new Error('Task title cannot be empty'); }
  return { title };
}
async function load(name) {
  if (name === 'missing') { throw new Error('no such list'); }
  return [];
}
module.exports = { addTask, load };
"""
HEADER = ("const test = require('node:test');\nconst assert = require('node:assert');\n"
          "const { addTask, load } = require('../todo');\n")


def run(test: str) -> TestReport:
    files = {"todo.js": TODO, "tests/todo.test.js": test}
    return asyncio.run(run_tests(files, "javascript", SandboxLimits()))


def counts(report: TestReport) -> tuple[int, int, int]:
    return report.passed, report.failed, report.errors


VACUOUS = HEADER + """\
test('empty title throws', () => {
  try {
    addTask('');  // does not throw: the test must fail
  } catch (error) {
    assert.equal(error.message, 'Task title cannot be empty');
  }
});

test('boom throws', () => {
  try { addTask('boom'); } catch (e) { assert.equal(e.message, 'Task title cannot be empty'); }
});

test('boom throws the wrong message', () => {
  try { addTask('boom'); } catch { assert.ok(false, 'a check that always fails'); }
});

test('missing list rejects', async () => {
  try {
    await load(`missing`);
  } catch (error) {
    assert.equal(error.message, 'no such list');
  }
});

test('a present list does not reject', async () => {
  try {
    await load('inbox');
  } catch (error) {
    assert.match(error.message, /no such/);
  }
});
"""


def test_as_written_the_vacuous_tests_pass() -> None:
    # Why they are rewritten: the empty title and the present list "pass".
    assert counts(run(VACUOUS)) == (4, 1, 0)


def test_vacuous_throw_tests_fail_when_nothing_is_thrown_and_pass_when_it_is() -> None:
    mended = mend_javascript_test("tests/todo.test.js", VACUOUS,
                                  {"todo.js": TODO, "tests/todo.test.js": VACUOUS})
    assert mended.count("assert.throws(") == 3
    assert mended.count("await assert.rejects(async () =>") == 2
    report = run(mended)
    # pass: boom throws, missing list rejects; fail: empty title, wrong message, inbox
    assert counts(report) == (2, 3, 0), report.output_tail


def test_a_jest_expect_in_the_catch_block_counts_as_a_check() -> None:
    test = "try { addTask(''); } catch (e) { expect(e.message).toBe('x'); }"
    assert with_expected_throws_checked(test).startswith("assert.throws(")


@pytest.mark.parametrize(
    "test",
    [
        # the try block checks something itself
        "try { assert.equal(addTask('a').title, 'a'); } catch (e) { assert.fail(e); }",
        # the try block fails when nothing is thrown
        "try { addTask(''); assert.fail('no throw'); } catch (e) { assert.equal(e.message, 'x'); }",
        # the catch block checks nothing
        "try { addTask(''); } catch (e) { console.log(e); }",
        # a finally block: left to the author
        "try { addTask(''); } catch (e) { assert.ok(e); } finally { console.log('done'); }",
        # braces inside strings, a template literal and comments do not confuse it
        "const s = '{'; // }\n/* { */ const t = `${'}'}`;",
    ],
)
def test_other_try_blocks_are_left_alone(test: str) -> None:
    assert with_expected_throws_checked(test) == test


def test_braces_in_strings_inside_the_blocks_are_skipped() -> None:
    test = "try { addTask('}{'); } catch (e) { assert.equal(e.message, `{${'}'}`); }"
    assert with_expected_throws_checked(test) == (
        "assert.throws(() => { addTask('}{'); }, (e) => { assert.equal(e.message, `{${'}'}`);"
        "\n  return true;\n});")
