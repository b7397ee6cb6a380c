"""Per-run and per-role model selection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atelier.cli.generate import parse_role_choices
from atelier.domain.errors import InvalidSpec
from atelier.domain.spec import JobOptions, ModelChoice
from atelier.pipeline.models import build_role_llms
from atelier.settings import Settings

from .scripts import script


def test_a_role_can_use_a_stronger_model_than_the_rest(
    settings: Settings, write_script: Callable[[dict[str, Any]], Path]
) -> None:
    options = JobOptions(
        provider="scripted", script=str(write_script(script())),
        roles={"planner": ModelChoice(provider="local", model="smollm2-135m")},
    )
    llms = build_role_llms(options, settings)

    assert llms["planner"].provider == "local"
    assert "smollm2" in llms["planner"].model.lower()
    assert {llms[r].provider for r in ("coder", "tester", "reviewer", "documenter")} == {
        "scripted"}
    # Roles on the same provider and model share one client.
    assert llms["coder"] is llms["tester"]


def test_role_flags_parse_model_and_provider_forms() -> None:
    choices = parse_role_choices(["planner=qwen2.5-coder-1.5b", "reviewer=openai:gpt-4o-mini"])
    assert choices["planner"] == ModelChoice(model="qwen2.5-coder-1.5b")
    assert choices["reviewer"] == ModelChoice(provider="openai", model="gpt-4o-mini")


@pytest.mark.parametrize("bad", ["boss=x", "planner", "planner="])
def test_bad_role_flags_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidSpec):
        parse_role_choices([bad])
