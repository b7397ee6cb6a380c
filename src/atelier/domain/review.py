"""The Reviewer's findings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

Severity = Literal["low", "medium", "high"]


class Finding(BaseModel):
    severity: Severity = "low"
    path: str = ""
    line: int | None = None
    message: str = Field(min_length=1)
    suggestion: str | None = None

    @field_validator("severity", mode="before")
    @classmethod
    def _normalise_severity(cls, value: object) -> object:
        if isinstance(value, str):
            lowered = value.strip().lower()
            mapping = {"critical": "high", "error": "high", "major": "high",
                       "warning": "medium", "minor": "low", "info": "low"}
            return mapping.get(lowered, lowered)
        return value
