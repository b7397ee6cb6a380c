"""JUnit XML from pytest becomes test cases with the right outcomes."""

from __future__ import annotations

import pytest

from atelier.sandbox.junit import JUnitError, parse_junit

MIXED = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="0.1">
<testcase classname="tests.test_calc" name="test_add" time="0.001"/>
<testcase classname="tests.test_calc" name="test_bad" time="0.002">
  <failure message="assert 2 == 3">def test_bad():&#10;&gt;  assert add(1, 1) == 3</failure>
</testcase>
<testcase classname="tests.test_calc" name="test_fixture" time="0.0">
  <error message="failed on setup with &quot;fixture 'db' not found&quot;">
    fixture 'db' not found</error>
</testcase>
<testcase classname="tests.test_calc" name="test_later" time="0.0">
  <skipped type="pytest.skip" message="not yet">tests/test_calc.py:9: not yet</skipped>
</testcase>
</testsuite></testsuites>"""

COLLECTION_ERROR = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="1" time="0.2">
<testcase classname="" name="tests.test_calc" time="0.000">
  <error message="collection failure">ImportError while importing test module
E   ModuleNotFoundError: No module named 'calc'</error>
</testcase></testsuite></testsuites>"""


def test_each_outcome_is_read_with_its_message() -> None:
    parsed = parse_junit(MIXED)

    outcomes = {case.name: case.outcome for case in parsed.cases}
    assert outcomes == {
        "test_add": "passed",
        "test_bad": "failed",
        "test_fixture": "error",
        "test_later": "skipped",
    }
    bad = next(c for c in parsed.cases if c.name == "test_bad")
    assert bad.classname == "tests.test_calc"
    assert "assert 2 == 3" in bad.message and "add(1, 1)" in bad.message
    assert bad.duration_s == pytest.approx(0.002)
    assert (parsed.count("passed"), parsed.count("failed")) == (1, 1)
    assert (parsed.count("error"), parsed.count("skipped")) == (1, 1)


def test_collection_error_counts_as_an_error() -> None:
    parsed = parse_junit(COLLECTION_ERROR)

    assert parsed.count("error") == 1
    assert parsed.count("passed") == 0
    assert "No module named 'calc'" in parsed.cases[0].message


def test_a_lone_testsuite_root_is_accepted() -> None:
    xml = '<testsuite name="x"><testcase classname="a" name="b"/></testsuite>'

    assert [c.outcome for c in parse_junit(xml).cases] == ["passed"]


@pytest.mark.parametrize(
    "text",
    [
        "not xml at all",
        "<html><body/></html>",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>',
    ],
)
def test_unusable_or_dtd_xml_is_refused(text: str) -> None:
    with pytest.raises(JUnitError):
        parse_junit(text)


def test_long_messages_are_cut() -> None:
    failure = f'<failure message="m">{"x" * 10000}</failure>'
    xml = f'<testsuite><testcase name="t">{failure}</testcase></testsuite>'

    assert len(parse_junit(xml).cases[0].message) <= 2000
