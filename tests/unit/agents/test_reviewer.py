"""Reviewer: findings from JSON, tolerant of sloppy fields, advisory on failure."""

from __future__ import annotations

import json

from atelier.agents.reviewer import review_project
from atelier.domain.plan import FileSpec, Plan
from atelier.domain.report import TestCase, TestReport
from atelier.llm.scripted import ScriptedLLM

PLAN = Plan(name="calc", language="python", files=[FileSpec(path="calc.py", purpose="div")])
FILES = {"calc.py": "def div(a, b):\n    return a / b\n"}


async def test_findings_parsed_and_normalised() -> None:
    reply = {
        "findings": [
            {
                "severity": "critical",
                "path": "calc.py",
                "line": "2",
                "message": "b may be 0",
                "suggestion": "raise ValueError",
            },
            {"severity": "weird", "path": "../etc/passwd", "line": 99, "message": "x"},
            {"severity": "low", "path": "calc.py", "line": None, "message": "   "},
        ]
    }
    report = TestReport(
        failed=1,
        cases=[TestCase(name="test_div_zero", outcome="failed", message="ZeroDivisionError")],
    )
    llm = ScriptedLLM({"reviewer": [f"Review:\n```json\n{json.dumps(reply)}\n```"]})
    findings = await review_project(PLAN, FILES, report, llm, spec_prompt="divide safely")
    assert [(f.severity, f.path, f.line) for f in findings] == [
        ("high", "calc.py", 2),
        ("low", "", None),
    ]
    assert findings[0].suggestion == "raise ValueError"
    request = llm.calls[0]
    assert request.agent == "reviewer" and request.json_schema is not None
    assert "ZeroDivisionError" in request.messages[-1].content
    assert "return a / b" in request.messages[-1].content


async def test_no_findings() -> None:
    llm = ScriptedLLM({"reviewer": ['{"findings": []}']})
    assert await review_project(PLAN, FILES, None, llm) == []


async def test_unparseable_review_is_empty_after_repairs() -> None:
    llm = ScriptedLLM({"reviewer": ["Looks good to me!"]})
    assert await review_project(PLAN, FILES, None, llm, max_repairs=1) == []
    assert len(llm.calls) == 2
