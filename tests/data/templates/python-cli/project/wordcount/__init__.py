"""wordcount: count lines, words and characters, like wc."""

from wordcount.core import Counts, count

__all__ = ["Counts", "count"]
