"""``c2rag search`` and ``c2rag chat``: hybrid code search and multi-turn code QA."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from c2rag.errors import C2RAGError

__all__ = ["chat", "search"]


class _RepositoryDir(click.Path):
    """An existing directory; when it is missing and ``search``'s question names a directory,
    the error says that the question comes first (``chat`` and ``index`` take PATH first)."""

    def __init__(self) -> None:
        super().__init__(exists=True, file_okay=False, dir_okay=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            query = ctx.params.get("query") if ctx is not None else None
            if isinstance(query, str) and Path(query).is_dir():
                hint = f"the question comes first: c2rag search QUESTION {query}"
                self.fail(f"{exc.message} ({hint})", param, ctx)
            raise


def _index_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by the commands that open an index, plus the filters."""
    options = [
        click.argument("path", default=".", type=_RepositoryDir()),
        click.option("-k", "--top", "k", default=8, show_default=True, help="Results per query."),
        click.option("--model", default=None, help="Embedding model (default: the index's)."),
        click.option(
            "--store",
            "store_dir",
            type=click.Path(file_okay=False),
            envvar="C2RAG_STORE",
            help="Local data directory of the index (as given to `c2rag index`).",
        ),
        click.option("--chroma-host", envvar="C2RAG_CHROMA_HOST", help="Chroma server host."),
        click.option(
            "--chroma-port", type=int, envvar="C2RAG_CHROMA_PORT", help="Chroma server port."
        ),
        click.option("--glob", "paths", multiple=True, help="Only paths matching (repeatable)."),
        click.option("--exclude", "exclude_paths", multiple=True, help="Skip paths matching."),
        click.option("--language", "languages", multiple=True, help="Only this language."),
        click.option("--kind", "kinds", multiple=True, help="Only chunks of this kind."),
        click.option(
            "--branch",
            "--ref",
            "branch",
            default=None,
            help="The indexed snapshot to search: a branch, or the tag/commit label given to "
            "`c2rag index --ref`. Default: the checked-out branch's.",
        ),
        click.option(
            "--repo",
            "repos",
            multiple=True,
            type=click.Path(file_okay=False),
            help="Search these repositories together (repeatable; indexed by `c2rag index "
            "REPO REPO ...`); citations then name the repository. Replaces PATH.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _open(opts: dict[str, Any]) -> Any:
    if opts.get("repos"):
        from c2rag.org.search import MultiRepoRetriever

        return MultiRepoRetriever.from_paths(
            opts["repos"],
            model=opts["model"],
            store_dir=opts["store_dir"],
            chroma_host=opts["chroma_host"],
            chroma_port=opts["chroma_port"],
        )

    from c2rag.git import GitRepo
    from c2rag.store import IndexStore, StoreLocation

    # Reach the store (a Chroma server may be down, the index may be missing) before importing
    # torch and loading the model, which take many seconds: a bad setup fails in about two.
    with GitRepo(opts["path"]) as repo:
        location = StoreLocation.for_repo(
            repo.root,
            store_dir=opts["store_dir"],
            host=opts["chroma_host"],
            port=opts["chroma_port"],
        )
    IndexStore.open(location).close()

    from c2rag.retrieve import CodeRetriever

    retriever = CodeRetriever.from_path(
        opts["path"],
        model=opts["model"],
        store_dir=opts["store_dir"],
        chroma_host=opts["chroma_host"],
        chroma_port=opts["chroma_port"],
    )
    from c2rag.retrieve import SearchFilters
    from c2rag.retrieve.settings import check_filter_values

    try:
        check_filter_values(retriever, SearchFilters.coerce(_filters(opts)))
    except ValueError:
        retriever.close()
        raise
    return retriever


def _filters(opts: dict[str, Any]) -> dict[str, Any]:
    keys = ("paths", "exclude_paths", "languages", "kinds", "branch")
    return {key: opts[key] for key in keys if opts[key]}


@click.command()
@click.argument("query")
@_index_options
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
@click.option(
    "--context",
    "budget",
    type=int,
    default=None,
    help="Print packed context within this many tokens instead of a list.",
)
@click.option(
    "--neighbours", default=0, show_default=True, help="Add callees/callers of the top hit."
)
def search(query: str, as_json: bool, budget: int | None, neighbours: int, **opts: Any) -> None:
    """Search the index of the repository at PATH (default: here) for QUERY.

    \b
    Examples:
      c2rag search "where do we retry failed uploads?"
      c2rag search "RetryPolicy.backoff" --glob "src/**" --json
    """
    from c2rag.context import pack_context
    from c2rag.context.model import copies_note
    from c2rag.retrieve.gitview import GitView
    from c2rag.retrieve.metadata import hit_metadata

    try:
        retriever = _open(opts)
        result = retriever.search_detailed(
            query, k=opts["k"], filters=_filters(opts), neighbours=neighbours
        )
    except (C2RAGError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if as_json:
        rows = [{**hit_metadata(h), "text": h.chunk.text} for h in result.hits]
        click.echo(json.dumps(rows, indent=2))
        return
    if not result.hits:
        click.echo("No results.")
        return
    if budget is not None:
        git = retriever if opts["repos"] else GitView(retriever.repo)
        packed = pack_context(
            result.hits, budget_tokens=budget, source=git.source, freshness=git.freshness
        )
        click.echo(packed.render())
        _echo_dropped(packed)
        return
    for n, hit in enumerate(result.hits, 1):
        via = ", ".join(sorted(hit.channels))
        click.echo(f"{n:>2}. {hit.citation}  {hit.chunk.name}  [{hit.score:.4f}; {via}]")
        if hit.copies:
            click.echo(f"    {copies_note(hit.copies)}")


@click.command()
@_index_options
@click.option(
    "--turn",
    "turns",
    multiple=True,
    help="Ask these questions in order and exit (repeatable); without it, ask interactively.",
)
@click.option("--budget", default=3000, show_default=True, help="Context tokens per turn.")
@click.option("--json", "as_json", is_flag=True, help="Print each turn as JSON.")
def chat(turns: Sequence[str], budget: int, as_json: bool, **opts: Any) -> None:
    """Multi-turn code QA over the repository at PATH (or the --repo repositories, with
    citations that name the repository): each turn shows the new context it found (with
    citations) and references to what earlier turns already showed.

    \b
    Examples:
      c2rag chat
      c2rag chat . --turn "where are uploads retried?" --turn "who calls it?"
      c2rag chat --repo svc-a --repo svc-b --turn "where are uploads retried?"
    """
    from c2rag.retrieve import CodeQASession

    try:
        session = CodeQASession(
            _open(opts), budget_tokens=budget, k=opts["k"], filters=_filters(opts)
        )
    except (C2RAGError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    questions = iter(turns) if turns else _prompt_forever()
    for n, question in enumerate(questions, 1):
        try:
            turn = session.ask(question)
        except ValueError as exc:
            if turns:
                raise click.ClickException(str(exc)) from exc
            click.echo(f"error: {exc}", err=True)
            continue
        if as_json:
            click.echo(json.dumps(_turn_json(turn)))
            continue
        click.secho(f"\n=== Turn {n}: {question}", bold=True)
        if turn.follow_up:
            click.echo(f"(follow-up about: {', '.join(turn.focus)})")
        for note in turn.notes:
            click.echo(f"note: {note}", err=True)
        click.echo(turn.render() or "No matching code found.")
        _echo_dropped(turn.context)
        cites = ", ".join(str(c) for c in turn.new_citations) or "none"
        click.secho(f"--- new citations: {cites}", dim=True)


def _prompt_forever() -> Any:
    click.echo("Ask about the code (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = click.prompt(">", default="", show_default=False)
        except (EOFError, click.Abort):
            return
        if not question.strip() or question.strip() in {"exit", "quit"}:
            return
        yield question


# Why hits were left out of the packed context, in the words docs/cli.md defines.
_DROP_WORDS = {
    "budget": "did not fit the budget",
    "per_file_cap": "over the per-file limit",
    "duplicate": "duplicates",
    "in_skeleton": "shown in their class outline",
    "members_shown": "outline replaced by members",
}


def _echo_dropped(packed: Any) -> None:
    if packed.dropped:
        reasons: dict[str, int] = {}
        for d in packed.dropped:
            reasons[d.reason] = reasons.get(d.reason, 0) + 1
        summary = ", ".join(f"{n} {_DROP_WORDS.get(r, r)}" for r, n in sorted(reasons.items()))
        click.secho(f"(left out: {summary})", dim=True)


def _turn_json(turn: Any) -> dict[str, Any]:
    ctx = turn.context
    return {
        "question": turn.question,
        "follow_up": turn.follow_up,
        "focus": list(turn.focus),
        "snippets": [
            {"citation": str(s.citation), "symbols": list(s.symbols), "text": s.text}
            for s in ctx.snippets
        ],
        "references": [{"citation": str(r.citation), "symbol": r.symbol} for r in ctx.references],
        "dropped": [{"citation": str(d.citation), "reason": d.reason} for d in ctx.dropped],
        "used_tokens": ctx.used_tokens,
        "notes": list(turn.notes),
    }
