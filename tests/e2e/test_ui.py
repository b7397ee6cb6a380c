"""The web UI in a real browser against a real `atelier serve` (see conftest.py)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Pages, Server
from tests.e2e.scripts import CODE

STEPS = ("plan", "code", "test", "fix", "review", "docs", "package")
# Records every change of a step's state on the page, and marks the document: a reload
# would lose both.
WATCH_TIMELINE = """() => {
  window.__marker = "same-document";
  window.__changes = [];
  new MutationObserver((records) => {
    for (const r of records) window.__changes.push([r.target.dataset.step, r.target.dataset.state]);
  }).observe(document.querySelector('#timeline'),
              {subtree: true, attributes: true, attributeFilter: ['data-state']});
}"""


def wait_status(page: Any, status: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_selector(f'#status[data-status="{status}"]', timeout=timeout_ms)


def step_states(page: Any) -> dict[str, str]:
    states: dict[str, str] = page.eval_on_selector_all(
        "#timeline li", "els => Object.fromEntries(els.map(e => [e.dataset.step, e.dataset.state]))"
    )
    return states


def test_sign_in_lands_on_my_jobs_with_the_user_shown(server: Server, pages: Pages) -> None:
    page = pages.new(key=server.admin_key)
    assert page.text_content("#who") == "admin (admin)"
    assert page.is_visible("#nav-admin")
    page.wait_for_selector("#jobs-table tbody tr")
    pages.shot(page, "my-jobs")
    page.click("#signout")
    page.wait_for_url(re.compile(r"/signin"))
    assert "Signed out" in page.text_content("#flash")
    pages.shot(page, "signin")


def test_a_wrong_key_is_refused_on_the_sign_in_page(server: Server, pages: Pages) -> None:
    pages.allowed_statuses = {401}
    page = pages.new()
    page.goto(server.base_url + "/new")
    page.wait_for_url(re.compile(r"/signin"))
    page.fill("#api-key", "atl_00000000_not-a-real-key")
    page.click("button[type=submit]")
    page.wait_for_selector("#flash.error")
    assert "not valid" in page.text_content("#flash")
    pages.shot(page, "refused")


def test_a_job_from_a_template_runs_live_to_succeeded(server: Server, pages: Pages) -> None:
    page = pages.new(key=server.user_key("tess"))
    page.goto(server.base_url + "/new")
    page.wait_for_selector("#templates button")
    page.wait_for_selector("#model option", state="attached")
    pages.shot(page, "new-project")
    page.click("#templates button >> nth=0")
    assert page.input_value("#prompt").strip(), "the template filled the prompt"
    assert page.input_value("#template")
    page.click("#new-form button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]+$"))
    page.wait_for_selector("#job:not([hidden])")
    page.evaluate(WATCH_TIMELINE)
    wait_status(page, "succeeded")
    changes = page.evaluate("window.__changes")
    assert page.evaluate("window.__marker") == "same-document", "the page was reloaded"
    assert any(state in ("running", "done") for _, state in changes), changes
    assert step_states(page)["package"] == "done"
    page.wait_for_selector('#verdict[data-verdict="verified"]')
    assert "VERIFIED" in page.text_content("#verdict")
    assert page.is_visible('#written li[data-path="calc.py"]')
    page.wait_for_selector("#rounds .round")
    assert "2 passed" in page.text_content("#rounds")
    page.wait_for_selector("#report h3")
    assert "tokens" in page.text_content("#usage")
    assert "add has no type hints" in page.text_content("#findings")
    pages.shot(page, "job-succeeded")


def test_a_reload_mid_job_catches_the_timeline_up(server: Server, pages: Pages) -> None:
    key = server.user_key("rita")
    job = server.create_job(key, "slow")
    page = pages.new(key=key)
    page.goto(f"{server.base_url}/jobs/{job}")
    page.wait_for_selector('#step-code[data-state="done"]', timeout=60_000)
    before = step_states(page)
    page.reload()
    page.wait_for_selector('#step-code[data-state="done"]', timeout=5_000)
    after = step_states(page)
    for step, state in before.items():
        if state == "done":
            assert after[step] == "done", (step, before, after)
    pages.shot(page, "reloaded-mid-job")
    # A dropped connection is picked up again from the last event seen.
    page.evaluate("window.atelierLive.drop()")
    wait_status(page, "succeeded")
    page.wait_for_selector('body[data-live="live"]')
    rounds = page.eval_on_selector_all("#rounds .round", "els => els.map(e => e.dataset.round)")
    assert len(rounds) == len(set(rounds)), f"events shown twice after the reconnect: {rounds}"
    assert all(s in ("done", "skipped") for s in step_states(page).values())


def test_a_file_opens_with_highlighted_code(server: Server, pages: Pages) -> None:
    key = server.user_key("hana")
    job = server.create_job(key)
    server.wait(key, job)
    page = pages.new(key=key)
    page.goto(f"{server.base_url}/jobs/{job}")
    page.wait_for_selector('#tree button[data-path="calc.py"]')
    sizes = page.text_content("#tree")
    assert re.search(r"\d+(\.\d)? (B|KB)", sizes or "")
    page.click('#tree button[data-path="calc.py"]')
    keyword = page.wait_for_selector("#preview .highlight .k")
    assert keyword.text_content() == "def"
    color = page.eval_on_selector("#preview .highlight .k", "e => getComputedStyle(e).color")
    plain = page.eval_on_selector("#preview .highlight", "e => getComputedStyle(e).color")
    assert color != plain, "keywords are coloured"
    assert "return a + b" in page.text_content("#preview")
    pages.shot(page, "file-preview")


def test_the_zip_download_holds_the_project(server: Server, pages: Pages) -> None:
    key = server.user_key("zed")
    job = server.create_job(key)
    server.wait(key, job)
    page = pages.new(key=key)
    page.goto(f"{server.base_url}/jobs/{job}")
    page.wait_for_selector("#files-section:not([hidden])")
    with page.expect_download() as info:
        page.click("#zip")
    download = info.value
    assert download.suggested_filename.endswith("-v1.zip")
    data = download.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
        calc = next(n for n in archive.namelist() if n.endswith("/calc.py"))
        assert "return a + b" in archive.read(calc).decode()
    assert {"calc.py", "tests/test_calc.py", "ATELIER_REPORT.md"} <= names


def test_revise_makes_version_2_and_shows_the_diff(server: Server, pages: Pages) -> None:
    key = server.user_key("vic")
    script = server.script("revisable", delay_s=0.2)
    job = server.create_job(key, "revisable")
    server.wait(key, job)
    # The revision reads the script again when it starts: its coder adds `sub`.
    revised = CODE.replace("```python\n", "```python\n").rstrip("`").rstrip() + (
        "\n\n\ndef sub(a, b):\n    return a - b\n```"
    )
    server.script("revisable", delay_s=0.2, code=revised)
    assert script.exists()
    page = pages.new(key=key)
    page.goto(f"{server.base_url}/jobs/{job}")
    page.wait_for_selector("#revise-form")
    page.fill("#instructions", "Add sub(a, b).")
    page.click("#revise-form button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/(?!" + job + r")[0-9a-f-]+$"))
    # The new page fills the prompt once its job has loaded: wait for it, don't race it.
    page.wait_for_selector('#prompt:has-text("Add sub")')
    wait_status(page, "succeeded")
    page.wait_for_selector('#version option[value="2"]', state="attached")
    assert page.input_value("#version") == "2"
    page.select_option("#diff-from", "1")
    page.select_option("#diff-to", "2")
    page.click("#diff-show")
    page.wait_for_selector("#diff .add")
    assert "def sub(a, b):" in page.text_content("#diff .add >> nth=0") or "def sub" in (
        page.text_content("#diff") or ""
    )
    pages.shot(page, "diff-unified")
    page.select_option("#diff-mode", "split")
    page.wait_for_selector("#diff table.split td.add")
    pages.shot(page, "diff-split")


def test_a_running_job_can_be_cancelled(server: Server, pages: Pages) -> None:
    key = server.user_key("cal")
    job = server.create_job(key, "stuck")
    page = pages.new(key=key)
    page.goto(f"{server.base_url}/jobs/{job}")
    wait_status(page, "running")
    assert page.is_visible("#cancel")
    page.click("#cancel")
    wait_status(page, "cancelled", timeout_ms=30_000)
    assert page.is_hidden("#cancel")
    pages.shot(page, "cancelled")


def test_a_failing_job_says_failing_and_nothing_is_green(server: Server, pages: Pages) -> None:
    key = server.user_key("fay")
    job = server.create_job(key, "buggy", max_fix_rounds=1, strategy="repair")
    body = server.wait(key, job)
    assert body["verdict"] == "failing"
    page = pages.new(key=key)
    page.goto(f"{server.base_url}/jobs/{job}")
    verdict = page.wait_for_selector('#verdict[data-verdict="failing"]')
    text = verdict.text_content() or ""
    assert "FAILING" in text and "VERIFIED" not in text
    assert "test_add" in text
    green = "rgb(26, 127, 55)"
    for selector in ("#verdict", "#verdict strong", "#status"):
        assert page.eval_on_selector(selector, "e => getComputedStyle(e).color") != green
    assert "failed" in (page.text_content("#rounds") or "")
    pages.shot(page, "failing-verdict")
    page.goto(server.base_url + "/")
    badge = page.wait_for_selector(f'tr[data-job-id="{job}"] [data-verdict="failing"]')
    assert badge.evaluate("e => getComputedStyle(e).color") != green


def test_another_user_gets_not_found_for_my_job(server: Server, pages: Pages) -> None:
    pages.allowed_statuses = {404}
    owner = server.user_key("olga")
    job = server.create_job(owner)
    page = pages.new(key=server.user_key("mallory"))
    page.goto(f"{server.base_url}/jobs/{job}")
    page.wait_for_selector("#job-missing:not([hidden])")
    assert page.is_hidden("#job")
    assert "calculator" not in (page.text_content("body") or "").lower()
    page.goto(server.base_url + "/")
    page.wait_for_selector("#jobs-table tbody tr")
    assert job not in (page.content())
    pages.shot(page, "not-found")


def test_my_jobs_filter_by_status_search_and_page(server: Server, pages: Pages) -> None:
    key = server.user_key("lena")
    with server.client(key) as c:
        ids = []
        for prompt in ("A stack module stack.py.", "A queue module queue.py.", "A heap heap.py."):
            r = c.post(
                "/api/jobs",
                json={
                    "prompt": prompt,
                    "options": {"script": str(server.scripts["buggy"]), "max_fix_rounds": 0},
                },
            )
            ids.append(r.json()["job_id"])
    for job in ids:
        server.wait(key, job)
    page = pages.new(key=key)
    page.wait_for_selector("#jobs-table tbody tr[data-job-id]")
    assert len(page.query_selector_all("#jobs-table tbody tr[data-job-id]")) == 3
    page.fill("#f-q", "QUEUE")
    page.press("#f-q", "Enter")
    expect(page.locator("#jobs-table tbody tr[data-job-id]")).to_have_count(1)
    assert "queue.py" in page.text_content("#jobs-table tbody")
    assert "q=QUEUE" in page.url
    page.fill("#f-q", "")
    page.select_option("#f-status", "running")
    page.wait_for_selector("#jobs-table tbody td.muted")
    pages.shot(page, "filtered")


def test_admin_sees_jobs_and_charts_and_manages_keys(server: Server, pages: Pages) -> None:
    pages.allowed_statuses = {401}
    job = server.create_job(server.user_key("ada"))
    server.wait(server.user_key("ada"), job)
    admin = pages.new(key=server.admin_key)
    admin.goto(server.base_url + "/admin")
    admin.wait_for_selector(f'#all-jobs tr[data-job-id="{job}"]')
    admin.wait_for_selector("#chart-jobs svg rect.bar")
    assert admin.eval_on_selector_all("#chart-tokens svg rect.bar", "els => els.length") > 0
    assert admin.eval_on_selector_all("#chart-durations svg rect.bar", "els => els.length") > 0
    assert admin.eval_on_selector_all("#chart-models svg rect.bar", "els => els.length") > 0
    assert admin.text_content("#system .stat b")
    pages.shot(admin, "admin")
    # A new user, whose key is shown once, signs in; the admin revokes the key.
    admin.fill("#user-name", "carol")
    admin.click("#user-form button[type=submit]")
    key = (admin.wait_for_selector("#new-key-value").text_content() or "").strip()
    assert key.startswith("atl_")
    carol = pages.new(key=key)
    assert carol.text_content("#who") == "carol (user)"
    assert carol.is_hidden("#nav-admin")
    admin.click('tr[data-user="carol"] li[data-key-id] button:has-text("Revoke")')
    admin.wait_for_selector('tr[data-user="carol"] li[data-key-id] .v-failing')
    pages.shot(admin, "key-revoked")
    carol.goto(server.base_url + "/new")
    carol.wait_for_url(re.compile(r"/signin\?"))
    assert "revoked" in (carol.text_content("#flash") or "")
    pages.shot(carol, "revoked-sent-to-signin")


def test_admin_edits_custom_templates(server: Server, pages: Pages) -> None:
    admin = pages.new(key=server.admin_key)
    admin.goto(server.base_url + "/admin")
    admin.wait_for_selector("#template-form")
    admin.fill("#t-id", "e2e-cli")
    admin.fill("#t-name", "A command-line tool")
    admin.fill("#t-hint", "A Python module cli.py with main(argv) -> int.")
    admin.click("#template-form button[type=submit]")
    admin.wait_for_selector('#templates tr[data-template="e2e-cli"]')
    admin.click('#templates tr[data-template="e2e-cli"] button:has-text("Edit")')
    admin.fill("#t-name", "A CLI tool")
    admin.click("#template-form button[type=submit]")
    admin.wait_for_selector('#templates tr[data-template="e2e-cli"] td:has-text("A CLI tool")')
    admin.goto(server.base_url + "/new")
    admin.wait_for_selector('#templates button[data-template="e2e-cli"]')
    admin.goto(server.base_url + "/admin")
    admin.once("dialog", lambda d: d.accept())
    admin.click('#templates tr[data-template="e2e-cli"] button:has-text("Delete")')
    admin.wait_for_selector('#templates tr[data-template="e2e-cli"]', state="detached")


def test_an_expired_session_goes_back_to_sign_in(server: Server, pages: Pages) -> None:
    page = pages.new(key=server.user_key("eve"))
    page.evaluate(
        "() => { const s = JSON.parse(localStorage.getItem('atelier.session'));"
        " s.expires = Date.now() - 1000;"
        " localStorage.setItem('atelier.session', JSON.stringify(s)); }"
    )
    page.goto(server.base_url + "/")
    page.wait_for_url(re.compile(r"/signin\?"))
    assert "expired" in (page.text_content("#flash") or "")


def test_phone_width_and_keyboard_only(server: Server, pages: Pages) -> None:
    page = pages.new(key=server.user_key("phil"), width=390, height=844)
    page.goto(server.base_url + "/new")
    page.wait_for_selector("#templates button")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    # Keyboard only: tab to the first template card, pick it with Enter.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('#templates button')"):
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus is visible"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "prompt"
    assert page.input_value("#prompt").strip()
    pages.shot(page, "phone-new")
    page.goto(server.base_url + "/")
    page.wait_for_selector("#jobs-table")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    pages.shot(page, "phone-jobs")
    key = server.user_key("phil")
    job = server.create_job(key)
    server.wait(key, job)
    page.goto(f"{server.base_url}/jobs/{job}")
    page.wait_for_selector('#tree button[data-path="calc.py"]')
    page.focus('#tree button[data-path="calc.py"]')
    page.keyboard.press("Enter")
    page.wait_for_selector("#preview .highlight")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    pages.shot(page, "phone-job")
