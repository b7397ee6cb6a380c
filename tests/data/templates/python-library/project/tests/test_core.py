import pytest
from durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("1h30m", 5400), ("2h 5m 10s", 7510), ("90m", 5400), ("0s", 0),
     (" 1H ", 3600)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "   ", "5", "1x", "1m1h", "1h1h", "-5s", "1.5h", "h"])
def test_parse_duration_refuses_what_is_not_a_duration(text):
    with pytest.raises(DurationError):
        parse_duration(text)


def test_parse_duration_refuses_what_is_not_text():
    with pytest.raises(DurationError):
        parse_duration(90)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (60, "1m"), (5400, "1h30m"), (7510, "2h5m10s"), (3601, "1h1s")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [-1, 1.5, "60", True])
def test_format_duration_refuses_bad_seconds(seconds):
    with pytest.raises(DurationError):
        format_duration(seconds)


def test_the_error_is_a_value_error():
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize("seconds", [0, 1, 59, 61, 3599, 3600, 86399, 90061])
def test_format_then_parse_is_the_identity(seconds):
    assert parse_duration(format_duration(seconds)) == seconds
