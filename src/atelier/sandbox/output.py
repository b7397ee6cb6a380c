"""Bounded capture of a process's output: only the tail is kept."""

from __future__ import annotations

import asyncio

# A UTF-8 character is at most 4 bytes, so this many bytes always hold `chars` characters.
_BYTES_PER_CHAR = 4
_CHUNK = 64 * 1024


class OutputTail:
    """Keeps the last ``max_chars`` characters of a byte stream, whatever its length."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max(0, max_chars)
        self._max_bytes = self.max_chars * _BYTES_PER_CHAR
        self._buffer = bytearray()
        self.total_bytes = 0

    def feed(self, data: bytes) -> None:
        self.total_bytes += len(data)
        self._buffer += data
        if len(self._buffer) > self._max_bytes:
            del self._buffer[: len(self._buffer) - self._max_bytes]

    @property
    def truncated(self) -> bool:
        return self.total_bytes > len(self._buffer) or len(self.text_tail()) > self.max_chars

    def text_tail(self) -> str:
        return self._buffer.decode("utf-8", errors="replace")

    def text(self) -> str:
        """The tail as text, at most ``max_chars`` long, with a marker when cut."""
        text = self.text_tail()
        if self.total_bytes <= len(self._buffer) and len(text) <= self.max_chars:
            return text
        marker = f"[... output truncated, {self.total_bytes} bytes in total ...]\n"
        keep = max(0, self.max_chars - len(marker))
        if keep == 0:
            return text[-self.max_chars :] if self.max_chars else ""
        return marker + text[-keep:]


async def pump(stream: asyncio.StreamReader, tail: OutputTail) -> None:
    """Read ``stream`` to EOF into ``tail``; memory stays bounded however much is written."""
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            return
        tail.feed(chunk)
