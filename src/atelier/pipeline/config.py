"""The effective knobs of one run: settings, overridden by the job's options."""

from __future__ import annotations

from dataclasses import dataclass, replace

from atelier.domain.spec import Budgets, Spec, Strategy
from atelier.sandbox import SandboxLimits
from atelier.settings import Settings


@dataclass(frozen=True)
class RunConfig:
    strategy: Strategy
    budgets: Budgets
    resample_k: int
    resample_temperature: float
    coder_temperature: float
    coder_concurrency: int
    review: bool
    docs: bool
    sandbox_limits: SandboxLimits
    sandbox_backend: str
    max_repair_files: int = 3

    @classmethod
    def from_spec(cls, spec: Spec, settings: Settings) -> RunConfig:
        options = spec.options
        budgets = options.budgets
        # An explicit max_fix_rounds in the job options wins; otherwise the setting.
        if "max_fix_rounds" not in budgets.model_fields_set:
            budgets = budgets.model_copy(update={"max_fix_rounds": settings.max_fix_rounds})
        limits = SandboxLimits.from_settings(settings)
        if options.sandbox_timeout_s is not None:
            limits = replace(limits, wall_time_s=options.sandbox_timeout_s)
        coder_choice = options.roles.get("coder")
        coder_temperature = (
            coder_choice.temperature
            if coder_choice is not None and coder_choice.temperature is not None
            else 0.0
        )
        return cls(
            strategy=options.strategy or settings.strategy,
            budgets=budgets,
            resample_k=(
                options.resample_k if options.resample_k is not None else settings.resample_k
            ),
            resample_temperature=(
                options.resample_temperature
                if options.resample_temperature is not None
                else settings.resample_temperature
            ),
            coder_temperature=coder_temperature,
            coder_concurrency=max(1, settings.coder_concurrency),
            review=options.review,
            docs=options.docs,
            sandbox_limits=limits,
            sandbox_backend=settings.sandbox_backend,
        )
