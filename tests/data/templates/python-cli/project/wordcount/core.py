"""Counting lines, words and characters of a text."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    lines: int = 0
    words: int = 0
    chars: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.lines + other.lines, self.words + other.words,
                      self.chars + other.chars)


def count(text: str) -> Counts:
    """Newlines, whitespace-separated words and characters, as wc counts them."""
    return Counts(lines=text.count("\n"), words=len(text.split()), chars=len(text))
