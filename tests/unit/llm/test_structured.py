"""JSON extraction and the bounded repair loop of structured output."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from atelier.domain.errors import LLMOutputInvalid
from atelier.llm.base import ChatRequest, Message
from atelier.llm.scripted import ScriptedLLM
from atelier.llm.structured import chat_structured, extract_json


class Point(BaseModel):
    x: int
    y: int


def request() -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content="a point")], agent="planner")


@pytest.mark.parametrize(
    "reply",
    [
        '{"x": 1, "y": 2}',
        'Sure! Here it is:\n```json\n{"x": 1, "y": 2}\n```\nAnything else?',
        'The answer is {"x": 1, "y": 2} as requested. {"unrelated": true}',
        '```\n{"x": 1, "y": 2}\n```',
        'prefix {"x": 1, "y": 2, "note": "a } inside a string"} suffix',
    ],
)
def test_extract_json_finds_the_object_in_messy_replies(reply: str) -> None:
    assert extract_json(reply)["x"] == 1


def test_extract_json_rejects_text_without_json() -> None:
    with pytest.raises(ValueError):
        extract_json("no json here, sorry")


async def test_invalid_reply_is_sent_back_with_the_error_and_repaired() -> None:
    llm = ScriptedLLM.from_mapping({"planner": ['{"x": "one"}', '{"x": 1, "y": 2}']})
    result = await chat_structured(llm, request(), Point)

    assert result.value == Point(x=1, y=2)
    assert len(result.calls) == 2
    repair_prompt = llm.calls[1].messages[-1].content
    assert "x" in repair_prompt and "not valid" in repair_prompt
    assert llm.calls[0].json_schema == Point.model_json_schema()


async def test_repairs_are_bounded_then_fail_clearly() -> None:
    llm = ScriptedLLM.from_mapping({"planner": ["still not json"]})
    with pytest.raises(LLMOutputInvalid, match="after 2 repair"):
        await chat_structured(llm, request(), Point, max_repairs=2)
    assert len(llm.calls) == 3


def test_truncated_looping_reply_is_salvaged_up_to_the_last_complete_item() -> None:
    item = '{"path": "greet.py", "purpose": "greet", "depends_on": []}'
    reply = '{"name": "greet", "files": [' + ", ".join([item] * 5) + ', {"path": "gre'
    value = extract_json(reply)
    assert value["name"] == "greet"
    assert len(value["files"]) == 5


def test_truncated_reply_inside_a_string_is_salvaged() -> None:
    value = extract_json('{"x": 1, "y": 2, "note": "cut off in the mid')
    assert value == {"x": 1, "y": 2}
