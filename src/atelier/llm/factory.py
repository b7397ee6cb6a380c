"""Building a ready-to-use LLM from a provider name, a model and the settings.

Every provider is wrapped in RetryingLLM (per-call timeout, backoff); with a recorder,
the result is also wrapped in RecordingLLM, outside the retries so that a retried call
is recorded once and a replayed one is never sent.
"""

from __future__ import annotations

import os
from pathlib import Path

from atelier.domain.errors import LLMUnavailable
from atelier.llm.base import LLM
from atelier.llm.recording import CallRecorder, RecordingLLM
from atelier.llm.retry import RetryingLLM
from atelier.settings import Settings

PROVIDERS = ("local", "openai", "anthropic", "scripted")


def _need_model(provider: str, model: str | None) -> str:
    if not model:
        raise LLMUnavailable(
            f"the {provider} provider needs a model name (ATELIER_LLM_MODEL or --model)"
        )
    return model


def _build_provider(
    provider: str,
    model: str | None,
    settings: Settings,
    base_url: str | None,
    api_key: str | None,
    script: Path | None,
) -> LLM:
    # Provider modules are imported on demand: each pulls in its SDK (openai, anthropic,
    # llama_cpp), slow to import and, for llama_cpp, an optional extra.
    if provider == "local":
        from atelier.llm.catalog import resolve_model
        from atelier.llm.local import LocalLLM

        resolved = resolve_model(model, settings)
        return LocalLLM(
            resolved.path,
            n_ctx=min(settings.local_context, resolved.context_length),
            # llama.cpp's own default is half the cores; on a small machine that halves speed.
            n_threads=settings.local_threads or os.cpu_count(),
            model_name=resolved.catalog_id or resolved.path.name,
            default_max_tokens=settings.llm_max_tokens,
            pin=resolved.pin,
        )
    if provider == "openai":
        from atelier.llm.openai_provider import OpenAICompatibleLLM

        if not base_url and not api_key:
            raise LLMUnavailable(
                "the openai provider needs an API key (ATELIER_LLM_API_KEY) for OpenAI "
                "itself, or a base URL (ATELIER_LLM_BASE_URL) of a compatible server"
            )
        return OpenAICompatibleLLM(
            _need_model(provider, model),
            base_url,
            api_key,
            settings.llm_timeout_s,
            settings.llm_prices,
            # OpenAI's current models refuse max_tokens; compatible servers only know it.
            max_tokens_param="max_tokens" if base_url else "max_completion_tokens",
        )
    if provider == "anthropic":
        from atelier.llm.anthropic_provider import AnthropicLLM

        if not api_key:
            raise LLMUnavailable("the anthropic provider needs an API key (ATELIER_LLM_API_KEY)")
        return AnthropicLLM(
            _need_model(provider, model),
            api_key,
            settings.llm_timeout_s,
            settings.llm_prices,
            base_url=base_url,
            default_max_tokens=settings.llm_max_tokens,
        )
    if provider == "scripted":
        from atelier.llm.scripted import ScriptedLLM

        if script is None:
            raise LLMUnavailable("the scripted provider needs a script file (ATELIER_LLM_SCRIPT)")
        return ScriptedLLM.from_file(script)
    raise LLMUnavailable(f"unknown LLM provider {provider!r}; known: {', '.join(PROVIDERS)}")


def build_llm(
    provider: str,
    model: str | None,
    settings: Settings,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    script: str | Path | None = None,
    recorder: CallRecorder | None = None,
) -> LLM:
    """The LLM for `provider` ("local", "openai", "anthropic", "scripted"), ready to call.

    `base_url`, `api_key` and `script` default to the settings' `llm_base_url`,
    `llm_api_key` and `llm_script`. `model` defaults to `settings.llm_model` only when
    `provider` is `settings.llm_provider` (model names mean nothing across providers);
    for "local" a missing model means `settings.local_default_model`.
    The provider is wrapped in RetryingLLM (settings' timeout, retries, base delay;
    the local provider is not retried: a timed-out generation would only run again),
    and in RecordingLLM when `recorder` is given.

    With `settings.llm_fault_rate` > 0 (chaos runs) the provider is first wrapped in
    `faults.FaultyLLM`, under the retries, where a real server's failures arrive.

    Raises LLMUnavailable for an unknown provider or missing configuration (no key,
    base URL, model or script), and ModelNotInstalled for a catalog model not pulled.
    Nothing is contacted or loaded here: a local model loads on its first call.
    """
    name = provider.strip().lower()
    if model is None and name == settings.llm_provider.strip().lower():
        model = settings.llm_model
    if base_url is None:
        base_url = settings.llm_base_url
    if api_key is None and settings.llm_api_key is not None:
        api_key = settings.llm_api_key.get_secret_value()
    script_path = Path(script) if script is not None else settings.llm_script

    inner = _build_provider(name, model, settings, base_url, api_key, script_path)
    if settings.llm_fault_rate > 0:
        from atelier.llm.faults import FaultyLLM, parse_faults

        inner = FaultyLLM(
            inner,
            rate=settings.llm_fault_rate,
            faults=parse_faults(settings.llm_fault_kinds),
            seed=settings.llm_fault_seed,
        )
    llm: LLM = RetryingLLM(
        inner,
        max_retries=0 if name == "local" else settings.llm_max_retries,
        base_delay_s=settings.llm_retry_base_delay_s,
        timeout_s=settings.llm_timeout_s,
    )
    if recorder is not None:
        llm = RecordingLLM(llm, recorder)
    return llm
