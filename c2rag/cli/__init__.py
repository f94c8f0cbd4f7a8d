"""The ``c2rag`` command line: a click group whose commands load on first use.

Each command lives in its own module under ``c2rag/cli/`` so that ``c2rag --help`` does not
import torch or chromadb.
"""

from __future__ import annotations

import importlib
import logging
import os

import click

__all__ = ["cli", "main"]

# command name → "module:attribute"
_COMMANDS: dict[str, str] = {
    "index": "c2rag.cli.org_cmd:index",
    "status": "c2rag.cli.index_cmd:status",
    "search": "c2rag.cli.search_cmd:search",
    "chat": "c2rag.cli.search_cmd:chat",
    "eval": "c2rag.cli.eval_cmd:eval_",
    "mcp": "c2rag.cli.mcp_cmd:mcp",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            msg = f"{target} is not a click command"
            raise TypeError(msg)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="c2rag")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """c2rag: the right code from a repository, for coding agents."""
    level = logging.WARNING - 10 * min(verbose, 2)
    if not verbose:
        # transformers draws a "Loading weights" bar on every model load; c2rag's own bars
        # (tqdm on long work) stay. Read by huggingface_hub when transformers is imported.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Console-script entry point."""
    cli()
