"""Loading the built-in project templates (``templates/*.json``).

A template is a starting point for a spec: a language, a short description and
a prompt hint that is added to the user's prompt so the planner lays the project out
the conventional way.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from pydantic import BaseModel, Field


class ProjectTemplate(BaseModel):
    """One project template (built-in or custom)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    language: str = Field(default="python", max_length=32)
    prompt_hint: str = Field(default="", max_length=10_000)
    suggested_files: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    builtin: bool = True


@cache
def _load() -> tuple[ProjectTemplate, ...]:
    folder = resources.files("atelier.catalog").joinpath("templates")
    found: list[ProjectTemplate] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            data = json.loads(entry.read_text(encoding="utf-8"))
            found.append(ProjectTemplate.model_validate({**data, "builtin": True}))
    return tuple(found)


def builtin_templates() -> list[ProjectTemplate]:
    """Every built-in template, ordered by id."""
    return list(_load())


def builtin_template(template_id: str) -> ProjectTemplate | None:
    """The built-in template with this id, or None."""
    return next((t for t in _load() if t.id == template_id), None)
