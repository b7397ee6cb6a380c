"""Every fault a model server shows — timeouts, 429 with Retry-After, 500s, resets,
empty, garbage, invalid JSON, endless output — is retried or repaired, and once the
retries are spent the job fails with a clear reason instead of hanging or crashing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bench.chaos import SCRIPT, run_chaos

from atelier.agents.planner import plan_project
from atelier.domain.errors import LLMError, LLMOutputInvalid, LLMTimeout, LLMUnavailable
from atelier.domain.spec import Spec
from atelier.llm.base import ChatRequest, Message
from atelier.llm.factory import build_llm
from atelier.llm.faults import CONTENT_FAULTS, TRANSPORT_FAULTS, Fault, FaultyLLM, parse_faults
from atelier.llm.retry import ProviderUnreachable, RetryableLLMError, RetryingLLM
from atelier.llm.scripted import ScriptedLLM
from atelier.settings import Settings

REQUEST = ChatRequest(messages=[Message(role="user", content="hi")], agent="planner")


def scripted() -> ScriptedLLM:
    return ScriptedLLM.from_mapping(SCRIPT)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def retrying(inner: FaultyLLM, sleeps: Sleeps, retries: int = 3) -> RetryingLLM:
    return RetryingLLM(inner, max_retries=retries, base_delay_s=0.0, timeout_s=0.05,
                       sleep=sleeps)


@pytest.mark.parametrize("fault", sorted(TRANSPORT_FAULTS))
async def test_a_transport_fault_is_retried_and_the_call_then_succeeds(fault: Fault) -> None:
    faulty = FaultyLLM(scripted(), schedule=[fault, fault])
    sleeps = Sleeps()
    result = await retrying(faulty, sleeps).chat(REQUEST)
    assert result.text == '{"name": "calc", "summary": "A tiny calculator module.", ' \
        '"language": "python", "files": [{"path": "calc.py", "purpose": "add", ' \
        '"depends_on": []}], "dependencies": [], "test_command": null}'
    assert faulty.injected[fault] == 2 and faulty.delivered == 1
    assert len(sleeps.waits) == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.TIMEOUT, LLMTimeout),
        (Fault.RATE_LIMIT, RetryableLLMError),
        (Fault.SERVER_ERROR, RetryableLLMError),
        (Fault.CONNECTION_RESET, ProviderUnreachable),
    ],
)
async def test_a_transport_fault_that_persists_fails_after_the_retries(
    fault: Fault, error: type[LLMError]
) -> None:
    faulty = FaultyLLM(scripted(), rate=1.0, faults=[fault])
    sleeps = Sleeps()
    with pytest.raises(error):
        await retrying(faulty, sleeps, retries=3).chat(REQUEST)
    assert faulty.injected[fault] == 4 and faulty.delivered == 0  # 1 try + 3 retries
    assert len(sleeps.waits) == 3


async def test_a_429_is_retried_after_its_retry_after() -> None:
    faulty = FaultyLLM(scripted(), schedule=[Fault.RATE_LIMIT], retry_after_s=7.5)
    sleeps = Sleeps()
    await retrying(faulty, sleeps).chat(REQUEST)
    assert sleeps.waits == [7.5]


async def test_a_hang_is_cut_by_the_per_call_timeout() -> None:
    faulty = FaultyLLM(scripted(), schedule=[Fault.TIMEOUT])
    loop = asyncio.get_running_loop()
    began = loop.time()
    await retrying(faulty, Sleeps()).chat(REQUEST)
    assert loop.time() - began < 5.0


@pytest.mark.parametrize("fault", sorted(CONTENT_FAULTS))
async def test_a_broken_reply_is_repaired_by_asking_again(fault: Fault) -> None:
    faulty = FaultyLLM(scripted(), schedule=[fault])
    plan = await plan_project(Spec(prompt="A calculator module."), faulty, max_repairs=2)
    assert [f.path for f in plan.files] == ["calc.py"]
    assert faulty.injected[fault] == 1


@pytest.mark.parametrize("fault", sorted(CONTENT_FAULTS))
async def test_a_reply_that_stays_broken_is_a_clear_output_error(fault: Fault) -> None:
    faulty = FaultyLLM(scripted(), rate=1.0, faults=[fault])
    with pytest.raises(LLMOutputInvalid):
        await plan_project(Spec(prompt="A calculator module."), faulty, max_repairs=2)
    assert faulty.injected[fault] == 3


def test_endless_output_is_cut_at_the_token_limit() -> None:
    faulty = FaultyLLM(scripted(), schedule=[Fault.ENDLESS])
    result = asyncio.run(faulty.chat(REQUEST.model_copy(update={"max_tokens": 64})))
    assert result.finish_reason == "length" and len(result.text) == 64 * 4


def test_fault_names_are_checked() -> None:
    assert parse_faults([]) == tuple(Fault)
    assert parse_faults(["timeout", " RATE_LIMIT "]) == (Fault.TIMEOUT, Fault.RATE_LIMIT)
    with pytest.raises(ValueError, match="unknown LLM fault"):
        parse_faults(["gremlins"])


def test_settings_select_the_fault_injection_under_the_retries(tmp_path: Path) -> None:
    script = tmp_path / "s.json"
    script.write_text('{"planner": ["x"]}', encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=tmp_path, llm_provider="scripted",  # type: ignore[call-arg]
                        llm_script=script, llm_fault_rate=0.5, llm_fault_kinds=["server_error"],
                        llm_fault_seed=1)
    llm = build_llm("scripted", None, settings)
    assert isinstance(llm, RetryingLLM)
    assert isinstance(llm.inner, FaultyLLM)
    assert llm.inner.faults == (Fault.SERVER_ERROR,) and llm.inner.rate == 0.5
    plain = build_llm("scripted", None, settings.model_copy(update={"llm_fault_rate": 0.0}))
    assert isinstance(plain, RetryingLLM) and isinstance(plain.inner, ScriptedLLM)


@pytest.mark.parametrize(
    ("faults", "reasons"),
    [
        (sorted(TRANSPORT_FAULTS), ("llm_timeout", "llm_retryable", "llm_unavailable")),
        (sorted(CONTENT_FAULTS), ("llm_output_invalid",)),
    ],
    ids=["transport", "content"],
)
@pytest.mark.parametrize("strategy", ["single", "repair"])
async def test_a_job_whose_every_call_fails_fails_clearly(
    tmp_path: Path, faults: list[Fault], reasons: tuple[str, ...], strategy: str
) -> None:
    report = await run_chaos(f"sqlite+aiosqlite:///{tmp_path}/jobs.db", tmp_path, jobs=4,
                             fault_rate=1.0, faults=faults, restarts=0, strategy=strategy,
                             timeout_s=120)
    assert report.statuses == {"failed": 4}, report
    assert set(report.failure_reasons) <= set(reasons), report
    assert report.stuck_running == 0 and report.double_paid == 0


def test_unavailable_is_retryable_only_when_unreachable() -> None:
    # A wrong key or model (LLMUnavailable) is configuration: not retried, unlike a reset.
    assert not isinstance(LLMUnavailable("x"), RetryableLLMError)
    assert isinstance(ProviderUnreachable("x"), RetryableLLMError)
