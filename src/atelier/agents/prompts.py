"""Prompt templates of the agents and the text helpers they share.

Templates are Markdown/Jinja files kept beside the agent modules and loaded with
importlib.resources, so they ship inside the wheel and can be read and edited as text.
"""

from __future__ import annotations

from importlib import resources

import jinja2

DEFAULT_TEST_COMMANDS = {"python": "pytest -q", "javascript": "node --test"}


def _load_template(name: str) -> str:
    return resources.files("atelier.agents").joinpath(name).read_text(encoding="utf-8")


_ENV = jinja2.Environment(
    loader=jinja2.FunctionLoader(_load_template),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render(template: str, **values: object) -> str:
    """Render the named template file of this package.

    Raises jinja2.TemplateNotFound / UndefinedError on a programming mistake
    (a missing file or a variable the template needs but was not given).
    """
    return _ENV.get_template(template).render(**values).strip()


def clip(text: str, max_chars: int, *, keep: str = "head") -> str:
    """Shorten text to about max_chars, keeping its head or its tail, marking the cut."""
    if max_chars <= 0:
        return ""
    if len(text) <= max_chars:
        return text
    marker = "\n… (cut) …\n"
    room = max(0, max_chars - len(marker))
    return text[:room] + marker if keep == "head" else marker + text[-room:]
