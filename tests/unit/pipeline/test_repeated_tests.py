"""Copies of a generated test prove nothing new and must not inflate the verdict."""

from __future__ import annotations

import textwrap

from atelier.pipeline.repeated_tests import drop_repeated_javascript_tests, drop_repeated_tests

LOOPED = textwrap.dedent("""\
    import pytest
    from brackets import balanced


    def test_balanced_1():
        assert balanced("()") == True


    def test_balanced_2():
        assert balanced("{{[[(())]]}}") == True


    def test_balanced_3():
        assert balanced("{{[[(())]]}}") == True


    @pytest.mark.parametrize("text", ["(]", "(("])
    def test_unbalanced(text):
        assert not balanced(text)


    @pytest.mark.parametrize("text", ["([)]"])
    def test_unbalanced_more(text):
        assert not balanced(text)


    def test_balanced_4():
        assert balanced("{{[[(())]]}}") == True
    def helper():
        assert balanced("()") == True
    """)


def test_copies_of_an_earlier_test_are_dropped_and_the_rest_kept_as_written() -> None:
    out = drop_repeated_tests(LOOPED)
    assert "def test_balanced_3" not in out
    assert "def test_balanced_4" not in out
    # The first of the copies, other parameters and non-test helpers stay.
    for kept in (
        "def test_balanced_1",
        "def test_balanced_2",
        "def test_unbalanced(",
        "def test_unbalanced_more",
        "def helper",
    ):
        assert kept in out
    assert out.count('@pytest.mark.parametrize("text", ["([)]"])') == 1
    compile(out, "test_brackets.py", "exec")
    assert out.startswith("import pytest\nfrom brackets import balanced\n")


def test_a_file_without_copies_or_that_does_not_parse_is_unchanged() -> None:
    distinct = "def test_a():\n    assert f(1) == 2\n\n\ndef test_b():\n    assert f(2) == 3\n"
    assert drop_repeated_tests(distinct) == distinct
    broken = "def test_a(:\n    assert f(1) == 2\n"
    assert drop_repeated_tests(broken) == broken


JS_LOOPED = textwrap.dedent("""\
    const { test } = require('node:test');
    const assert = require('node:assert');
    const { addTask, listOpenTasks } = require('../todo.js');

    test('adds a task', () => {
      addTask('Buy groceries');
      assert.deepEqual(listOpenTasks(), ['Buy groceries']);
    });

    test('a title with ) and } in it', () => {
      assert.equal(addTask(')}'), undefined); // ) }
    });

    test('adds a task', () => {
      addTask('Buy groceries');
      assert.deepEqual(listOpenTasks(),   ['Buy groceries']);
    });

    test(`adds a task, again`, () => {
      addTask('Buy groceries');
      assert.deepEqual(listOpenTasks(), ['Buy groceries']);
    });

    test('adds another task', () => {
      addTask('Read a book');
      assert.deepEqual(listOpenTasks(), ['Read a book']);
    });
    """)


def test_javascript_copies_are_dropped_whatever_their_title() -> None:
    out = drop_repeated_javascript_tests(JS_LOOPED)
    assert out.count("addTask('Buy groceries');") == 1
    assert "a title with ) and } in it" in out
    assert "test('adds another task'" in out
    assert out.endswith("});\n")
    assert drop_repeated_javascript_tests(out) == out
