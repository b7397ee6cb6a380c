"""A JavaScript test file cut off mid-way — by the token limit, or by the local model's
loop guard while the Tester repeated one assert — is closed where its last complete
line ends.

As cut, the file does not parse ("SyntaxError: Unexpected end of input"), so no test
runs and the verdict can only be `untested`. Kept up to its last line that ends a
statement (`;`) and with the brackets still open there closed, the tests it had
written run. The Python tests get the same treatment from `test_mending` (the longest
prefix that compiles).
"""

from __future__ import annotations

from atelier.pipeline.js_scan import CLOSING, open_brackets


def with_cut_tail_closed(source: str) -> str:
    """`source` closed after its last complete statement when its brackets are left
    open at the end; unchanged when they balance or no such place is found."""
    lines = source.rstrip().split("\n")
    # Cut off, brackets are left open at the end — or the cut fell inside a string of
    # the last line. Anything else the scanner cannot follow (a quote inside a regular
    # expression literal) is not a cut file and is left alone.
    if not (open_brackets(source) or open_brackets("\n".join(lines[:-1]))):
        return source
    while lines:
        if lines[-1].rstrip().endswith(";"):
            kept = "\n".join(lines)
            still_open = open_brackets(kept)
            if still_open is not None:
                closers = "".join(CLOSING[b] for b in reversed(still_open))
                return kept + ("\n" + closers + ";" if closers else "") + "\n"
        lines.pop()
    return source
