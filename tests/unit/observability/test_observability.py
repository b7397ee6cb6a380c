"""Logging redaction, metrics, system stats, catalog templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog

from atelier.catalog import builtin_template, builtin_templates
from atelier.observability.logging import (
    bind_context,
    configure_logging,
    redact_secrets,
    redact_text,
)
from atelier.observability.metrics import Metrics
from atelier.observability.system import system_stats
from atelier.settings import Settings


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefghijklmnop",
        "key atl_1a2b3c4d_SuperSecretValue123456",
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlMTIz",
        "url?api_key=hunter2&x=1",
        "sk-ant-abcdefghijklmnopqrstuv",
    ],
)
def test_secrets_in_text_are_redacted(text: str) -> None:
    cleaned = redact_text(text)
    assert "***" in cleaned
    for secret in (
        "abcdefghijklmnop",
        "SuperSecretValue",
        "c2lnbmF0dXJl",
        "hunter2",
        "abcdefghijklmnopqrstuv",
    ):
        assert secret not in cleaned


def test_secret_fields_are_redacted_recursively() -> None:
    event = redact_secrets(
        None,
        "info",
        {
            "event": "x",
            "api_key": "atl_x",
            "nested": {"password": "p", "ok": "fine"},
            "headers": [{"authorization": "Bearer zzzzzzzzzz"}],
            "jwt_secret": "s",
        },
    )
    assert event["api_key"] == "***" and event["jwt_secret"] == "***"
    assert event["nested"] == {"password": "***", "ok": "fine"}
    assert event["headers"] == [{"authorization": "***"}]


def test_json_logs_carry_context_and_no_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(
        Settings(
            _env_file=None,
            log_format="json",  # type: ignore[call-arg]
            data_dir=tmp_path,
        )
    )
    log = structlog.get_logger("test")
    with bind_context(request_id="r-1", user="alice", job_id="j-9"):
        log.info("hello", api_key="atl_abcdefgh_secretsecretsecret")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    data = json.loads(line)
    assert data["event"] == "hello"
    assert data["request_id"] == "r-1" and data["user"] == "alice" and data["job_id"] == "j-9"
    assert "secretsecret" not in line


def test_metrics_count_replays_apart_and_render_text() -> None:
    metrics = Metrics()
    for replayed in (False, True):
        metrics.observe_llm_call(
            provider="scripted",
            model="m",
            prompt_tokens=10,
            completion_tokens=5,
            cost_usd=0.01,
            latency_s=0.2,
            replayed=replayed,
        )
    text = metrics.render().decode()
    assert 'atelier_llm_calls_total{model="m",provider="scripted"} 1.0' in text
    assert 'atelier_llm_replayed_calls_total{model="m",provider="scripted"} 1.0' in text
    assert 'atelier_llm_tokens_total{kind="prompt",model="m",provider="scripted"} 10.0' in text
    # Two apps in one process keep separate registries.
    assert "atelier_llm_calls_total{" not in Metrics().render().decode()


def test_system_stats_have_cpu_memory_and_disk(tmp_path: Path) -> None:
    stats = system_stats(tmp_path)
    assert stats["cpu"]["count"] >= 1
    assert stats["memory"]["total_bytes"] > stats["memory"]["available_bytes"] > 0
    assert stats["disk"]["total_bytes"] > 0 and stats["disk"]["path"] == str(tmp_path)


def test_builtin_templates_cover_the_required_kinds() -> None:
    templates = builtin_templates()
    names = {t.name for t in templates}
    assert {
        "Python CLI tool",
        "Python library",
        "FastAPI service",
        "Flask web app",
        "Node.js Express API",
        "Static website",
    } <= names
    assert len({t.id for t in templates}) == len(templates)
    for t in templates:
        assert t.builtin and t.prompt_hint and t.language in ("python", "javascript")
    assert builtin_template("python-cli") is not None
    assert builtin_template("nope") is None
