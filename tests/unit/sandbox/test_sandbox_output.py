"""Output is kept as a bounded tail, so a spamming process cannot exhaust memory."""

from __future__ import annotations

import sys
from pathlib import Path

from atelier.sandbox import SandboxLimits, run_command
from atelier.sandbox.output import OutputTail


def test_short_output_is_kept_whole() -> None:
    tail = OutputTail(100)
    tail.feed(b"hello\n")

    assert tail.text() == "hello\n"


def test_long_output_keeps_the_end_and_says_it_was_cut() -> None:
    tail = OutputTail(200)
    for i in range(10_000):
        tail.feed(f"line {i}\n".encode())

    text = tail.text()
    assert len(text) <= 200
    assert text.endswith("line 9999\n")
    assert "truncated" in text
    assert tail.total_bytes > 80_000


def test_multibyte_characters_split_across_chunks_survive() -> None:
    tail = OutputTail(10)
    data = "é" * 50
    encoded = data.encode()
    tail.feed(encoded[:33])
    tail.feed(encoded[33:])

    assert tail.text().endswith("é" * 3)


async def test_a_process_spamming_stdout_yields_only_the_tail(tmp_path: Path) -> None:
    limits = SandboxLimits(wall_time_s=30, output_tail_chars=500)
    spam = (
        "import sys\n"
        "for i in range(400_000): sys.stdout.write(f'spam {i:07d}\\n')\n"
        "sys.stderr.write('THE END\\n')\n"
    )

    result = await run_command(tmp_path, [sys.executable, "-c", spam], limits)

    assert result.exit_code == 0
    assert len(result.output) <= 500
    assert result.output.endswith("THE END\n")
    assert "spam 0399999" in result.output
    assert "spam 0000000" not in result.output
