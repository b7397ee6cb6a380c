"""Parsing and formatting durations such as ``1h30m``, ``45s`` or ``2h 5m 10s``."""

import re

from durations.errors import DurationError

_UNITS = (("h", 3600), ("m", 60), ("s", 1))
_DURATION = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")


def parse_duration(text: str) -> int:
    """The number of seconds ``text`` stands for.

    Units are hours (h), minutes (m) and seconds (s), in that order, each at most once.
    Raises DurationError for anything else, including empty text.
    """
    if not isinstance(text, str):
        raise DurationError(f"expected text, got {type(text).__name__}")
    match = _DURATION.match(text.strip().lower())
    if match is None or not any(match.groups()):
        raise DurationError(f"not a duration: {text!r}")
    return sum(int(value) * size for value, (_, size) in zip(match.groups(), _UNITS, strict=True)
               if value is not None)


def format_duration(seconds: int) -> str:
    """``seconds`` as text, largest units first and zero parts left out (``0s`` for 0).

    Raises DurationError for a negative number or anything that is not an int.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise DurationError(f"expected an int number of seconds, got {seconds!r}")
    if seconds < 0:
        raise DurationError(f"a duration cannot be negative: {seconds}")
    parts = []
    for unit, size in _UNITS:
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"
