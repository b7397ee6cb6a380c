"""A bare FastAPI JSON endpoint: the baseline the service's GET /api/jobs/{id} is compared to.

Served exactly as ``atelier serve`` serves the real app (see
``atelier.cli.serve.run_server``): ``uvicorn.Server(...).serve()`` under
``atelier.cli.serve.run_on_loop`` with the same ``uvicorn.Config`` arguments, one
worker, uvicorn's ``auto`` HTTP implementation and the same event loop (uvloop when
installed, as ``ATELIER_EVENT_LOOP=auto`` picks). No middleware, no auth, no
database: a path parameter in, a constant dict out.

    python -m bench.bare_app --port 8123 [--payload body.json]

``--payload`` names a JSON object to return (the bench passes the real job body, so
both servers send the same bytes); without it a built-in dict of similar size is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from atelier.cli.serve import run_on_loop, settle_heap

# Shaped like a finished job's body (status, steps, usage, versions), about 1.5 kB.
DEFAULT_PAYLOAD: dict[str, Any] = {
    "job_id": "0" * 32,
    "status": "succeeded",
    "progress": 1.0,
    "current_step": None,
    "steps": [
        {"name": name, "status": "succeeded", "started_at": 1.0, "finished_at": 2.0}
        for name in ("plan", "code", "static_check", "test", "fix", "review", "docs", "package")
    ],
    "tests": {"passed": 2, "failed": 0, "errors": 0, "total": 2},
    "usage": {"calls": 5, "prompt_tokens": 1234, "completion_tokens": 567, "cost_usd": 0.0},
    "error": None,
    "versions": [{"version": 1, "created_at": "2025-01-01T00:00:00Z", "files": 4}],
    "prompt": "A calculator module.",
    "created_at": "2025-01-01T00:00:00Z",
    "finished_at": "2025-01-01T00:00:05Z",
}


def raise_nofile_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def create_bare_app(payload: dict[str, Any] | None = None) -> FastAPI:
    body = payload if payload is not None else DEFAULT_PAYLOAD
    app = FastAPI(title="bare")

    @app.get("/bare/{item_id}")
    async def bare(item_id: str) -> dict[str, Any]:
        return body

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve like ``atelier.cli.serve.run_server`` does (same uvicorn.Config arguments,
    the same collector settings once started)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        ws_ping_interval=20.0,
        lifespan="on",
    )
    server = uvicorn.Server(config)

    async def settle_when_started() -> None:
        while not server.started and not server.should_exit:
            await asyncio.sleep(0.05)
        settle_heap()

    settler = asyncio.create_task(settle_when_started())
    try:
        await server.serve()
    finally:
        settler.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--payload", type=Path, default=None, help="JSON object to return")
    args = parser.parse_args()
    raise_nofile_limit()
    payload = json.loads(args.payload.read_text(encoding="utf-8")) if args.payload else None
    run_on_loop(serve(create_bare_app(payload), args.host, args.port), "auto")


if __name__ == "__main__":
    main()
