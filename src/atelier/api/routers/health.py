"""Liveness, readiness and the Prometheus scrape endpoint (no auth)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from atelier.api.deps import ServicesDep
from atelier.domain.errors import AtelierError
from atelier.llm.catalog import resolve_model
from atelier.observability.metrics import CONTENT_TYPE
from atelier.settings import Settings
from atelier.store import UserRepo, session_scope

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def llm_problem(settings: Settings) -> str | None:
    """Why the configured default LLM provider cannot serve a job, or None."""
    provider = settings.llm_provider
    if provider == "scripted":
        if settings.llm_script is not None and not Path(settings.llm_script).is_file():
            return f"LLM script {settings.llm_script} not found"
        return None
    if provider == "local":
        try:
            resolve_model(settings.llm_model, settings)
        except AtelierError as exc:
            return str(exc.detail)
        return None
    if provider in ("openai", "anthropic"):
        if settings.llm_api_key is None and settings.llm_base_url is None:
            return f"{provider} provider needs ATELIER_LLM_API_KEY or ATELIER_LLM_BASE_URL"
        return None
    return f"unknown LLM provider {provider!r}"


@router.get("/health/ready", responses={503: {"description": "not ready, with reasons"}})
async def ready(services: ServicesDep) -> JSONResponse:
    """Readiness: the database answers, the runner runs, an LLM provider is configured."""
    checks: dict[str, Any] = {}
    reasons: list[str] = []
    try:
        async with session_scope(services.sessionmaker) as session:
            await UserRepo(session).get_by_name("")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 — any driver error means "not ready", not a 500
        checks["database"] = "error"
        reasons.append(f"database: {type(exc).__name__}: {exc}")
    checks["runner"] = "ok" if services.runner.healthy else "stopped"
    if not services.runner.healthy:
        reasons.append("runner: not running")
    # With the Celery runner the workers hold the models, not this process.
    problem = None if services.settings.runner == "celery" else llm_problem(services.settings)
    checks["llm"] = {
        "provider": services.settings.llm_provider,
        "status": "ok" if problem is None else "error",
    }
    if problem is not None:
        reasons.append(f"llm: {problem}")
    if reasons:
        return JSONResponse(
            {"error": "not_ready", "detail": reasons, "checks": checks}, status_code=503
        )
    return JSONResponse({"status": "ready", "checks": checks})


@router.get("/metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text exposition."""
    return Response(services.metrics.render(), media_type=CONTENT_TYPE)
