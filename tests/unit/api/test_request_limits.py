"""The request-limit pieces on their own: JSON nesting, open sockets per user, and the
OpenAPI schema documenting the one error shape."""

from __future__ import annotations

import json

import pytest

from atelier.api.app import create_app
from atelier.api.request_limits import json_too_deep
from atelier.api.routers.ws import OpenSockets
from atelier.settings import Settings


@pytest.mark.parametrize(
    ("text", "limit", "too_deep"),
    [
        ('{"a": [1, {"b": 2}]}', 3, False),
        ('{"a": [1, {"b": 2}]}', 2, True),
        ("[" * 33 + "]" * 33, 32, True),
        ("[" * 32 + "]" * 32, 32, False),
        ('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 2, False),
        ('{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[["}', 2, False),
        ("[" * 100_000, 32, True),
        ("", 1, False),
    ],
)
def test_json_depth_ignores_brackets_in_strings(text: str, limit: int, too_deep: bool) -> None:
    assert json_too_deep(text.encode(), limit) is too_deep


def test_json_depth_agrees_with_the_parser() -> None:
    value: object = 1
    for depth in range(1, 40):
        value = [value] if depth % 2 else {"k": value}
        text = json.dumps(value).encode()
        assert json_too_deep(text, 20) is (depth > 20)


def test_open_sockets_are_counted_per_user() -> None:
    sockets = OpenSockets()
    assert sockets.take("a", 2) and sockets.take("a", 2)
    assert not sockets.take("a", 2)
    assert sockets.take("b", 2)
    sockets.release("a")
    assert sockets.take("a", 2)
    for _ in range(3):
        sockets.release("a")
    assert "a" not in sockets.by_user


def test_the_schema_documents_422_as_the_error_shape(tmp_path: object) -> None:
    app = create_app(Settings(_env_file=None, data_dir=str(tmp_path)))  # type: ignore[call-arg]
    schema = app.openapi()
    error = schema["components"]["schemas"]["HTTPValidationError"]
    assert error["required"] == ["error", "detail"]
    assert app.openapi() is schema
