"""A request that describes each of its files in a section of its own ("`todo.js`
exports a class `TodoList` with: …", "`format.js` exports `formatList(list)` …"):
which section is whose, which file uses what another defines, and the request told
from one file's point of view.

Measured with qwen2.5-coder-0.5b: given the whole request for each file, the model
wrote both files into each one (js-todo: `TodoList` and `formatList` in todo.js *and*
format.js), and drafted report.py before inventory.py without seeing its methods. The
sections say which file owns which name, so the Coder is told what to write here and
what to import, and a file is written after the files it uses.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# A list item: "- ", "* ", "• ", "1. ", "2) ".
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
# `Name`, `name(args)`: names a section gives in backticks.
_BACKTICKED_NAME = re.compile(r"`([A-Za-z_$][\w$]*)(?:\s*\([^`]*\))?`")
_DECLARED = re.compile(
    r"\b(?:class|function|exports|defines|has|with)\s+(?:an?\s+)?(?:class\s+|function\s+)?"
    r"`([A-Za-z_$][\w$]*)")
_EXPORT_LIST = re.compile(r"`(?:module\.)?exports\s*=\s*\{([^}`]*)\}`")
# "imports `Inventory` from `inventory`": the module a file uses, by name.
_IMPORTS_FROM = re.compile(r"\bfrom\s+`([\w./-]+)`")


@dataclass
class Sections:
    """The request split by file: shared lines (before, between) and one section per file."""

    shared: list[str] = field(default_factory=list)
    by_file: dict[str, list[str]] = field(default_factory=dict)


def _mentions(line: str, path: str) -> bool:
    return f"`{path}`" in line or f"`{posixpath.basename(path)}`" in line


def split_sections(prompt: str, paths: Sequence[str]) -> Sections:
    """Each line that names exactly one of `paths` in backticks opens that file's
    section; the lines after it belong to it up to a blank line (bullets after a blank
    line still do) or the next line that names a file. Everything else is shared."""
    sections = Sections()
    current: str | None = None
    after_blank = False
    for line in prompt.split("\n"):
        named = [p for p in paths if _mentions(line, p)]
        if len(named) == 1:
            current = named[0]
            sections.by_file.setdefault(current, []).append(line)
        elif named:
            current = None
            sections.shared.append(line)
        elif not line.strip():
            after_blank = current is not None
            (sections.by_file[current] if current else sections.shared).append(line)
            continue
        elif current is not None and (not after_blank or BULLET.match(line)):
            sections.by_file[current].append(line)
        else:
            current = None
            sections.shared.append(line)
        after_blank = False
    return sections


def owned_names(prompt: str, paths: Sequence[str]) -> dict[str, str]:
    """name → the file whose section header (its first line) declares it: "`todo.js`
    exports a class `TodoList`", "has a function `format_report(…)`", or an export list
    `module.exports = { formatList }`. A name the header only uses ("taking a
    `TodoList`", "imports `Inventory` from `inventory`") is not declared there."""
    owners: dict[str, str] = {}
    for path, lines in split_sections(prompt, paths).by_file.items():
        header = lines[0]
        declared = _DECLARED.findall(header)
        for exports in _EXPORT_LIST.findall(header):
            declared += re.findall(r"[A-Za-z_$][\w$]*", exports)
        for name in declared:
            owners.setdefault(name, path)
    return owners


def stated_dependencies(prompt: str, paths: Sequence[str]) -> dict[str, list[str]]:
    """file → the other files whose names its section uses (format.js → todo.js when its
    section takes a `TodoList`; report.py → inventory.py when it imports `Inventory`)."""
    owners = owned_names(prompt, paths)
    by_module = {posixpath.splitext(p)[0].replace("/", "."): p for p in paths}
    by_module.update({posixpath.splitext(posixpath.basename(p))[0]: p for p in paths})
    needs: dict[str, list[str]] = {}
    for path, lines in split_sections(prompt, paths).by_file.items():
        text = "\n".join(lines)
        used = {owners[n] for n in _BACKTICKED_NAME.findall(text) if n in owners}
        used |= {by_module[m.removeprefix("./").removesuffix(".js")]
                 for m in _IMPORTS_FROM.findall(text)
                 if m.removeprefix("./").removesuffix(".js") in by_module}
        needs[path] = sorted(used - {path})
    return needs


def file_section(prompt: str, path: str, paths: Sequence[str]) -> str | None:
    """The lines of the request about `path` alone, when it gives this file and at
    least one other a section; else None."""
    sections = split_sections(prompt, paths)
    if path not in sections.by_file or len(sections.by_file) < 2:
        return None
    return "\n".join(sections.by_file[path]).strip()


def request_for_file(prompt: str, path: str, paths: Sequence[str]) -> str:
    """The request as the writer of `path` needs it: the shared lines, this file's
    section, then the other files' sections marked as written separately. The request
    unchanged when it does not give this file and at least one other a section."""
    sections = split_sections(prompt, paths)
    if path not in sections.by_file or len(sections.by_file) < 2:
        return prompt
    others = [p for p in sections.by_file if p != path]
    owners = owned_names(prompt, paths)
    uses = stated_dependencies(prompt, paths).get(path, [])
    theirs = sorted(n for n, owner in owners.items() if owner in uses)
    parts = ["\n".join(sections.shared).strip(),
             f"This file, {path}:\n" + "\n".join(sections.by_file[path]).strip()]
    note = (f"The other files ({', '.join(others)}) are written separately. Do not write "
            "their code in this file")
    note += f"; import {', '.join(theirs)} from them instead:" if theirs else ":"
    parts.append(note + "\n" + "\n".join(
        "\n".join(sections.by_file[p]).strip() for p in others))
    return "\n\n".join(part for part in parts if part)
