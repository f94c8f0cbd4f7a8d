"""``c2rag index`` and ``c2rag status``: build or update a repository's index, or report on it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from c2rag.errors import C2RAGError

__all__ = ["index", "status"]

F = TypeVar("F", bound=Callable[..., Any])


def _store_options(func: F) -> F:
    """Options shared by the commands that find an index."""
    options = [
        click.argument(
            "path", default=".", type=click.Path(exists=True, file_okay=False, dir_okay=True)
        ),
        click.option(
            "--store",
            "store_dir",
            type=click.Path(file_okay=False),
            envvar="C2RAG_STORE",
            help="Local data directory (embedded Chroma, embedding cache, lock, lexical index). "
            "Default: $C2RAG_HOME or the user data dir, one per repository.",
        ),
        click.option(
            "--chroma-host",
            envvar="C2RAG_CHROMA_HOST",
            help="Keep vectors on this Chroma server (`chroma run`); the cache stays local.",
        ),
        click.option(
            "--chroma-port", type=int, envvar="C2RAG_CHROMA_PORT", help="Chroma server port [8000]."
        ),
        click.option("--ref", default="HEAD", show_default=True, help="Branch, tag or commit."),
        click.option(
            "--branch",
            default=None,
            help="Label to index under (default: the checked-out branch for HEAD, else REF).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    ]

    @wraps(func)
    def bundled(
        path: str,
        store_dir: str | None,
        chroma_host: str | None,
        chroma_port: int | None,
        **rest: Any,
    ) -> Any:
        where = {
            "repo_path": path,
            "store_dir": store_dir,
            "chroma_host": chroma_host,
            "chroma_port": chroma_port,
        }
        return func(where=where, **rest)

    command: Any = bundled
    for option in reversed(options):
        command = option(command)
    return command  # type: ignore[no-any-return]


def _user_errors(func: F) -> F:
    """Turn c2rag's own errors into clean one-line CLI errors (exit status 1)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (C2RAGError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def _echo_result(result: Any, *, as_json: bool) -> None:
    if as_json:
        data = dataclasses.asdict(result)
        if hasattr(result, "up_to_date"):
            data["up_to_date"] = result.up_to_date
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(result.summary())


@click.command()
@_store_options
@click.option(
    "--model",
    "-m",
    help="Embedding model (hub id or local path). Default: the index's own model; for a new "
    "index $C2RAG_MODEL, else C2LLM-0.5B if cached, else the bundled MiniLM.",
)
@click.option(
    "--worktree", is_flag=True, help="Also index modified and untracked (not ignored) files."
)
@click.option("--rebuild", is_flag=True, help="Drop the index first (cached vectors are kept).")
@click.option("--progress/--no-progress", default=None, help="Progress bars [default: on a tty].")
@click.option(
    "--secrets",
    type=click.Choice(["skip", "redact", "off"]),
    default="skip",
    show_default=True,
    help="Detected secrets: skip files holding a credential of a known format and redact "
    "generic findings (keywords, high-entropy strings), redact every finding, or do not scan.",
)
@click.option(
    "--calibrate/--no-calibrate",
    default=True,
    show_default=True,
    help="Measure the embedding and BM25 on the repository's documented functions (first "
    "build, and when the index grows or shrinks by half); search weighs BM25 by it.",
)
@_user_errors
def index(
    *,
    where: dict[str, Any],
    ref: str,
    branch: str | None,
    as_json: bool,
    model: str | None,
    worktree: bool,
    rebuild: bool,
    progress: bool | None,
    secrets: str,
    calibrate: bool,
) -> None:
    """Index the git repository at PATH: first in full, then incrementally by git diff.

    Files come from git objects at REF (so .gitignore holds), function by function; only
    chunk texts never embedded before are sent to the model.
    """
    from c2rag.index import CodeIndex

    options = {**where, "show_progress": progress}
    if model is None and not CodeIndex(**options).exists():
        # A new index: say plainly which model it gets (an existing one keeps its own).
        from c2rag.encode.defaults import resolve_default_model

        default = resolve_default_model()
        if not default.is_fallback:  # a fallback has said so already, as a logged warning
            click.echo(default.message, err=True)
        model = default.name_or_path
    code_index = CodeIndex(model=model, secrets=secrets, calibrate=calibrate, **options)  # type: ignore[arg-type]
    report = code_index.update(ref, worktree=worktree, branch=branch, rebuild=rebuild)
    _echo_result(report, as_json=as_json)


@click.command()
@_store_options
@_user_errors
def status(*, where: dict[str, Any], ref: str, branch: str | None, as_json: bool) -> None:
    """Show which commit of PATH is indexed, against REF, and the files changed since."""
    from c2rag.encode.device import describe_cpu_dtype
    from c2rag.index import CodeIndex

    report = CodeIndex(**where).status(ref, branch=branch)
    _echo_result(report, as_json=as_json)
    if not as_json:
        click.echo(describe_cpu_dtype(report.model_ref or report.model_name or None))
