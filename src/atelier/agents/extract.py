"""Getting code out of what small models really reply.

Replies come with prose around the code, several code blocks (the module, then a
usage example), no fences at all, wrong language tags, fences nested inside a
```markdown block, and output cut off at the token limit. `extract_code` picks the
most plausible code for one file; `split_labelled_blocks` splits a multi-file reply.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass

from atelier.domain.paths import is_test_path

_FENCE_LINE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^`\s]*)\s*(.*?)\s*$")
_SPECIAL_TOKENS = re.compile(r"<\|(?:im_end|im_start|endoftext|eot_id|end)\|>|</s>")

LANGUAGE_TAGS: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "py", "python3", "py3", "pycon"}),
    "javascript": frozenset({"javascript", "js", "node", "nodejs", "jsx", "mjs", "cjs"}),
    "typescript": frozenset({"typescript", "ts", "tsx"}),
    "json": frozenset({"json", "jsonc"}),
    "markdown": frozenset({"markdown", "md"}),
}
_TAG_LOOKALIKES = frozenset({"node.js", "vue.js", "next.js", "react.js"})
_PROSE_TAGS = frozenset({"markdown", "md", "text", "txt", "plaintext", "output", "console"})

# A line that can start Python code (used to skip prose before unfenced code).
_PY_CODE_START = re.compile(
    r"^(?:import\s|from\s+\S+\s+import\s|def\s|async\s+def\s|class\s|@|#|if\s+__name__|"
    r"[A-Za-z_][\w.]*\s*(?::[^=]+)?=[^=]|\"\"\"|''')"
)
_JS_CODE_LINE = re.compile(
    r"(?:^\s*(?:const|let|var|function|class|import|export|module\.exports|exports\.|"
    r"async\s+function|return|if\s*\(|for\s*\(|while\s*\(|//|/\*|\}|\{)|[;{}]\s*$|=>)"
)


@dataclass
class CodeBlock:
    """One fenced block of a reply: its info string, body, and where it sat."""

    tag: str
    info: str
    body: str
    closed: bool
    preceding: str  # the few non-empty lines of text just above the fence


def _clean(reply: str) -> str:
    return _SPECIAL_TOKENS.sub("", reply).replace("\r\n", "\n")


def code_blocks(reply: str) -> list[CodeBlock]:
    """Every fenced block of the reply, in order.

    A fence line carrying a tag while a block is open starts a new block: that is how
    a ```python block inside a ```markdown wrapper, or a block the model forgot to
    close, is still found. An unclosed final block runs to the end (truncated output).
    """
    blocks: list[CodeBlock] = []
    lines = _clean(reply).split("\n")
    prose: list[str] = []
    current: CodeBlock | None = None
    body: list[str] = []
    for line in lines:
        match = _FENCE_LINE.match(line)
        if current is None:
            if match:
                current = CodeBlock(
                    tag=match.group(2).lower(),
                    info=match.group(3),
                    body="",
                    closed=False,
                    preceding="\n".join(p for p in prose[-3:] if p.strip()),
                )
                body = []
            else:
                prose.append(line)
            continue
        if match and not match.group(2) and not match.group(3):
            current.body, current.closed = "\n".join(body), True
            blocks.append(current)
            current, prose = None, []
        elif match and match.group(2):
            # A new opening fence inside a block: keep the outer text as its own block.
            current.body, current.closed = "\n".join(body), True
            if current.body.strip():
                blocks.append(current)
            current = CodeBlock(
                tag=match.group(2).lower(),
                info=match.group(3),
                body="",
                closed=False,
                preceding="\n".join(b for b in body[-3:] if b.strip()),
            )
            body = []
        else:
            body.append(line)
    if current is not None:
        current.body = "\n".join(body)
        blocks.append(current)
    return [b for b in blocks if b.body.strip()]


def python_compiles(code: str) -> bool:
    """True when the text parses as Python."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _looks_like_js(code: str) -> bool:
    lines = [ln for ln in code.split("\n") if ln.strip()]
    if not lines:
        return False
    hits = sum(1 for ln in lines if _JS_CODE_LINE.search(ln))
    return hits / len(lines) >= 0.5


def looks_like_code(code: str, language: str) -> bool:
    """A cheap plausibility check: does this text look like code of `language`?"""
    if not code.strip():
        return False
    if language == "python":
        return python_compiles(code) and not _is_prose(code)
    if language in {"javascript", "typescript"}:
        return _looks_like_js(code)
    return True


def _is_prose(code: str) -> bool:
    # A single bare sentence can be a valid Python expression ("Hello") — reject text
    # without any structure a real module would have.
    stripped = code.strip()
    return "\n" not in stripped and " " in stripped and not re.search(r"[=(:\[]", stripped)


def trim_truncated_python(code: str, *, max_dropped_lines: int | None = None) -> str:
    """Drop trailing lines until the Python parses (output cut off mid-statement).

    Returns the code unchanged when it already parses, or when no prefix that keeps
    at least half of the lines parses (the error is not a truncation then).
    """
    if python_compiles(code):
        return code
    lines = code.rstrip().split("\n")
    limit = max_dropped_lines if max_dropped_lines is not None else max(3, len(lines) // 2)
    for cut in range(1, min(limit, len(lines) - 1) + 1):
        candidate = "\n".join(lines[:-cut]).rstrip()
        if candidate.strip() and python_compiles(candidate):
            return candidate
    return code


def _strip_python_prose(text: str) -> str | None:
    """Find the Python inside unfenced prose: the first code-like line onward that parses,
    with trailing prose lines dropped. None when no such span exists."""
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if _PY_CODE_START.match(ln)]
    for start in starts[:20]:
        tail = lines[start:]
        for cut in range(0, min(len(tail), 40)):
            candidate = "\n".join(tail[: len(tail) - cut]).strip("\n")
            if candidate.strip() and python_compiles(candidate) and not _is_prose(candidate):
                return candidate
    return None


def _strip_js_prose(text: str) -> str:
    lines = text.split("\n")
    start = next((i for i, ln in enumerate(lines) if _JS_CODE_LINE.search(ln)), 0)
    end = len(lines)
    while end > start and lines[end - 1].strip() and not _JS_CODE_LINE.search(lines[end - 1]):
        end -= 1
    return "\n".join(lines[start:end]).strip("\n")


def _labelled_with(block: CodeBlock, path: str) -> bool:
    label = block_label(block)
    if label is None:
        return False
    return label == path or posixpath.basename(label) == posixpath.basename(path)


_TEST_CODE = re.compile(r"^\s*(?:def test_|import pytest|import unittest|from unittest)", re.M)


def _block_score(
    block: CodeBlock, language: str, path: str | None
) -> tuple[int, int, int, int, int]:
    tags = LANGUAGE_TAGS.get(language, frozenset({language}))
    labelled_path = 1 if path and _labelled_with(block, path) else 0
    plausible = 1 if looks_like_code(block.body, language) else 0
    if language == "python" and not plausible and not block.closed:
        plausible = 1 if python_compiles(trim_truncated_python(block.body)) else 0
    # A test block next to the module is not the module (unless tests were asked for).
    wanted_tests = path is not None and is_test_path(path)
    not_tests = 1 if wanted_tests or not _TEST_CODE.search(block.body) else 0
    if block.tag in tags:
        tagged = 1
    elif not block.tag or block.tag in _PROSE_TAGS:
        tagged = 0
    else:
        tagged = -1
    return (labelled_path, plausible, not_tests, tagged, len(block.body))


def finish_code(code: str, language: str, *, truncated: bool) -> str:
    """Tidy extracted code: trim surrounding blank lines, repair a cut-off Python end,
    end with one newline ("" when empty)."""
    code = code.strip("\n")
    if language == "python" and not python_compiles(code):
        # Cut-off output fails at its very end; only then is dropping lines a repair.
        code = trim_truncated_python(code, max_dropped_lines=None if truncated else 3)
    return code.rstrip() + "\n" if code.strip() else ""


def extract_code(reply: str, *, language: str, path: str | None = None) -> str:
    """The code of one file from a model reply, ending with a newline ("" if none).

    Prefers a fenced block labelled with `path`, then plausible code in the right
    language, then the right tag, then the longest. Without fences the whole reply is
    taken when it looks like code; for Python, leading and trailing prose lines are
    dropped. Truncated Python is cut back to its last complete statement when that
    makes it parse. Never raises.
    """
    text = _clean(reply)
    if language in _PROSE_TAGS:
        return text.strip() + "\n" if text.strip() else ""
    blocks = code_blocks(text)
    if blocks:
        best = max(blocks, key=lambda b: _block_score(b, language, path))
        return finish_code(best.body, language, truncated=not best.closed)
    stripped = text.strip()
    if not stripped:
        return ""
    if language == "python":
        if python_compiles(stripped) and not _is_prose(stripped):
            return stripped + "\n"
        found = _strip_python_prose(stripped)
        if found is not None:
            return found.rstrip() + "\n"
        # Perhaps code cut off mid-statement, after some prose.
        lines = stripped.split("\n")
        start = next((i for i, ln in enumerate(lines) if _PY_CODE_START.match(ln)), None)
        if start is None:
            return ""  # prose only: nothing here is code
        return finish_code("\n".join(lines[start:]), language, truncated=True)
    if language in {"javascript", "typescript"}:
        return _strip_js_prose(stripped) + "\n"
    return stripped + "\n"


# Header lines that name the file the next code block belongs to.
_HEADER_PATTERNS = (
    re.compile(
        r"^\s{0,3}#{1,6}\s+(?:\d+[.)]\s*)?(?:file(?:name)?\s*[:\-]\s*)?`?([\w./\-]+\.\w+)`?\s*:?\s*$",
        re.I,
    ),
    re.compile(
        r"^\s*(?:\d+[.)]\s*)?\*\*\s*(?:file(?:name)?\s*[:\-]\s*)?`?([\w./\-]+\.\w+)`?\s*:?\s*\*\*\s*:?\s*$",
        re.I,
    ),
    re.compile(r"^\s*(?:#|//)\s*file(?:name)?\s*:\s*`?([\w./\-]+\.\w+)`?\s*$", re.I),
    re.compile(r"^\s*(?:file(?:name)?\s*:\s*)?`([\w./\-]+\.\w+)`\s*:?\s*$", re.I),
    re.compile(r"^\s*file(?:name)?\s*:\s*([\w./\-]+\.\w+)\s*$", re.I),
)
# A first line inside a block that names its file: "# file: x.py", "// x.js", "# x.py".
_IN_BLOCK_HEADER = re.compile(
    r"^\s*(?:#+|//)\s*(?:file(?:name)?\s*:\s*)?([\w./\-]+\.\w+)\s*$", re.I
)


def without_in_block_header(body: str) -> str:
    """The block body without a first line that only names the file ("### x.py"):
    small models copy the reply format's header into the block, and in JavaScript
    it would be a syntax error."""
    first, _, rest = body.lstrip("\n").partition("\n")
    return rest if _IN_BLOCK_HEADER.match(first) else body


def _header_path(text: str) -> str | None:
    for line in reversed([ln for ln in text.split("\n") if ln.strip()][-2:]):
        for pattern in _HEADER_PATTERNS:
            match = pattern.match(line)
            if match:
                return match.group(1).strip()
    return None


def split_labelled_blocks(reply: str) -> list[tuple[str | None, CodeBlock]]:
    """Each code block of a multi-file reply with the file path it is labelled with.

    The label comes from a header just above the fence ("### path/to/file.py",
    "**file.py**", "# file: x.py", "`x.py`:"), from the fence's info string
    ("```python title=x.py", "```x.py"), or from a first-line comment inside the
    block ("# file: x.py"); None when unlabelled. Paths are not validated here.
    """
    return [(block_label(block), block) for block in code_blocks(reply)]


def block_label(block: CodeBlock) -> str | None:
    """The file path a block is labelled with (header above, info string, first-line
    comment), or None."""
    path = _header_path(block.preceding)
    if path is None:
        info_match = re.search(r"([\w./\-]+\.[A-Za-z]\w{0,4})\b", f"{block.tag} {block.info}")
        if info_match and info_match.group(1).lower() not in _TAG_LOOKALIKES:
            path = info_match.group(1)
    if path is None:
        first = block.body.lstrip("\n").split("\n", 1)[0]
        in_block = _IN_BLOCK_HEADER.match(first)
        if in_block:
            path = in_block.group(1)
    if path is not None:
        path = path.strip("`*:'\" ").removeprefix("title=")
    return path
