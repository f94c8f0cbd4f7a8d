"""Griffe extension: read a Google-style ``Example:`` section as ``Examples:``.

Both spellings are Google style (Napoleon accepts either), but griffe parses only the plural
as doctest examples; the singular becomes plain Markdown, where a doctest's output such as
``[('function', 'pkg.util.add', 1, 2)]`` reads as a broken link. This keeps the docstrings
as their authors wrote them and renders every example as code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

__all__ = ["ExampleSections"]

_SINGULAR = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rewrite ``Example:`` section headers to ``Examples:`` before docstrings are parsed."""

    def on_instance(self, *, obj: griffe.Object, **_: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\1Examples:", obj.docstring.value)
