"""mkdocs hook: render ``c2rag`` command help into the docs at build time.

A page writes ``<!-- click: index -->`` (or ``<!-- click: -->`` for the group itself) and
gets the command's ``--help`` text in a code block, so the CLI reference can never drift
from the code. An unknown command fails the build.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["on_config", "on_page_markdown"]

_MARKER = re.compile(r"^<!-- click:\s*(?P<path>[\w\- ]*?)\s*-->$", re.MULTILINE)


def _help_text(path: str) -> str:
    from c2rag.cli import cli

    command: click.Command = cli
    # A fixed width keeps the rendered help independent of the terminal that builds the docs.
    ctx = click.Context(cli, info_name="c2rag", terminal_width=96, max_content_width=96)
    for name in path.split():
        if not isinstance(command, click.Group):
            msg = f"docs: 'c2rag {path}': {command.name!r} has no subcommands"
            raise click.UsageError(msg)
        sub = command.get_command(ctx, name)
        if sub is None:
            known = ", ".join(command.list_commands(ctx))
            msg = f"docs: no command 'c2rag {path}' (known: {known})"
            raise click.UsageError(msg)
        command = sub
        ctx = click.Context(command, info_name=name, parent=ctx)
    return command.get_help(ctx)


def on_config(config: Any, **_: Any) -> Any:
    """Document the checkout being built (like mkdocstrings' ``paths: [.]``), installed or not."""
    root = str(Path(config.config_file_path).resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    return config


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace each ``<!-- click: ... -->`` marker by that command's help text."""
    return _MARKER.sub(lambda m: f"```text\n{_help_text(m['path'])}\n```", markdown)
