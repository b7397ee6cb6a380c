"""The one error the library raises."""


class DurationError(ValueError):
    """Text that is not a duration, or a number of seconds that cannot be one."""
