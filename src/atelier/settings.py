"""Every knob of Atelier, in one place.

Each setting has a default that works on a laptop and is overridable by an
``ATELIER_*`` environment variable or a ``.env`` file. Nothing else reads the environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".atelier"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATELIER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- where things live
    data_dir: Path = Field(default_factory=_default_data_dir)
    # A file of this size is kept in the data dir (and beside the SQLite database when it
    # is on another disk) and deleted when a write fails for want of space: the room a
    # job needs to record that it failed (runtime/disk_guard.py). 0: no reserve.
    disk_reserve_mb: float = 8.0
    # Below this much free space there (the reserve not counted) a job does not start or
    # go on, and fails with `disk_full`; new jobs are refused with 507. 0: no check.
    disk_min_free_mb: float = 64.0

    # --- LLM (the CLI flags and job options override these)
    llm_provider: str = "local"  # local | openai | anthropic | scripted
    llm_model: str | None = None  # catalog id, GGUF path, or provider model name
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_script: Path | None = None
    llm_timeout_s: float = 300.0
    llm_max_retries: int = 4
    llm_retry_base_delay_s: float = 0.5
    llm_structured_repairs: int = 2
    llm_max_tokens: int = 2048
    # Chaos runs only: this share of model calls fails on purpose (llm/faults.py), with
    # the kinds listed (empty: all of them), drawn reproducibly from the seed.
    llm_fault_rate: float = 0.0
    llm_fault_kinds: list[str] = Field(default_factory=list)
    llm_fault_seed: int | None = None
    # JSON object: {"model-name": [usd_per_1M_prompt, usd_per_1M_completion]}
    llm_prices: dict[str, tuple[float, float]] = Field(default_factory=dict)
    local_threads: int | None = None
    local_context: int = 8192
    # Chosen by measurement (bench/projects, this 2-core machine): the 1.5B's pipeline fully
    # passes 6 of 9 projects (31/34 acceptance tests) in 1,678 s; the 0.5B's 4 of 9 (20/34)
    # in 1,200 s — more projects within the 2x wall-time allowance.
    local_default_model: str = "qwen2.5-coder-1.5b"

    # --- pipeline
    strategy: Literal["single", "repair", "resample", "resample+repair"] = "resample+repair"
    max_fix_rounds: int = 3
    resample_k: int = 4
    resample_temperature: float = 0.8
    coder_concurrency: int = 4

    # --- sandbox
    sandbox_backend: Literal["auto", "bwrap", "unshare", "rlimit"] = "auto"
    sandbox_timeout_s: float = 120.0
    sandbox_cpu_s: int = 120
    sandbox_memory_mb: int = 1024
    sandbox_max_processes: int = 256
    sandbox_max_file_mb: int = 64
    sandbox_output_tail_chars: int = 6000

    # --- generated projects' dependencies (installed before the no-network test run)
    # Python index; unset: the one pip is configured with (PIP_INDEX_URL, pip.conf), else PyPI.
    deps_index_url: str | None = None
    # npm registry; unset: the one npm is configured with (.npmrc, npm_config_registry).
    deps_npm_registry: str | None = None
    # Package names (normalised) a project may install; empty: any but the denied ones.
    deps_allow: list[str] = Field(default_factory=list)
    deps_deny: list[str] = Field(default_factory=list)
    deps_max_packages: int = 150  # direct + transitive, per project
    deps_max_size_mb: int = 300  # what the packages take unpacked
    deps_timeout_s: float = 300.0  # resolution + download + install
    deps_keep_envs: int = 30  # built environments kept for reuse (least recently used go)

    # --- service
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = None  # default: sqlite file in data_dir
    # SQLite connections kept open, at most (see atelier.store.db.SQLITE_POOL_SIZE).
    sqlite_pool_size: int = Field(default=5, ge=1, le=64)
    runner: Literal["inprocess", "celery"] = "inprocess"
    max_concurrent_jobs: int = 2
    jwt_secret: SecretStr | None = None  # generated and kept in data_dir when unset
    jwt_ttl_s: int = 3600
    rate_limit: str = "120/minute"
    cors_origins: list[str] = Field(default_factory=list)
    redis_url: str = "redis://127.0.0.1:6379/0"
    # --- scale-out (ATELIER_RUNNER=celery): the queue, the workers, the job lease
    broker_url: str | None = None  # Celery broker (redis://… or amqp://…); default: redis_url
    queue: str = "atelier"  # the Celery queue jobs are sent to (`atelier worker --queues`)
    # Redis broker only: an unacknowledged job message is re-delivered after this long.
    # Longer than any step (a duplicate start is harmless: it finds the lease and leaves).
    visibility_timeout_s: int = 7200
    # A running job's lease in the database; renewed by its worker's heartbeat, taken
    # over by another worker only once it has expired (the worker died).
    job_lease_s: float = 60.0
    # How often a running job's worker looks for a cancel made through another process.
    cancel_poll_s: float = 1.0
    event_bus: Literal["memory", "redis"] = "memory"
    # --- request limits: what one client may make the server hold
    max_body_bytes: int = 1_048_576  # a larger request body is refused with 413
    max_json_depth: int = 32  # JSON nested deeper is refused with 422 before it is parsed
    ws_max_per_user: int = 50  # open WebSockets per user and process; more are closed (4429)
    # A connection whose request line and headers have not all arrived this long after it
    # opened (or after its previous response) is closed: slow clients cannot hold sockets.
    header_timeout_s: float = 10.0
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    # auto: uvloop when installed (it is, with the server extra), else asyncio's loop.
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def deps_cache_dir(self) -> Path:
        """uv's and npm's download caches, shared by every job."""
        return self.data_dir / "cache"

    @property
    def deps_envs_dir(self) -> Path:
        """Built dependency environments, one per pinned set, mounted read-only into runs."""
        return self.data_dir / "envs"

    def installer_environment(self) -> dict[str, str]:
        """The few host variables the package installers need (proxies, CA bundles, the
        index pip/npm are configured with) — never the rest of the environment, which may
        hold provider keys."""
        names = ("HOME", "PATH", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy",
                 "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS",
                 "PIP_INDEX_URL", "PIP_CONFIG_FILE", "npm_config_registry",
                 "NPM_CONFIG_REGISTRY", "NPM_CONFIG_USERCONFIG")
        return {name: os.environ[name] for name in names if name in os.environ}

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'atelier.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
