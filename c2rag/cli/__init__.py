"""The ``c2rag`` command line: a click group whose commands load on first use.

Each command lives in its own module under ``c2rag/cli/`` so that ``c2rag --help`` does not
import torch or chromadb.
"""

from __future__ import annotations

import importlib
import logging
import os
import traceback

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
    "localize": "c2rag.cli.localize_cmd:localize",
}


class _LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        """Every failure ends in one line ``Error: ...`` (exit 1); ``-v`` adds the traceback."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.ClickException as exc:
            if ctx.params.get("verbose") and exc.__cause__ is not None:
                _print_traceback(exc.__cause__)
            exc.message = _one_line(exc.message)
            raise
        except Exception as exc:
            if ctx.params.get("verbose"):
                _print_traceback(exc)
            raise click.ClickException(_describe(exc, ctx)) from exc

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
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    envvar="C2RAG_THREADS",
    help="CPU threads per embedding pass [default: 1 for a query, all cores for documents].",
)
def cli(verbose: int, threads: int | None) -> None:
    """c2rag: the right code from a repository, for coding agents."""
    if threads is not None:  # every Encoder the command builds reads it
        os.environ["C2RAG_THREADS"] = str(threads)
    level = logging.WARNING - 10 * min(verbose, 2)
    if not verbose:
        # transformers draws a "Loading weights" bar on every model load; c2rag's own bars
        # (tqdm on long work) stay. Read by huggingface_hub when transformers is imported.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _print_traceback(exc: BaseException) -> None:
    click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)


def _describe(exc: Exception, ctx: click.Context) -> str:
    """One line for an exception no command turned into a message itself."""
    from c2rag.errors import C2RAGError
    from c2rag.store.faults import translate

    known = exc if isinstance(exc, C2RAGError) else translate(exc, None, "use the index")
    if known is not None:
        return _one_line(str(known))
    command = ctx.invoked_subcommand or "c2rag"
    return _one_line(
        f"unexpected {type(exc).__name__}: {exc} (c2rag {command}); rerun with -v for the "
        "traceback and report it if the message does not say what to fix"
    )


def main() -> None:
    """Console-script entry point."""
    cli()
