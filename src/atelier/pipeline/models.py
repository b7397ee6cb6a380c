"""Which model serves which agent role in a run."""

from __future__ import annotations

from atelier.domain.spec import ROLES, JobOptions, Role
from atelier.llm.base import LLM
from atelier.llm.factory import build_llm
from atelier.llm.recording import CallRecorder, RecordingLLM
from atelier.settings import Settings


def build_role_llms(
    options: JobOptions, settings: Settings, recorder: CallRecorder | None = None
) -> dict[Role, LLM]:
    """One LLM per role: the job's options win over settings, a role's own choice wins
    over the job's. Roles that resolve to the same provider and model share one client
    (and, for the local provider, one loaded model).

    Raises LLMUnavailable (or ModelNotInstalled) when a provider cannot be built.
    """
    default_provider = options.provider or settings.llm_provider
    default_model = options.model or settings.llm_model
    shared: dict[tuple[str, str | None], LLM] = {}
    llms: dict[Role, LLM] = {}
    for role in ROLES:
        choice = options.roles.get(role)
        provider = (choice.provider if choice and choice.provider else None) or default_provider
        model = (choice.model if choice and choice.model else None) or (
            default_model if provider == default_provider else None
        )
        key = (provider, model)
        if key not in shared:
            llm = build_llm(
                provider,
                model,
                settings,
                base_url=options.base_url,
                script=options.script,
            )
            shared[key] = RecordingLLM(llm, recorder) if recorder is not None else llm
        llms[role] = shared[key]
    return llms
