"""Generated JavaScript test files that would not load are mended so their tests run:
checked by running the mended files with the real `node --test` in the sandbox."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from atelier.domain.report import TestReport
from atelier.pipeline.js_test_mending import mend_javascript_test
from atelier.sandbox import run_tests
from atelier.sandbox.limits import SandboxLimits

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

CALC_CJS = "function add(a, b) { return a + b; }\nmodule.exports = { add };\n"
CALC_ESM = "export function add(a, b) { return a + b; }\n"


def run(files: dict[str, str]) -> TestReport:
    return asyncio.run(run_tests(files, "javascript", SandboxLimits()))


def mended_run(test_path: str, test: str, sources: dict[str, str]) -> TestReport:
    mended = mend_javascript_test(test_path, test, {**sources, test_path: test})
    return run({**sources, test_path: mended})


@pytest.mark.parametrize(
    ("test", "passed", "failed"),
    [
        # describe / it without node:test, assert without node:assert
        ("const { add } = require('../calc');\n"
         "describe('add', () => {\n  it('adds', () => { assert.strictEqual(add(1, 2), 3); });\n"
         "  it.skip('later', () => {});\n});\n", 1, 0),
        # Jest's test + expect, with .not and toThrow
        ("const { add } = require('../calc');\n"
         "test('adds', () => { expect(add(1, 2)).toBe(3); });\n"
         "test('not', () => { expect(add(1, 2)).not.toBe(4); });\n"
         "test('equal', () => { expect([add(1, 1)]).toEqual([2]); });\n"
         "test('throws', () => { expect(() => { throw new TypeError('bad'); })"
         ".toThrow(TypeError); });\n"
         "test('wrong', () => { expect(add(1, 2)).toBe(4); });\n", 4, 1),
        # a module path that does not exist: pointed at the project's calc.js
        ("const test = require('node:test');\nconst assert = require('node:assert');\n"
         "const { add } = require('../src/calc');\n"
         "test('adds', () => assert.strictEqual(add(2, 2), 4));\n", 1, 0),
    ],
)
def test_commonjs_test_files_load_and_their_tests_count(test: str, passed: int,
                                                         failed: int) -> None:
    report = run({"calc.js": CALC_CJS, "tests/calc.test.js": test})
    assert report.errors == 1, "the file must not load as written (else this proves nothing)"
    mended = mended_run("tests/calc.test.js", test, {"calc.js": CALC_CJS})
    assert (mended.passed, mended.failed, mended.errors) == (passed, failed, 0), mended.output_tail


def test_es_modules_get_imports_and_exact_file_names() -> None:
    sources = {"calc.js": CALC_ESM, "package.json": '{"type": "module"}\n'}
    test = ("import { add } from '../lib/calc';\n"
            "describe('add', () => { it('adds', () => { expect(add(1, 2)).toEqual(3); }); });\n")
    mended = mend_javascript_test("tests/calc.test.js", test, {**sources, "t": test})
    assert "import { describe, it } from 'node:test';" in mended
    assert "from '../calc.js'" in mended
    report = run({**sources, "tests/calc.test.js": mended})
    assert (report.passed, report.failed, report.errors) == (1, 0, 0), report.output_tail


def test_a_file_that_loads_is_left_as_it_is() -> None:
    test = ("const test = require('node:test');\nconst assert = require('node:assert');\n"
            "const { add } = require('../calc');\n"
            "test('adds', () => assert.strictEqual(add(1, 2), 3));\n")
    assert mend_javascript_test("tests/calc.test.js", test, {"calc.js": CALC_CJS}) == test


def test_a_module_spec_with_several_candidates_is_not_guessed() -> None:
    test = "const { add } = require('../src/math');\n"
    files = {"calc.js": CALC_CJS, "other.js": "module.exports = {};\n"}
    assert mend_javascript_test("tests/calc.test.js", test, files) == test
