"""Static checks: syntax errors and undefined names reach the fix loop as errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from atelier.domain.report import TestReport
from atelier.pipeline.static_check import check_python_source, check_sources, with_static_issues
from atelier.settings import Settings

from .scripts import GOOD_OPS, ONE_FILE_TESTS, one_file_script
from .test_pipeline_scripted import run

MISSING_IMPORT = (
    "def slugify(text):\n    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')\n"
)


def test_missing_import_is_an_undefined_name() -> None:
    issues = check_python_source("slug.py", MISSING_IMPORT)
    assert [(i.kind, i.line) for i in issues] == [("undefined-name", 2)]
    assert "'re'" in issues[0].message


def test_correct_code_has_no_issues() -> None:
    source = (
        "import re\nLIMIT = 3\n\n\ndef outer(a):\n    def inner():\n        return a + LIMIT\n"
        "    class Box:\n        size = len('x')\n        def get(self):\n"
        "            return Box, self.size, [i for i in range(LIMIT)], re\n"
        "    return inner, Box\n"
    )
    assert check_python_source("m.py", source) == []


def test_syntax_error_is_reported_with_its_line() -> None:
    issues = check_python_source("m.py", "x = 1\ndef f(:\n    pass\n")
    assert issues[0].kind == "syntax-error" and issues[0].line == 2


def test_only_python_is_checked_and_star_imports_are_skipped() -> None:
    assert check_sources({"a.js": "foo(bar)"}, "javascript") == []
    assert check_python_source("m.py", "from os.path import *\ndef f():\n    return join\n") == []


def test_issues_turn_a_green_report_red() -> None:
    report = TestReport(passed=3)
    merged = with_static_issues(report, check_python_source("slug.py", MISSING_IMPORT))
    assert merged.errors == 1 and not merged.green
    assert "undefined name 're'" in merged.output_tail


async def test_fix_loop_repairs_a_missing_import_the_tests_did_not_catch(
    settings: Settings, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    # A standard module would be imported by source mending; a name of its own is not.
    uses_helpers = ("```python\ndef add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n"
                    "    return a * b\n\n\ndef root(x):\n    return numeric.sqrt(x)\n```")
    result = await run(settings, write_script(one_file_script([uses_helpers, GOOD_OPS])),
                       strategy="repair")

    assert result.rounds[0].report.errors == 1 and result.rounds[0].report.passed == 2
    assert result.final_report is not None and result.final_report.green
    assert "numeric.sqrt" not in result.files["calc/ops.py"]


async def test_tests_that_do_not_compile_are_regenerated_then_replaced_by_a_smoke_test(
    settings: Settings, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    broken = {"files": [{"path": "tests/test_ops.py", "content": "<the whole test file>"}]}
    result = await run(settings, write_script(one_file_script([GOOD_OPS], tester=[broken])),
                       budgets={"max_fix_rounds": 0})

    assert "tests/test_ops.py" not in result.files
    assert "importlib.import_module('calc.ops')" in result.files["tests/test_smoke.py"]
    assert result.final_report is not None and result.final_report.green

    fixed = await run(settings, write_script(one_file_script(
        [GOOD_OPS], tester=[broken, ONE_FILE_TESTS])), budgets={"max_fix_rounds": 0})
    assert "tests/test_ops.py" in fixed.files and "tests/test_smoke.py" not in fixed.files


def test_module_level_annotation_without_its_import_is_found() -> None:
    source = "def f(xs: List[int]) -> List[int]:\n    return xs\n"
    assert [i.message for i in check_python_source("m.py", source)] == [
        "undefined name 'List' (missing import or definition?)"]
    postponed = "from __future__ import annotations\n" + source
    assert check_python_source("m.py", postponed) == []
    imported = "from typing import List\n" + source
    assert check_python_source("m.py", imported) == []


def test_a_global_bound_inside_a_function_is_defined() -> None:
    source = "def init():\n    global CACHE\n    CACHE = {}\n\n\ndef get():\n    return CACHE\n"
    assert check_python_source("m.py", source) == []


def test_an_import_of_a_name_the_local_module_does_not_define_is_reported() -> None:
    from atelier.pipeline.static_check import check_local_imports

    files = {"shop.py": "def price():\n    return 1\n", "app.py": "from shop import total, price\n",
             "pkg/__init__.py": "", "pkg/sub.py": "x = 1\n",
             "b.py": "from pkg import sub\nfrom os import path\nfrom pkg.sub import x\n",
             "star.py": "from os.path import *\n", "c.py": "from star import anything\n"}
    [issue] = check_local_imports(files)
    assert (issue.path, issue.line, issue.kind) == ("app.py", 1, "import-error")
    assert issue.message == ("imports `total` from `shop`, which does not define it "
                             "(it defines: price)")
