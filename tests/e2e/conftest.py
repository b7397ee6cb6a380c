"""Browser tests: a real `atelier serve` process and headless Debian Chromium.

The server runs on the scripted provider, slow enough (every model call waits) that
live updates can be seen arriving. Chromium is the system one (never downloaded);
every page's console errors fail the test, and every test leaves screenshots in
`tests/e2e/artifacts/` (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.scripts import BUGGY_CODE, write_script

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
TERMINAL = ("succeeded", "failed", "cancelled")
# A failed fetch of an expected 4xx is logged by Chromium as a console error.
_HTTP_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    base_url: str
    admin_key: str
    scripts: dict[str, Path]
    root: Path
    keys: dict[str, str] = field(default_factory=dict)

    def script(self, name: str, **kwargs: Any) -> Path:
        """A new script file `name` (rewritable: a job reads its script when it starts)."""
        self.scripts[name] = write_script(self.root / f"{name}.json", **kwargs)
        return self.scripts[name]

    def client(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"X-API-Key": key or self.admin_key}, timeout=30
        )

    def user_key(self, name: str, role: str = "user") -> str:
        """An API key of user `name`, created through the admin API the first time."""
        if name not in self.keys:
            with self.client() as c:
                r = c.post("/admin/users", json={"name": name, "role": role})
                assert r.status_code == 201, r.text
                self.keys[name] = r.json()["api_key"]
        return self.keys[name]

    def create_job(self, key: str, script: str = "default", **options: Any) -> str:
        body = {"prompt": "A calculator module calc.py with add and mul.", "options": options}
        body["options"]["script"] = str(self.scripts[script])
        with self.client(key) as c:
            r = c.post("/api/jobs", json=body)
            assert r.status_code == 202, r.text
            job_id: str = r.json()["job_id"]
            return job_id

    def wait(self, key: str, job_id: str, timeout_s: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        with self.client(key) as c:
            while True:
                body: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
                if body["status"] in TERMINAL:
                    return body
                assert time.monotonic() < deadline, f"job {job_id} still {body['status']}"
                time.sleep(0.2)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`atelier serve` on a free port with its own data dir, for this module's tests."""
    root = tmp_path_factory.mktemp("e2e")
    scripts = {
        "default": write_script(root / "default.json", delay_s=0.4),
        "slow": write_script(root / "slow.json", delay_s=1.2),
        "stuck": write_script(root / "stuck.json", delay_s=30),
        "buggy": write_script(root / "buggy.json", code=BUGGY_CODE),
    }
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")},
        "ATELIER_DATA_DIR": str(root / "data"),
        "ATELIER_LLM_PROVIDER": "scripted",
        "ATELIER_LLM_SCRIPT": str(scripts["default"]),
        "ATELIER_PORT": str(port),
        "ATELIER_RATE_LIMIT": "100000/minute",
        "ATELIER_LOG_LEVEL": "WARNING",
        "ATELIER_MAX_CONCURRENT_JOBS": "4",
        "ATELIER_SANDBOX_TIMEOUT_S": "60",
    }
    atelier = Path(sys.executable).parent / "atelier"
    log = (root / "server.log").open("w+", encoding="utf-8")
    proc = subprocess.Popen([str(atelier), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        key = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = (root / "server.log").read_text(encoding="utf-8")
            found = re.search(r"^(atl_\S+)$", text, re.M)
            key = found.group(1) if found else None
            if key and "listening on" in text:
                break
            assert proc.poll() is None, f"atelier serve exited:\n{text}"
            time.sleep(0.1)
        assert key, "atelier serve printed no admin key"
        yield Server(f"http://127.0.0.1:{port}", key, scripts, root)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# Module scope: sync Playwright runs an event loop in this thread while it lives, and
# the async tests of the other suites need the thread to themselves again.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Screenshots of the last run only.
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Pages:
    """Opens pages and records their console errors and screenshots."""

    def __init__(self, browser: Any, server: Server, name: str) -> None:
        self.browser = browser
        self.server = server
        self.name = re.sub(r"[^A-Za-z0-9_-]+", "_", name)
        self.errors: list[str] = []
        self.allowed_statuses: set[int] = set()
        self.contexts: list[Any] = []
        self.shots = 0

    def new(self, *, key: str | None = None, width: int = 1280, height: int = 900) -> Any:
        """A page in a fresh browser context, signed in with `key` (through the form)."""
        context = self.browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True
        )
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("console", lambda m: self._console(m.type, m.text))
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        if key is not None:
            self.sign_in(page, key)
        return page

    def _console(self, kind: str, text: str) -> None:
        if kind != "error":
            return
        http = _HTTP_ERROR.search(text)
        if http and int(http.group(1)) in self.allowed_statuses:
            return
        self.errors.append(text)

    def sign_in(self, page: Any, key: str) -> None:
        page.goto(self.server.base_url + "/signin")
        page.fill("#api-key", key)
        page.press("#api-key", "Enter")
        page.wait_for_url(re.compile(r"/$|/\?"))
        page.wait_for_selector("#who:not(:empty)")

    def shot(self, page: Any, label: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        self.shots += 1
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Pages]:
    opened = Pages(browser, server, request.node.name)
    try:
        yield opened
    finally:
        opened.close()
    assert not opened.errors, f"browser console errors: {opened.errors}"
