"""Structured (JSON) output on top of any LLM, with bounded repair.

Small models wrap JSON in prose or fences, truncate it, or miss fields. We extract
the most plausible JSON object, validate it with Pydantic, and on failure send the
validation error back to the model for a bounded number of repair attempts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from atelier.domain.errors import LLMOutputInvalid
from atelier.llm.base import LLM, ChatRequest, ChatResult, Message

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)(?:```|\Z)", re.DOTALL)


@dataclass
class Structured(Generic[T]):
    value: T
    calls: list[ChatResult] = field(default_factory=list)


def _outside_strings(text: str, start: int) -> Iterator[tuple[int, str]]:
    """(index, char) of every character of `text` from `start` on that is not part of a
    JSON string literal (the quotes are left out too), honouring escapes.

    Start it at a bracket: inside a JSON value every quote opens or closes a string,
    which the prose around the value does not promise.
    """
    in_string = escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        else:
            yield index, char


def _closing_brace(text: str, start: int) -> int | None:
    """The index of the "}" closing the "{" at `start`, or None when it never closes."""
    depth = 0
    for index, char in _outside_strings(text, start):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def _balanced_objects(text: str) -> list[str]:
    """Every top-level {...} span in the text, in order, honouring strings and escapes."""
    spans: list[str] = []
    start = text.find("{")
    while start >= 0:
        end = _closing_brace(text, start)
        if end is None:
            break
        spans.append(text[start : end + 1])
        start = text.find("{", end + 1)
    return spans


def salvage_truncated(text: str) -> Any:
    """Parse an object cut off mid-way (a reply that hit its token limit).

    Cuts back to the last point where an element or member was complete and closes
    every open bracket. Small models under constrained decoding often loop (the same
    list item again and again) until the limit; what came before is usually sound.
    Raises ValueError when nothing can be salvaged.
    """
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object found in the reply")
    body = text[start:]
    closers: list[str] = []
    cut_points: list[tuple[int, str]] = []
    for index, char in _outside_strings(body, 0):
        if char in "{[":
            closers.append("}" if char == "{" else "]")
        elif char in "}]":
            if not closers:
                break
            closers.pop()
            if not closers:
                break  # the object is complete: not a truncation
            cut_points.append((index + 1, "".join(reversed(closers))))
        elif char == ",":
            cut_points.append((index, "".join(reversed(closers))))
    for end, closing in reversed(cut_points[-200:]):
        try:
            value = json.loads(body[:end] + closing)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("no JSON object found in the reply")


def extract_json(text: str) -> Any:
    """The first JSON object found in a model reply.

    Tries, in order: the whole text, fenced blocks, balanced ``{...}`` spans, and
    finally a truncated object closed at its last complete element.
    Raises ValueError when none parses.
    """
    candidates = [text.strip()]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(text)]
    candidates += _balanced_objects(text)
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    return salvage_truncated(text)


def _describe(error: ValueError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in error.errors()[:8]
        ]
        return "; ".join(parts)
    return str(error)


async def chat_structured(
    llm: LLM,
    request: ChatRequest,
    schema: type[T],
    *,
    max_repairs: int = 2,
) -> Structured[T]:
    """Ask for JSON matching `schema`; repair invalid replies up to `max_repairs` times.

    Raises LLMOutputInvalid when the last attempt still does not validate; LLM errors
    from the provider propagate unchanged.
    """
    json_schema = request.json_schema or schema.model_json_schema()
    current = request.model_copy(update={"json_schema": json_schema})
    calls: list[ChatResult] = []
    last_error = ""
    for _attempt in range(max_repairs + 1):
        result = await llm.chat(current)
        calls.append(result)
        try:
            value = schema.model_validate(extract_json(result.text))
            return Structured(value=value, calls=calls)
        except (ValueError, ValidationError) as exc:
            last_error = _describe(exc)
        repair = Message(
            role="user",
            content=(
                "Your reply was not valid: "
                f"{last_error}\nReply again with only a JSON object that matches the schema."
            ),
        )
        current = current.model_copy(
            update={
                # At temperature 0 a local model would repeat its mistake word for word.
                "temperature": max(request.temperature, 0.3),
                "messages": [
                    *request.messages,
                    Message(role="assistant", content=result.text[-4000:]),
                    repair,
                ]
            }
        )
    raise LLMOutputInvalid(
        f"{request.agent}: reply did not match the expected structure after "
        f"{max_repairs} repair attempt(s): {last_error}"
    )
