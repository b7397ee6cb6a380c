"""single.py: the one-call baseline and its multi-file reply parsing."""

from __future__ import annotations

from atelier.agents.single import default_file_name, parse_project_reply, write_project_single
from atelier.domain.spec import Spec
from atelier.llm.scripted import ScriptedLLM


async def test_multi_file_reply_with_mixed_headers() -> None:
    reply = (
        "Here is the project.\n\n"
        "### calc/core.py\n```python\ndef add(a, b):\n    return a + b\n```\n\n"
        "**cli.py**\n```python\nfrom calc.core import add\n\n"
        'if __name__ == "__main__":\n    print(add(1, 2))\n```\n\n'
        "```python\n# file: calc/__init__.py\nfrom calc.core import add\n```\n\n"
        "Run it with:\n```bash\npython cli.py\n```\n"
    )
    llm = ScriptedLLM({"coder": [reply]})
    files = await write_project_single(Spec(prompt="a calculator"), llm)
    assert sorted(files) == ["calc/__init__.py", "calc/core.py", "cli.py"]
    assert files["calc/core.py"] == "def add(a, b):\n    return a + b\n"
    assert llm.calls[0].agent == "coder"
    assert "a calculator" in llm.calls[0].messages[-1].content


async def test_single_unlabelled_block_goes_to_the_file_the_spec_names() -> None:
    reply = "```python\ndef slugify(s):\n    return s.lower()\n```\nExample: slugify('A')"
    spec = Spec(prompt="Write `text_utils.py` with slugify(s).")
    files = await write_project_single(spec, ScriptedLLM({"coder": [reply]}))
    assert files == {"text_utils.py": "def slugify(s):\n    return s.lower()\n"}


async def test_defaults_main_py_and_index_js() -> None:
    reply = "```python\nX = 1\n```"
    assert await write_project_single(Spec(prompt="x"), ScriptedLLM({"coder": [reply]})) == {
        "main.py": "X = 1\n"
    }
    js = "```js\nconst x = 1;\nmodule.exports = { x };\n```"
    files = await write_project_single(
        Spec(prompt="x", language="javascript"), ScriptedLLM({"coder": [js]})
    )
    assert list(files) == ["index.js"]


def test_invalid_paths_are_dropped() -> None:
    reply = (
        "### ../../etc/passwd\n```python\nX = 1\n```\n"
        "### /etc/cron.d/x.py\n```python\nY = 2\n```\n"
        "### ok.py\n```python\nZ = 3\n```\n"
    )
    assert parse_project_reply(reply, language="python", default_path="main.py") == {
        "ok.py": "Z = 3\n"
    }


def test_unfenced_reply_becomes_the_default_file() -> None:
    reply = "def f():\n    return 1\n"
    assert parse_project_reply(reply, language="python", default_path="main.py") == {
        "main.py": reply
    }
    assert parse_project_reply("Sorry, I cannot.", language="python", default_path="m.py") == {}


def test_default_file_name() -> None:
    assert default_file_name("Create shapes/area.py and util.py", "python") == "shapes/area.py"
    assert default_file_name("Make app.js", "javascript") == "app.js"
    assert default_file_name("def f(x):\n    pass", "python") == "main.py"
    assert default_file_name("read ../../etc/x.py", "python") == "main.py"


def test_one_block_holding_several_files_under_headers_is_split() -> None:
    reply = (
        "```python\n### inventory.py\nclass Inventory:\n    pass\n\n"
        "### report.py\nfrom inventory import Inventory\n\n\ndef report(inv):\n    return ''\n```"
    )
    files = parse_project_reply(reply, language="python", default_path="main.py")
    assert set(files) == {"inventory.py", "report.py"}
    assert files["inventory.py"].startswith("class Inventory")
    assert "### " not in files["report.py"]


def test_a_comment_naming_a_file_inside_code_is_not_a_section() -> None:
    reply = "```python\nimport os\n\n# see utils.py for helpers\nX = 1\n```"
    files = parse_project_reply(reply, language="python", default_path="main.py")
    assert files == {"main.py": "import os\n\n# see utils.py for helpers\nX = 1\n"}
