"""A generated project's dependencies: what was asked for, what was installed, what failed.

The environment is built before the tests run (outside the no-network sandbox) and
mounted read-only into it; this is the record of it that goes into the report.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DependencySource = Literal["plan", "manifest", "import"]


class Requirement(BaseModel):
    """One dependency the project asks for. ``name`` is normalised (PEP 503 for Python,
    the package name for npm); ``spec`` is the version constraint as written ("" = any)."""

    name: str
    spec: str = ""
    source: DependencySource = "plan"
    # Where it was found: the manifest or the file that imports it ("" for the plan).
    origin: str = ""

    @property
    def text(self) -> str:
        return f"{self.name}{self.spec}" if self.spec else self.name


class InstalledPackage(BaseModel):
    """One package in the environment, as installed and tested."""

    name: str
    version: str
    # "sha256:<hex>" of the wheel for Python, npm's "sha512-<base64>" integrity for npm.
    hash: str = ""
    direct: bool = False


class DependencyFinding(BaseModel):
    """A dependency that could not be installed, and what the Coder should do about it."""

    name: str
    message: str
    # "install": it could not be installed; "unknown-import": code imports a name that
    # is neither a project module nor a declared or well-known package.
    kind: Literal["install", "unknown-import"] = "install"


class EnvironmentReport(BaseModel):
    """The per-job environment a round of tests ran with."""

    language: str
    requested: list[Requirement] = Field(default_factory=list)
    installed: list[InstalledPackage] = Field(default_factory=list)
    findings: list[DependencyFinding] = Field(default_factory=list)
    # Pinned manifests for the deliverable (requirements.txt, package.json, lock files).
    manifests: dict[str, str] = Field(default_factory=dict)
    index: str = ""
    duration_s: float = 0.0
    # True when an environment built earlier for the same pinned set was mounted as is.
    reused: bool = False
