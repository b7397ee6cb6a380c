"""The Planner's output: which files to write, in what order, and how to test them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from atelier.domain.errors import InvalidPlan
from atelier.domain.paths import validate_project_path

MAX_PLAN_FILES = 30
SUPPORTED_LANGUAGES = ("python", "javascript")


class FileSpec(BaseModel):
    """One file the Coder will write."""

    model_config = ConfigDict(extra="ignore")

    path: str
    purpose: str = ""
    depends_on: list[str] = Field(default_factory=list)

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        return validate_project_path(value)


class Plan(BaseModel):
    """The Planner reply, validated. Paths are safe; dependencies point inside the plan."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=100)
    summary: str = ""
    language: str = "python"
    files: list[FileSpec] = Field(min_length=1, max_length=MAX_PLAN_FILES)
    dependencies: list[str] = Field(default_factory=list)
    test_command: str | None = None
    # For a request that names no files, functions or examples: concrete examples the
    # Planner took from its words (`f(args) == result`), run first like a request's own.
    examples: list[str] = Field(default_factory=list)

    @field_validator("language")
    @classmethod
    def _lower_language(cls, value: str) -> str:
        value = value.strip().lower()
        aliases = {"py": "python", "python3": "python", "js": "javascript", "node": "javascript",
                   "nodejs": "javascript", "node.js": "javascript"}
        return aliases.get(value, value)

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        paths = [f.path for f in self.files]
        if len(set(paths)) != len(paths):
            raise ValueError("duplicate file paths in plan")
        known = set(paths)
        for f in self.files:
            # Dependencies on files outside the plan are dropped, not fatal: small
            # models often name modules of the standard library here.
            f.depends_on = [d for d in dict.fromkeys(f.depends_on) if d in known and d != f.path]
        return self

    def file(self, path: str) -> FileSpec:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def generation_order(self) -> list[list[FileSpec]]:
        """Files grouped in waves: each wave depends only on earlier waves.

        Raises InvalidPlan on a dependency cycle.
        """
        remaining = {f.path: f for f in self.files}
        done: set[str] = set()
        waves: list[list[FileSpec]] = []
        while remaining:
            wave = [f for f in remaining.values() if all(d in done for d in f.depends_on)]
            if not wave:
                raise InvalidPlan(f"dependency cycle among {sorted(remaining)}")
            waves.append(wave)
            for f in wave:
                done.add(f.path)
                del remaining[f.path]
        return waves


class GeneratedFile(BaseModel):
    """A file with its content (from the Coder, the Tester or the Documenter)."""

    path: str
    content: str

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        return validate_project_path(value)
