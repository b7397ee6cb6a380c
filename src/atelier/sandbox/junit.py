"""Parse pytest's JUnit XML into a TestReport's cases and totals."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from atelier.domain.report import Outcome, TestCase

_MAX_MESSAGE_CHARS = 2000
# The file is written by untrusted code: it may be huge or use entity expansion.
MAX_JUNIT_BYTES = 8 * 1024 * 1024


class JUnitError(ValueError):
    """The JUnit XML is not there, too large, or not parseable."""


@dataclass
class ParsedTests:
    """Cases and their totals, as read from a test runner's machine-readable output."""

    cases: list[TestCase] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for case in self.cases if case.outcome == outcome)


def _message(element: ET.Element) -> str:
    message = element.get("message", "") or ""
    text = (element.text or "").strip()
    combined = f"{message}\n{text}".strip() if text and text != message else message
    if len(combined) > _MAX_MESSAGE_CHARS:
        combined = combined[: _MAX_MESSAGE_CHARS - 15] + "\n[... cut ...]"
    return combined


def _case(element: ET.Element) -> TestCase:
    outcome: Outcome = "passed"
    message = ""
    # pytest can record a failed call and a failed teardown on one case; the
    # failure of the test itself is what the fixer needs first.
    for tag, result in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        child = element.find(tag)
        if child is not None:
            outcome = result  # type: ignore[assignment]
            message = _message(child)
            break
    try:
        duration = float(element.get("time", "0") or 0)
    except ValueError:
        duration = 0.0
    return TestCase(
        name=element.get("name", ""),
        classname=element.get("classname", ""),
        outcome=outcome,
        message=message,
        duration_s=duration,
    )


def parse_junit(xml_text: str) -> ParsedTests:
    """Every ``<testcase>`` of a JUnit document (``<testsuites>`` or a lone ``<testsuite>``).

    A pytest collection error appears as a case with an ``<error>`` child and so
    counts as an error. Raises :class:`JUnitError` if the text is not usable XML
    or declares a DTD (entity expansion is not something a test report needs).
    """
    if len(xml_text) > MAX_JUNIT_BYTES:
        raise JUnitError("JUnit XML too large")
    if "<!DOCTYPE" in xml_text or "<!ENTITY" in xml_text:
        raise JUnitError("JUnit XML with a DTD is refused")
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise JUnitError(f"JUnit XML is not well-formed: {exc}") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitError(f"unexpected JUnit root element <{root.tag}>")
    return ParsedTests(cases=[_case(element) for element in root.iter("testcase")])
