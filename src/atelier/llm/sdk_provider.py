"""What the providers built on the two SDKs that are made alike (openai, anthropic) share.

`SdkProvider` holds the model, endpoint, context window and client of such a provider.
`SdkErrors` maps its SDK's errors to ours: both SDKs raise one hierarchy under their own
names, `APIError` with `APIConnectionError` (and `APITimeoutError` below it) and
`APIStatusError` under it. A provider names its SDK's classes once, in an `SdkErrors`,
and turns whatever its SDK raised into the LLMError that RetryingLLM and the API
understand with `translate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from atelier.domain.errors import LLMError, LLMTimeout
from atelier.llm.retry import ProviderUnreachable, error_for_status, parse_retry_after


class SdkError(Protocol):
    """What every error of such an SDK carries (its `APIError`)."""

    @property
    def message(self) -> str: ...


class _HasHeaders(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


class SdkStatusError(SdkError, Protocol):
    """An HTTP error answer (the SDK's `APIStatusError`)."""

    @property
    def status_code(self) -> int: ...

    @property
    def response(self) -> _HasHeaders: ...


StatusErrorT = TypeVar("StatusErrorT", bound=SdkStatusError)


@dataclass(frozen=True)
class SdkErrors(Generic[StatusErrorT]):
    """One SDK's error classes, and how to read the message of its HTTP errors.

    `status_message` differs between SDKs: anthropic's status errors also carry the
    API's own message apart from the "Error code: …" wrapper, openai's do not.
    """

    timeout: type[Exception]
    connection: type[Exception]
    status: type[StatusErrorT]
    status_message: Callable[[StatusErrorT], str]

    def translate(self, exc: SdkError, provider: str, base_url: str) -> LLMError:
        """The LLMError to raise (from `exc`) for an error `provider`'s SDK raised.

        Timeout → LLMTimeout; no connection → ProviderUnreachable; an HTTP error status
        → see `error_for_status`; anything else (e.g. a body that is not a reply) → LLMError.
        """
        # The timeout first: the SDKs' APITimeoutError is an APIConnectionError too.
        if isinstance(exc, self.timeout):
            return LLMTimeout(f"{provider} at {base_url} timed out")
        if isinstance(exc, self.connection):
            return ProviderUnreachable(f"cannot reach {provider} at {base_url}: {exc.message}")
        if isinstance(exc, self.status):
            return error_for_status(
                provider,
                exc.status_code,
                self.status_message(exc),
                retry_after_s=parse_retry_after(exc.response.headers),
            )
        return LLMError(f"{provider} call failed: {exc.message}")


class _Closable(Protocol):
    async def close(self) -> None: ...


ClientT = TypeVar("ClientT", bound=_Closable)


class SdkProvider(Generic[ClientT]):
    """The model, endpoint and context window of an SDK-backed provider, and its client.

    A subclass builds its SDK client (with the SDK's own retries off) and sends the
    requests; this base only describes the model and closes the client.
    """

    def __init__(self, model: str, base_url: str, context_window: int, client: ClientT) -> None:
        self._model = model
        self._base_url = base_url
        self._context_window = context_window
        self._client = client

    def __repr__(self) -> str:  # never shows the API key
        return f"{type(self).__name__}(model={self._model!r}, base_url={self._base_url!r})"

    @property
    def model(self) -> str:
        return self._model

    @property
    def context_window(self) -> int:
        return self._context_window

    @property
    def base_url(self) -> str:
        return self._base_url

    async def aclose(self) -> None:
        """Close the underlying HTTP connection pool."""
        await self._client.close()
