"""``c2rag mcp``: serve an indexed repository (or several) to MCP clients over stdio."""

from __future__ import annotations

import click

__all__ = ["mcp"]


@click.command()
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, dir_okay=True))
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False),
    envvar="C2RAG_STORE",
    help="Local data directory of the index (as given to `c2rag index`).",
)
@click.option("--chroma-host", envvar="C2RAG_CHROMA_HOST", help="Chroma server host.")
@click.option("--chroma-port", type=int, envvar="C2RAG_CHROMA_PORT", help="Chroma server port.")
@click.option("--model", "-m", help="Embedding model. Default: the index's own model.")
@click.option(
    "--repo",
    "repos",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="Serve these repositories together (repeatable; indexed by `c2rag index REPO REPO "
    "...`); citations then name the repository. Replaces PATH.",
)
@click.option(
    "--budget",
    default=6000,
    show_default=True,
    type=click.IntRange(min=200),
    help="Token budget of each search_code answer.",
)
def mcp(
    path: str,
    store_dir: str | None,
    chroma_host: str | None,
    chroma_port: int | None,
    model: str | None,
    repos: tuple[str, ...],
    budget: int,
) -> None:
    """Serve the index of the repository at PATH to an MCP client (stdio).

    Tools: search_code (hybrid search, cited snippets, follow-ups), open_chunk (a
    citation's current lines and whether they changed) and index_status. Build the index
    first with `c2rag index PATH`. With --repo A --repo B the tools cover every repository
    given (indexed together by `c2rag index A B`) and citations read repo:path:start-end@sha.
    Example client configuration:

    \b
        {"mcpServers": {"c2rag": {"command": "c2rag", "args": ["mcp", "/path/to/repo"]}}}
    """
    from c2rag.errors import C2RAGError
    from c2rag.mcp_server import OrgTools, RepoTools, build_server

    where = {
        "model": model,
        "store_dir": store_dir,
        "chroma_host": chroma_host,
        "chroma_port": chroma_port,
        "budget_tokens": budget,
    }
    try:
        tools = OrgTools(list(repos), **where) if repos else RepoTools(path, **where)
        server = build_server(tools)
    except (C2RAGError, ImportError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    server.run("stdio")
