"""TAP from node --test becomes test cases, nested subtests and directives included."""

from __future__ import annotations

from atelier.sandbox.tap import parse_tap, tap_summary

NODE_TAP = """TAP version 13
# Subtest: adds
ok 1 - adds
  ---
  duration_ms: 6.917546
  ...
# Subtest: fails
not ok 2 - fails
  ---
  duration_ms: 2.418236
  location: '/tmp/jst/a.test.js:3:1'
  failureType: 'testCodeFailure'
  error: |-
    Expected values to be strictly equal:

    1 !== 2

  code: 'ERR_ASSERTION'
  stack: |-
    TestContext.<anonymous> (/tmp/jst/a.test.js:3:26)
  ...
# Subtest: skipped
ok 3 - skipped # SKIP
  ---
  duration_ms: 0.273202
  ...
# Subtest: suite
    # Subtest: inner ok
    ok 1 - inner ok
      ---
      duration_ms: 0.333275
      ...
    1..1
ok 4 - suite
  ---
  duration_ms: 0.893967
  ...
# Subtest: /work/project/test/broken.test.js
not ok 5 - /work/project/test/broken.test.js
  ---
  duration_ms: 40.1
  failureType: 'testCodeFailure'
  error: 'test failed'
  code: 'ERR_TEST_FAILURE'
  ...
# Subtest: not yet
ok 6 - not yet # TODO write it
  ...
1..6
# tests 7
# pass 3
# fail 2
# skipped 1
# todo 1
"""


def test_results_names_and_outcomes() -> None:
    parsed = parse_tap(NODE_TAP)

    outcomes = {case.name: case.outcome for case in parsed.cases}
    assert outcomes == {
        "adds": "passed",
        "fails": "failed",
        "skipped": "skipped",
        "suite > inner ok": "passed",
        "/work/project/test/broken.test.js": "error",
        "not yet": "skipped",
    }


def test_failure_message_and_duration_come_from_the_yaml_block() -> None:
    fails = next(c for c in parse_tap(NODE_TAP).cases if c.name == "fails")

    assert "1 !== 2" in fails.message
    assert "Expected values to be strictly equal" in fails.message
    assert abs(fails.duration_s - 0.002418236) < 1e-9


def test_todo_reason_is_kept() -> None:
    todo = next(c for c in parse_tap(NODE_TAP).cases if c.name == "not yet")

    assert todo.message == "write it"


def test_summary_lines() -> None:
    assert tap_summary(NODE_TAP) == {"tests": 7, "pass": 3, "fail": 2, "skipped": 1, "todo": 1}


def test_plain_tap_without_numbers_or_yaml_and_stray_output() -> None:
    text = "console noise\nok - first\nnot ok - second\nok 3 third # skip no db\nBail out!\n"

    cases = parse_tap(text).cases

    assert [(c.name, c.outcome) for c in cases] == [
        ("first", "passed"),
        ("second", "failed"),
        ("third", "skipped"),
    ]


SUITES_TAP = """TAP version 13
# Subtest: TodoList
    # Subtest: adds
    ok 1 - adds
      ...
    # Subtest: fails
    not ok 2 - fails
      ---
      error: 'boom'
      ...
    1..2
not ok 1 - TodoList
  ---
  error: '1 subtest failed'
  ...
# Subtest: hooks
    # Subtest: fine
    ok 1 - fine
      ...
    1..1
not ok 2 - hooks
  ---
  error: 'before hook failed'
  ...
1..2
"""


def test_a_suite_counts_through_its_tests_unless_it_failed_on_its_own() -> None:
    cases = {c.name: c.outcome for c in parse_tap(SUITES_TAP).cases}
    # "TodoList" failed because "fails" did: one failure, not two. "hooks" failed with
    # every test passing (a hook): that failure is its own and stays.
    assert cases == {"TodoList > adds": "passed", "TodoList > fails": "failed",
                     "hooks > fine": "passed", "hooks": "failed"}


LOAD_ERROR_TAP = """TAP version 13
# /work/project/tests/calc.test.js:2
# describe('x', () => {});
# ^
# ReferenceError: describe is not defined
#     at Object.<anonymous> (/work/project/tests/calc.test.js:2:1)
# Node.js v20.20.2
# Subtest: /work/project/tests/calc.test.js
not ok 1 - /work/project/tests/calc.test.js
  ---
  failureType: 'testCodeFailure'
  error: 'test failed'
  code: 'ERR_TEST_FAILURE'
  ...
1..1
"""


def test_a_file_that_cannot_load_says_why() -> None:
    (case,) = parse_tap(LOAD_ERROR_TAP).cases
    assert case.outcome == "error"
    assert case.message == ("the test file did not load: ReferenceError: describe is not "
                            "defined (calc.test.js:2)")
