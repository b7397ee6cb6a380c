"""What a user asks for: the project description and the knobs of one run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Strategy = Literal["single", "repair", "resample", "resample+repair"]
Role = Literal["planner", "coder", "tester", "reviewer", "documenter"]
ROLES: tuple[Role, ...] = ("planner", "coder", "tester", "reviewer", "documenter")


class Budgets(BaseModel):
    """Limits of one job; None means unlimited. On exhaustion the job ends with what it has."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_wall_time_s: float | None = Field(default=None, gt=0)
    max_fix_rounds: int = Field(default=3, ge=0, le=20)


class ModelChoice(BaseModel):
    """Which provider and model serve one role (or all roles)."""

    model_config = ConfigDict(extra="forbid")

    provider: str | None = None
    model: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)


class JobOptions(BaseModel):
    """Per-run options; anything left None falls back to settings."""

    model_config = ConfigDict(extra="forbid")

    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    script: str | None = None
    roles: dict[Role, ModelChoice] = Field(default_factory=dict)
    strategy: Strategy | None = None
    resample_k: int | None = Field(default=None, ge=0, le=16)
    resample_temperature: float | None = Field(default=None, ge=0, le=2)
    budgets: Budgets = Field(default_factory=Budgets)
    review: bool = True
    docs: bool = True
    sandbox_timeout_s: float | None = Field(default=None, gt=0, le=3600)


class Spec(BaseModel):
    """A project description plus options: the input of a pipeline run."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=20_000)
    language: str | None = Field(default=None, max_length=32)
    template: str | None = Field(default=None, max_length=64)
    options: JobOptions = Field(default_factory=JobOptions)
