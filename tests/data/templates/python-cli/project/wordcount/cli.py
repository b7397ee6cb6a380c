"""The command line: `python -m wordcount [--lines] [--words] [--chars] [FILE ...]`."""

import argparse
import sys

from wordcount.core import Counts, count

FIELDS = ("lines", "words", "chars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wordcount", description="Count lines, words and characters.")
    parser.add_argument("files", nargs="*", help="files to count (default: standard input)")
    parser.add_argument("-l", "--lines", action="store_true", help="print the line count")
    parser.add_argument("-w", "--words", action="store_true", help="print the word count")
    parser.add_argument("-c", "--chars", action="store_true", help="print the character count")
    return parser


def format_counts(counts: Counts, fields: list[str], name: str = "") -> str:
    numbers = " ".join(f"{getattr(counts, field):>7}" for field in fields)
    return f"{numbers} {name}".rstrip()


def main(argv: list[str] | None = None) -> int:
    """Run the tool; the exit status is 1 when a file could not be read, else 0."""
    args = build_parser().parse_args(argv)
    fields = [field for field in FIELDS if getattr(args, field)] or list(FIELDS)
    if not args.files:
        print(format_counts(count(sys.stdin.read()), fields))
        return 0
    status = 0
    total = Counts()
    for path in args.files:
        try:
            with open(path, encoding="utf-8") as handle:
                counts = count(handle.read())
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not a text file"
            print(f"wordcount: {path}: {reason}", file=sys.stderr)
            status = 1
            continue
        total += counts
        print(format_counts(counts, fields, path))
    if len(args.files) > 1:
        print(format_counts(total, fields, "total"))
    return status
