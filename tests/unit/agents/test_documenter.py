"""Documenter: README markdown, outer fence stripped, deterministic fallback."""

from __future__ import annotations

from atelier.agents.documenter import unwrap_markdown, write_docs
from atelier.domain.plan import FileSpec, Plan
from atelier.domain.report import TestReport
from atelier.llm.scripted import ScriptedLLM

PLAN = Plan(
    name="calc",
    summary="Adds numbers.",
    language="python",
    files=[FileSpec(path="calc.py", purpose="add(a, b)")],
    test_command="pytest -q",
)
FILES = {
    "calc.py": 'def add(a, b):\n    """Sum."""\n    return a + b\n',
    "tests/test_calc.py": "def test_add(): ...",
}
README = (
    "# calc\n\nA tiny calculator that adds numbers together.\n\n## Usage\n\n"
    "```python\nfrom calc import add\nadd(1, 2)\n```\n"
)


async def test_markdown_fence_stripped() -> None:
    llm = ScriptedLLM({"documenter": [f"Here is the README:\n```markdown\n{README}```"]})
    text = await write_docs(PLAN, FILES, TestReport(passed=1), llm, spec_prompt="add")
    assert text == README
    request = llm.calls[0]
    assert request.agent == "documenter"
    assert "def add(a, b)" in request.messages[-1].content
    assert "test_add" not in request.messages[-1].content


async def test_plain_markdown_kept_and_title_added_when_missing() -> None:
    body = "This project adds numbers. Use add(a, b) from calc to add two numbers."
    llm = ScriptedLLM({"documenter": [body]})
    assert await write_docs(PLAN, FILES, None, llm, spec_prompt="add") == f"# calc\n\n{body}\n"


async def test_unusable_reply_gives_deterministic_readme() -> None:
    llm = ScriptedLLM({"documenter": ["```markdown\n```"]})
    text = await write_docs(PLAN, FILES, TestReport(passed=3, failed=1), llm, spec_prompt="add")
    assert text.startswith("# calc\n\nAdds numbers.")
    assert "`calc.py` — add(a, b)" in text
    assert "def add(a, b):" in text and "pytest -q" in text
    assert "3 passed, 1 failed" in text


def test_unwrap_truncated_fence_and_inner_code_blocks() -> None:
    assert unwrap_markdown("```markdown\n# T\n\ntext") == "# T\n\ntext"
    assert unwrap_markdown(README) == README.strip()
    assert unwrap_markdown("```md\n" + README + "```") == README.strip()
