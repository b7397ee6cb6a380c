"""Mending generated test files: missing imports added, cut-off files trimmed."""

from __future__ import annotations

from atelier.pipeline.test_mending import mend_python_test

SOURCES = {
    "solution.py": "def has_close(xs, t):\n    return False\n\n\ndef _private():\n    pass\n",
    "pkg/util.py": "LIMIT = 3\n\n\nclass Box:\n    pass\n",
}


def test_a_forgotten_import_of_a_project_name_is_added() -> None:
    source = "import pytest\n\n\ndef test_close():\n    assert not has_close([1.0], 0.5)\n"
    mended = mend_python_test(source, SOURCES)
    assert mended == "from solution import has_close\n" + source


def test_names_from_several_modules_and_unknown_names() -> None:
    source = (
        "def test_box():\n    assert Box() and LIMIT == 3 and has_close([], 1) is False\n"
        "    assert undefined_thing\n"
    )
    mended = mend_python_test(source, SOURCES)
    assert mended is not None
    assert mended.startswith("from pkg.util import Box, LIMIT\nfrom solution import has_close\n")
    assert "import undefined_thing" not in mended  # nobody defines it: left to fail


def test_private_names_are_not_imported() -> None:
    source = "def test_p():\n    assert _private() is None\n"
    assert mend_python_test(source, SOURCES) == source


def test_a_cut_off_file_keeps_its_longest_compiling_prefix() -> None:
    source = (
        "from solution import has_close\n\n\n"
        "def test_one():\n    assert not has_close([1.0], 0.5)\n"
        "\n\ndef test_two():\n    assert has_close([1.0, 1.1], 0.5)\n    assert has_close([1.0,"
    )
    mended = mend_python_test(source, SOURCES)
    assert mended is not None
    compile(mended, "<t>", "exec")
    assert "def test_one" in mended and "def test_two" in mended
    assert "[1.0,\n" not in mended and not mended.rstrip().endswith(",")


def test_nothing_usable_is_none() -> None:
    assert mend_python_test("def helper(:\n    pass\n", SOURCES) is None
    assert mend_python_test("x = (\n", SOURCES) is None


def test_a_pasted_copy_of_the_function_under_test_is_replaced_by_an_import() -> None:
    source = (
        "import pytest\n\n\n@decorated\ndef has_close(xs, t):\n    return True\n\n\n"
        "def helper():\n    return 1\n\n\n"
        "def test_close():\n    assert not has_close([1.0], 0.5)\n"
    )
    mended = mend_python_test(source, SOURCES)
    assert mended is not None
    assert mended.startswith("from solution import has_close\n")
    assert "return True" not in mended and "@decorated" not in mended
    assert "def helper" in mended  # not a project name: the test's own helper stays


def test_a_test_of_many_asserts_becomes_one_test_per_assert() -> None:
    source = (
        "from solution import has_close\n\n\n"
        "def test_close():\n"
        "    assert not has_close([1.0], 0.5)\n"
        "    assert has_close([1.0, 1.1],\n               0.5)\n\n\n"
        "def test_mixed():\n    xs = [1.0]\n    assert not has_close(xs, 0.5)\n"
    )
    mended = mend_python_test(source, SOURCES)
    assert mended is not None
    compile(mended, "<t>", "exec")
    assert "def test_close_1():\n    assert not has_close([1.0], 0.5)\n" in mended
    assert "def test_close_2():\n    assert has_close([1.0, 1.1],\n" in mended
    assert "def test_close():" not in mended
    assert "def test_mixed():\n    xs = [1.0]" in mended  # not only asserts: left alone


def test_an_assert_repeated_in_a_test_counts_once_after_the_split() -> None:
    # Seen: a looping model ended one test in five copies of one assert; split, they
    # were five more "passing tests" in the verdict.
    source = (
        "from solution import has_close\n\n\n"
        "def test_close():\n"
        "    assert not has_close([1.0], 0.5)\n"
        "    assert has_close([1.0, 1.1], 0.5)\n"
        "    assert has_close([1.0, 1.1], 0.5)\n"
        "    assert has_close([1.0, 1.1], 0.5)\n"
    )
    mended = mend_python_test(source, SOURCES)
    assert mended is not None
    compile(mended, "<t>", "exec")
    assert mended.count("def test_close_") == 2
    assert "def test_close_1():" in mended and "def test_close_2():" in mended


def test_a_standard_module_or_pytest_used_without_its_import_is_imported() -> None:
    # Seen: a CLI test calling `subprocess.run` without importing subprocess failed
    # with a NameError in every round — no change to the code could make it pass.
    source = (
        "def test_cli(tmp_path):\n"
        "    result = subprocess.run([sys.executable, 'solution.py'], capture_output=True)\n"
        "    assert result.returncode == 0\n\n\n"
        "def test_raises():\n"
        "    with pytest.raises(ValueError):\n"
        "        has_close(None, 1)\n"
    )
    mended = mend_python_test(source, SOURCES)
    assert mended is not None
    assert mended.startswith(
        "import pytest\nimport subprocess\nimport sys\nfrom solution import has_close\n")
    assert mend_python_test(mended, SOURCES) == mended


def test_names_imported_from_a_module_that_does_not_exist_come_from_the_one_defining_them() -> None:
    sources = {"lru.py": "class LRUCache:\n    pass\n", "util.py": "def helper():\n    return 1\n"}
    test = ("from calc import add, LRUCache\nfrom lru import LRUCache as C, helper\n"
            "from pathlib import Path\n\n\ndef test_a():\n    assert LRUCache and C and helper\n")
    mended = mend_python_test(test, {**sources, "paths.py": "class Path:\n    pass\n"})
    assert mended is not None
    assert "calc" not in mended and "add" not in mended.split("def test_a")[0]
    assert "from lru import LRUCache\n" in mended
    assert "from lru import LRUCache as C\n" in mended and "from util import helper\n" in mended
    assert "from pathlib import Path\n" in mended  # the standard library is never re-pointed
