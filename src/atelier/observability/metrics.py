"""Prometheus metrics of one service instance.

Everything lives in a `Metrics` object with its own registry, created by the app
factory and handed to whoever records: no module-level collectors that two apps in
one process (tests) would fight over.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LONG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The service's collectors, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_duration = Histogram(
            "atelier_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            buckets=_HTTP_BUCKETS,
            registry=r,
        )
        self.jobs_total = Counter(
            "atelier_jobs_total",
            "Job state transitions by resulting status",
            ["status"],
            registry=r,
        )
        self.jobs_active = Gauge(
            "atelier_jobs_active",
            "Jobs currently queued or running in this process",
            ["status"],
            registry=r,
        )
        self.step_duration = Histogram(
            "atelier_step_duration_seconds",
            "Pipeline step duration",
            ["step"],
            buckets=_LONG_BUCKETS,
            registry=r,
        )
        self.llm_calls = Counter(
            "atelier_llm_calls_total",
            "LLM calls sent to a provider (replays excluded)",
            ["provider", "model"],
            registry=r,
        )
        self.llm_replays = Counter(
            "atelier_llm_replayed_calls_total",
            "LLM calls served from the call record",
            ["provider", "model"],
            registry=r,
        )
        self.llm_tokens = Counter(
            "atelier_llm_tokens_total",
            "LLM tokens by provider, model and kind",
            ["provider", "model", "kind"],
            registry=r,
        )
        self.llm_cost = Counter(
            "atelier_llm_cost_usd_total", "LLM cost in USD", ["provider", "model"], registry=r
        )
        self.llm_latency = Histogram(
            "atelier_llm_call_duration_seconds",
            "LLM call latency",
            ["provider", "model"],
            buckets=_LONG_BUCKETS,
            registry=r,
        )
        self.sandbox_runs = Counter(
            "atelier_sandbox_runs_total",
            "Sandboxed test runs by outcome",
            ["outcome"],
            registry=r,
        )
        self.sandbox_duration = Histogram(
            "atelier_sandbox_run_duration_seconds",
            "Sandboxed test run duration",
            buckets=_LONG_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "atelier_rate_limited_total",
            "Requests refused by the rate limiter",
            ["scope"],
            registry=r,
        )
        self.ws_connections = Gauge(
            "atelier_websocket_connections", "Open WebSocket connections", registry=r
        )

    def observe_llm_call(
        self,
        *,
        provider: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
        latency_s: float,
        replayed: bool,
    ) -> None:
        """Count one model call; a replayed call counts only as a replay."""
        labels = {"provider": provider or "unknown", "model": model or "unknown"}
        if replayed:
            self.llm_replays.labels(**labels).inc()
            return
        self.llm_calls.labels(**labels).inc()
        self.llm_tokens.labels(kind="prompt", **labels).inc(max(prompt_tokens, 0))
        self.llm_tokens.labels(kind="completion", **labels).inc(max(completion_tokens, 0))
        self.llm_cost.labels(**labels).inc(max(cost_usd, 0.0))
        self.llm_latency.labels(**labels).observe(max(latency_s, 0.0))

    def render(self) -> bytes:
        """The Prometheus text exposition of every collector."""
        return generate_latest(self.registry)
