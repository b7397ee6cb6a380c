"""extract_code on the kinds of replies small models really produce."""

from __future__ import annotations

import ast

import pytest

from atelier.agents.extract import extract_code, split_labelled_blocks

MODULE = '''def add(a, b):
    """Return a + b."""
    return a + b


def sub(a, b):
    return a - b
'''


def compiles(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def test_plain_fenced_block() -> None:
    assert extract_code(f"```python\n{MODULE}```", language="python") == MODULE


def test_prose_around_and_usage_block_after_picks_the_module() -> None:
    reply = (
        "Sure! Here is the implementation of `calc.py`:\n\n"
        f"```python\n{MODULE}```\n\n"
        "You can use it like this:\n\n"
        "```python\nprint(add(1, 2))\n```\n\nThis prints 3."
    )
    assert extract_code(reply, language="python", path="calc.py") == MODULE


def test_block_labelled_with_the_path_wins_over_a_longer_one() -> None:
    other = "import os\n\n" + "\n".join(f"X{i} = {i}" for i in range(30)) + "\n"
    reply = f"### config.py\n```python\n{other}```\n\n### calc.py\n```python\n{MODULE}```\n"
    assert extract_code(reply, language="python", path="calc.py") == MODULE


def test_test_block_next_to_the_module_is_not_taken_for_it() -> None:
    tests = "import pytest\nfrom calc import add\n\n" + "".join(
        f"def test_add_{i}():\n    assert add({i}, 1) == {i + 1}\n\n" for i in range(6)
    )
    reply = f"```python\n{MODULE}```\nAnd tests:\n```python\n{tests}```"
    assert extract_code(reply, language="python", path="calc.py") == MODULE


def test_no_fence_whole_reply_is_code() -> None:
    assert extract_code(MODULE, language="python") == MODULE


def test_no_fence_prose_lines_before_and_after_are_dropped() -> None:
    reply = f"Here is the code you asked for:\n\n{MODULE}\nThis function adds two numbers."
    assert extract_code(reply, language="python") == MODULE


def test_wrong_language_tag_still_found_by_content() -> None:
    reply = f"```javascript\n{MODULE}```"
    assert extract_code(reply, language="python") == MODULE


def test_wrong_tag_loses_to_a_right_one() -> None:
    js = "function add(a, b) {\n  return a + b;\n}\nmodule.exports = { add };\n"
    reply = f"In JS:\n```javascript\n{js}```\nIn Python:\n```python\n{MODULE}```"
    assert extract_code(reply, language="python") == MODULE
    assert extract_code(reply, language="javascript") == js


def test_truncated_unclosed_fence_drops_the_incomplete_statement() -> None:
    reply = "```python\n" + MODULE + "\n\ndef mul(a, b):\n    return a *"
    code = extract_code(reply, language="python")
    assert compiles(code)
    assert "def sub(a, b):" in code and "return a *" not in code


def test_truncated_unfenced_python_is_cut_back_to_compile() -> None:
    reply = "Here you go:\n" + MODULE + "\ndef mul(a, b):\n    return (a *"
    code = extract_code(reply, language="python")
    assert compiles(code) and "def add" in code


def test_python_block_inside_a_markdown_wrapper() -> None:
    reply = f"```markdown\n# calc\n\nThe module:\n\n```python\n{MODULE}```\n\nDone.\n```"
    assert extract_code(reply, language="python", path="calc.py") == MODULE


def test_special_tokens_and_crlf_removed() -> None:
    reply = "```python\r\n" + MODULE.replace("\n", "\r\n") + "```<|im_end|>"
    assert extract_code(reply, language="python") == MODULE


def test_javascript_without_fence_drops_prose() -> None:
    js = "const add = (a, b) => a + b;\nmodule.exports = { add };"
    reply = f"Here is index.js:\n{js}\nHope this helps!"
    assert extract_code(reply, language="javascript") == js + "\n"


def test_empty_or_prose_only_reply_gives_nothing_plausible() -> None:
    assert extract_code("", language="python") == ""
    assert extract_code("   \n", language="python") == ""


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("```py\nx = 1\n```", "x = 1\n"),
        ("```Python\nx = 1\n```", "x = 1\n"),
        ("~~~python\nx = 1\n~~~", "x = 1\n"),
        ("```python title=calc.py\nx = 1\n```", "x = 1\n"),
    ],
)
def test_fence_variants(reply: str, expected: str) -> None:
    assert extract_code(reply, language="python", path="calc.py") == expected


def test_split_labelled_blocks_reads_every_header_style() -> None:
    reply = (
        "### src/app/main.py\n```python\nA = 1\n```\n"
        "**utils.py**\n```python\nB = 2\n```\n"
        "```python\n# file: models.py\nC = 3\n```\n"
        "`config.py`:\n```python\nD = 4\n```\n"
        "Usage:\n```python\nprint(A)\n```\n"
    )
    labels = [label for label, _ in split_labelled_blocks(reply)]
    assert labels == ["src/app/main.py", "utils.py", "models.py", "config.py", None]
