"""A real ``atelier serve`` process for the security suite (fuzzing, slow clients).

Started with its own data dir and database, the scripted provider, and no ATELIER_*
variable of the caller; the first admin's API key is read from its output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from api_harness import free_port
from api_scripts import write_script

ATELIER = Path(sys.executable).with_name("atelier")
_KEY = re.compile(r"^(atl_\S+)$", re.MULTILINE)


@dataclass
class Served:
    base_url: str
    port: int
    admin_key: str
    process: subprocess.Popen[str]
    fast_script: str  # a job with options.script = this runs at once (the default waits)

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"X-API-Key": key or self.admin_key}


@contextmanager
def atelier_serve(
    tmp_path: Path,
    database_url: str | None = None,
    default_delay_s: float = 0.0,
    **env_overrides: str,
) -> Iterator[Served]:
    """Run ``atelier serve`` until the block ends; yields once it answers /health.

    `default_delay_s`: each model call of a job without its own script waits this long
    (jobs a fuzzer submits then sit idle instead of filling the sandbox).
    """
    port = free_port()
    data = tmp_path / "served-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(
        {
            "ATELIER_DATA_DIR": str(data),
            "ATELIER_HOST": "127.0.0.1",
            "ATELIER_PORT": str(port),
            "ATELIER_LLM_PROVIDER": "scripted",
            "ATELIER_LLM_SCRIPT": str(
                write_script(tmp_path / "served-script.json", delay_s=default_delay_s)
            ),
            "ATELIER_LLM_TIMEOUT_S": "2",
            "ATELIER_LLM_MAX_RETRIES": "0",
            "ATELIER_RATE_LIMIT": "off",
            "ATELIER_LOG_LEVEL": "WARNING",
            "ATELIER_LOG_FORMAT": "json",
            "ATELIER_MAX_CONCURRENT_JOBS": "1",
            "ATELIER_CODER_CONCURRENCY": "1",
            "ATELIER_SANDBOX_TIMEOUT_S": "30",
            "ATELIER_EVENT_LOOP": "asyncio",
            **env_overrides,
        }
    )
    if database_url:
        env["ATELIER_DATABASE_URL"] = database_url
    log = (tmp_path / "served.log").open("w+")
    process = subprocess.Popen(
        [str(ATELIER), "serve"], env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )
    try:
        assert process.stdout is not None
        output = ""
        deadline = time.monotonic() + 60
        while "listening on" not in output:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                log.seek(0)
                raise AssertionError(f"atelier serve exited: {output}\n{log.read()[-3000:]}")
            output += line
            assert time.monotonic() < deadline, output
        match = _KEY.search(output)
        assert match, output
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/health", timeout=10).status_code == 200
        fast = write_script(tmp_path / "served-fast-script.json")
        yield Served(base, port, match.group(1), process, str(fast))
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()
