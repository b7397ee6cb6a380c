"""ZIP streaming, file trees, highlighting, request schemas, route templates."""

from __future__ import annotations

import io
import zipfile

from atelier.api.middleware import route_template
from atelier.api.routers.download import iter_zip, report_files
from atelier.api.routers.files import build_tree, highlighted_page
from atelier.api.schemas import JobCreate


def test_zip_is_streamed_file_by_file_and_valid() -> None:
    files = {f"pkg/m{i}.py": f"print({i})\n" * 500 for i in range(5)}
    chunks = list(iter_zip(files, "proj"))
    assert len([c for c in chunks if c]) >= 5
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == sorted(f"proj/{p}" for p in files)
    assert archive.read("proj/m3.py".replace("m3", "pkg/m3")).decode().startswith("print(3)")


def test_report_files_split_json_and_markdown() -> None:
    files = report_files({"status": "succeeded", "report_md": "# Atelier report\n"})
    assert files["ATELIER_REPORT.md"] == "# Atelier report\n"
    assert '"report_md"' not in files["ATELIER_REPORT.json"]
    fallback = report_files({"status": "failed"})
    assert "failed" in fallback["ATELIER_REPORT.md"]


def test_tree_nests_folders() -> None:
    assert build_tree(["a.py", "pkg/b.py", "pkg/sub/c.py"]) == {
        "a.py": None,
        "pkg": {"b.py": None, "sub": {"c.py": None}},
    }


def test_highlighting_escapes_generated_content() -> None:
    page = highlighted_page("index.html", "<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;" in page
    unknown = highlighted_page("LICENSE", "plain <b>text</b>")
    assert "<b>text</b>" not in unknown


def test_flat_budget_options_fold_into_budgets() -> None:
    spec = JobCreate.model_validate(
        {
            "prompt": "x",
            "options": {"max_fix_rounds": 1, "max_tokens": 500, "budgets": {"max_cost_usd": 0.5}},
        }
    ).to_spec()
    budgets = spec.options.budgets
    assert budgets.max_fix_rounds == 1 and budgets.max_tokens == 500
    assert budgets.max_cost_usd == 0.5


def test_unset_fix_rounds_stay_unset_so_settings_apply() -> None:
    spec = JobCreate.model_validate({"prompt": "x"}).to_spec()
    assert "max_fix_rounds" not in spec.options.budgets.model_fields_set


def test_route_template_of_unmatched_requests() -> None:
    assert route_template({"type": "http"}) == "unmatched"
