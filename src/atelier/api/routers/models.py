"""The local model catalog, for the UI's model picker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from atelier.api.deps import CurrentUser, SettingsDep
from atelier.llm.catalog import CATALOG, installed_path, is_installed

router = APIRouter(prefix="/api", tags=["models"])


@router.get("/models")
async def list_models(_user: CurrentUser, settings: SettingsDep) -> dict[str, Any]:
    """Every pinned catalog model: size, hash, licence, whether it is installed here."""
    models = []
    for model in CATALOG.values():
        models.append(
            {
                "id": model.id,
                "file_name": model.file_name,
                "size_bytes": model.size_bytes,
                "sha256": model.sha256,
                "licence": model.licence,
                "source": model.source,
                "context_length": model.context_length,
                "notes": model.notes,
                "bundled": model.is_bundled,
                "installed": is_installed(model, settings),
                "path": None if model.is_bundled else str(installed_path(model, settings)),
                "default": model.id == settings.local_default_model,
                "pull_command": None if model.is_bundled else f"atelier models pull {model.id}",
            }
        )
    return {
        "provider": settings.llm_provider,
        "default_model": settings.llm_model or settings.local_default_model,
        "models": models,
    }
