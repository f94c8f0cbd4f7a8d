"""``c2rag eval``: measure retrieval on your own repository (docstring → function)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from c2rag.errors import C2RAGError

if TYPE_CHECKING:
    from c2rag.retrieve.evaluate import Metrics

__all__ = ["eval_"]

_MIN_LANGUAGE_QUERIES = 10


@click.command("eval")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, dir_okay=True))
@click.option(
    "--model",
    default=None,
    help="Embedding model (default: the repository index's own model, else c2rag's default).",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False),
    envvar="C2RAG_STORE",
    help="Data directory of the repository's index, whose cached vectors are reused.",
)
@click.option("--ref", default="HEAD", show_default=True, help="Commit to read the code from.")
@click.option("--max-queries", default=200, show_default=True, help="Sample this many queries.")
@click.option("-k", "k", default=10, show_default=True, help="Cut-off of MRR@k and recall@k.")
@click.option("--seed", default=0, show_default=True, help="Sampling seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def eval_(
    path: str,
    model: str | None,
    store_dir: str | None,
    ref: str,
    max_queries: int,
    k: int,
    seed: int,
    as_json: bool,
) -> None:
    """Score dense, BM25, naive fusion and c2rag's hybrid retrieval on the repository at PATH.

    Queries are built the CodeSearchNet way: the first sentence of each function's docstring
    (Python) or doc comment (JSDoc, Javadoc, Go, Rust, C and the other parsed languages) is the
    query, and the code is indexed with them removed (in a scratch copy; your index is not
    touched). A query counts as answered at the rank of the first result
    overlapping its function. Prints MRR@k and recall@k per configuration, and a line reading
    them; for a repository in several languages, the same for each language.

    Before it embeds anything it says what it will cost: chunk texts the repository's index
    already embedded with the same model (every function the stripping left unchanged) are
    reused from its cache, and the rest is timed on a small sample.
    """
    from c2rag.encode.engine import Encoder
    from c2rag.eval_runner import code_files, docstring_eval, reading

    try:
        files = code_files(path, ref=ref)
        if not files:
            msg = f"no source files in {path} at {ref}: `c2rag eval` builds queries from docstrings"
            raise click.ClickException(msg)
        cache, index_model = _repository_index(path, store_dir)
        encoder = Encoder(model or index_model)
        with tempfile.TemporaryDirectory(prefix="c2rag-eval-") as work:
            measured = docstring_eval(
                files,
                encoder,
                Path(work),
                max_cases=max_queries,
                k=k,
                seed=seed,
                reuse_cache=cache,
                on_cost=lambda cost: click.echo(cost.describe(), err=True),
            )
    except C2RAGError as exc:
        raise click.ClickException(str(exc)) from exc
    results = measured.results
    if not results:
        msg = (
            f"no function in {path} has a docstring or doc comment whose first sentence "
            "has 3+ words"
        )
        raise click.ClickException(msg)
    n = next(iter(results.values())).n
    if as_json:
        report: dict[str, Any] = {
            "files": measured.files,
            "queries": n,
            "model": encoder.model_name,
            "results": _json_rows(results),
        }
        if measured.by_language:
            report["by_language"] = {
                language: _json_rows(rows) for language, rows in measured.by_language.items()
            }
        click.echo(json.dumps(report))
        return
    click.echo(f"{n} queries from {measured.files} source files, model {encoder.model_name}")
    _echo_table(results, k)
    click.echo(reading(results))
    few: list[str] = []
    for language, rows in measured.by_language.items():
        queries = next(iter(rows.values())).n
        if queries < _MIN_LANGUAGE_QUERIES:  # a table over a handful of queries reads as noise
            few.append(f"{language} {queries}")
            continue
        click.echo(f"\n{language} ({queries} queries)")
        _echo_table(rows, k)
        click.echo(reading(rows))
    if few:
        click.echo(f"\nToo few queries for a table of their own: {', '.join(few)} (in --json).")


def _json_rows(results: Mapping[str, Metrics]) -> dict[str, dict[str, float]]:
    return {
        name: {"mrr": m.mrr, "recall": m.recall, "n": m.n, "k": m.k} for name, m in results.items()
    }


def _echo_table(results: Mapping[str, Metrics], k: int) -> None:
    click.echo(f"{'configuration':<32} {'MRR@' + str(k):>8} {'recall@' + str(k):>10}")
    for name, m in results.items():
        click.echo(f"{name:<32} {m.mrr:>8.3f} {m.recall:>10.3f}")


def _repository_index(path: str, store_dir: str | None) -> tuple[Path | None, str | None]:
    """The embedding cache and model of the repository's own index, when it has one."""
    from c2rag.errors import IndexNotFoundError
    from c2rag.index import CodeIndex

    index = CodeIndex(path, store_dir=store_dir)
    try:
        store = index.open_store()
    except IndexNotFoundError:
        return None, None
    with store:
        manifest = store.manifest
        model = (manifest.model_ref or manifest.model_name) if manifest else None
    return index.location.cache_path, model
