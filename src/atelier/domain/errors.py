"""The error hierarchy, written out once. The API maps `code` to HTTP status in one place."""

from __future__ import annotations

from typing import Any


class AtelierError(Exception):
    """Base of every error Atelier raises on purpose."""

    code: str = "error"

    def __init__(self, detail: Any = None) -> None:
        self.detail = detail if detail is not None else self.__class__.__doc__
        super().__init__(str(self.detail))


class NotFound(AtelierError):
    """The thing asked for does not exist (or is not yours)."""

    code = "not_found"


class Forbidden(AtelierError):
    """You may not do this."""

    code = "forbidden"


class Unauthorized(AtelierError):
    """Missing or invalid credentials."""

    code = "unauthorized"


class Conflict(AtelierError):
    """The request conflicts with the current state."""

    code = "conflict"


class InvalidSpec(AtelierError):
    """The project description or its options are not acceptable."""

    code = "invalid_spec"


class InvalidPath(InvalidSpec):
    """A file path is not a safe relative path inside the project."""

    code = "invalid_path"


class InvalidPlan(InvalidSpec):
    """The planner produced a plan that cannot be carried out."""

    code = "invalid_plan"


class BudgetExceeded(AtelierError):
    """A token, cost, time or round budget of the job is spent."""

    code = "budget_exceeded"

    def __init__(self, budget: str, detail: Any = None) -> None:
        self.budget = budget
        super().__init__(detail or f"{budget} budget exhausted")


class Cancelled(AtelierError):
    """The job was cancelled."""

    code = "cancelled"


class LLMError(AtelierError):
    """A model call failed."""

    code = "llm_error"


class LLMUnavailable(LLMError):
    """The model provider cannot be reached or is not configured."""

    code = "llm_unavailable"


class ModelCorrupt(LLMUnavailable):
    """A catalog model's file no longer matches its pinned SHA-256: it is not loaded."""

    code = "model_corrupt"


class LLMTimeout(LLMError):
    """A model call took longer than its timeout."""

    code = "llm_timeout"


class LLMOutputInvalid(LLMError):
    """The model's reply could not be turned into the expected structure."""

    code = "llm_output_invalid"


class ModelNotInstalled(LLMUnavailable):
    """A catalog model was asked for but has not been pulled."""

    code = "model_not_installed"


class SandboxError(AtelierError):
    """The sandbox could not run the command at all (not: the tests failed)."""

    code = "sandbox_error"


class DiskFull(AtelierError):
    """The disk Atelier writes its data to has no room left: free space on it, then retry."""

    code = "disk_full"


class RateLimited(AtelierError):
    """Too many requests."""

    code = "rate_limited"

    def __init__(self, retry_after_s: int, detail: Any = None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(detail or f"rate limit exceeded, retry after {retry_after_s}s")


class QuotaExceeded(RateLimited):
    """The user's quota (daily tokens or cost, concurrent jobs) does not allow this now."""

    code = "quota_exceeded"
