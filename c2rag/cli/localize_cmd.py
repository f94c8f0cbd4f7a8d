"""``c2rag localize``: the files and functions a bug report or stack trace points at."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from c2rag.cli.search_cmd import _filters, _index_options, _open
from c2rag.errors import C2RAGError

__all__ = ["localize"]


@click.command()
@_index_options
@click.option("--text", "text", default=None, help="The report text.")
@click.option(
    "--file",
    "report",
    type=click.File("r", encoding="utf-8", errors="replace"),
    default=None,
    help="Read the report from this file ('-' for standard input).",
)
@click.option("--symbols", default=5, show_default=True, help="Functions listed per file.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def localize(text: str | None, report: Any, symbols: int, as_json: bool, **opts: Any) -> None:
    """Rank the files (and functions in them) of the repository at PATH that a bug report,
    issue, stack trace or code fragment points at; -k is the number of files.

    \b
    Examples:
      c2rag localize . --file issue.md
      pytest 2>&1 | c2rag localize . --file - --json
      c2rag localize . --text "KeyError in RetryPolicy.backoff when Retry-After is empty"
    """
    if (text is None) == (report is None):
        raise click.UsageError("give the report with exactly one of --text or --file")
    body = text if text is not None else report.read()
    try:
        retriever = _open(opts)
        result = retriever.localize(
            body, k=opts["k"], filters=_filters(opts), symbols_per_file=symbols
        )
    except (C2RAGError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if as_json:
        click.echo(json.dumps([_file_json(f) for f in result.files], indent=2))
        return
    click.echo(result.render() if result.files else "No matching files.")


def _file_json(location: Any) -> dict[str, Any]:
    data = asdict(location)
    for symbol, raw in zip(location.symbols, data["symbols"], strict=True):
        raw["citation"] = str(symbol.citation)
        raw["citations"] = [str(c) for c in symbol.citations]
    return data
