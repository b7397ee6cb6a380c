"""Durations the way people type them: ``parse_duration("1h30m") == 5400``."""

from durations.core import format_duration, parse_duration
from durations.errors import DurationError

__all__ = ["DurationError", "format_duration", "parse_duration"]
