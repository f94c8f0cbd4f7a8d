"""``c2rag index REPO [REPO ...] [--repos-file F] [--ray [ADDRESS]]``.

One repository without ``--ray`` is :mod:`c2rag.cli.index_cmd`'s ``index``, unchanged (its
options are taken over here, so the two never drift apart). Several repositories, a list
file or ``--ray`` run :class:`c2rag.org.OrgIndex`: one store, a collection per repository,
one embedding cache, embedding on a Ray cluster when asked.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

import click

from c2rag.cli import index_cmd
from c2rag.errors import C2RAGError

__all__ = ["index"]

_single = index_cmd.index


def _run(
    paths: tuple[str, ...],
    repos_file: str | None,
    ray_address: str | None,
    ray_actors: int | None,
    ray_threads: int | None,
    ray_batch_tokens: int | None,
    **opts: Any,
) -> None:
    if ray_address is not None and Path(ray_address).is_dir():
        # `--ray REPO ...`: the flag took the first repository as its address
        paths, ray_address = (ray_address, *paths), "local"
    if len(paths) <= 1 and repos_file is None and ray_address is None:
        path = paths[0] if paths else "."
        if not Path(path).is_dir():
            raise click.BadParameter(f"directory {path!r} does not exist", param_hint="REPO")
        _single.callback(path=path, **opts)  # type: ignore[misc]
        return
    try:
        settings = (ray_address, ray_actors, ray_threads, ray_batch_tokens)
        report = _run_org(paths, repos_file, settings, **opts)
    except (C2RAGError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if opts["as_json"]:
        import dataclasses

        click.echo(json.dumps(dataclasses.asdict(report), indent=2, default=str))
    else:
        click.echo(report.summary())
    if report.failed:
        raise click.exceptions.Exit(1)


def _run_org(
    paths: tuple[str, ...],
    repos_file: str | None,
    ray_settings: tuple[str | None, int | None, int | None, int | None],
    **opts: Any,
) -> Any:
    from c2rag.org import OrgIndex, read_repo_list
    from c2rag.org.indexer import stored_model

    repos = list(paths) + (read_repo_list(repos_file) if repos_file else [])
    if not repos:
        msg = "no repositories given (REPO arguments or --repos-file)"
        raise ValueError(msg)
    ray = None
    address, actors, threads, batch_tokens = ray_settings
    if address is not None:
        from c2rag.org.ray_embed import RayEmbedding, RaySettings

        # before any model load or planning: no Ray, or no cluster, fails at once
        ray = RayEmbedding(
            RaySettings(address=address, actors=actors, threads=threads, batch_tokens=batch_tokens),
            show_progress=bool(opts["progress"]),
        )
        if not logging.getLogger().isEnabledFor(logging.INFO):
            _quiet_ray_data()
    try:
        model = opts["model"] or stored_model(
            repos,
            store_dir=opts["store_dir"],
            chroma_host=opts["chroma_host"],
            chroma_port=opts["chroma_port"],
        )
        encoder, factory = _encoder(model, ray)
        if ray is not None:
            ray.use(factory, encoder)
        org = OrgIndex(
            repos,
            encoder=encoder,
            store_dir=opts["store_dir"],
            chroma_host=opts["chroma_host"],
            chroma_port=opts["chroma_port"],
            ray=ray,
            show_progress=bool(opts["progress"]),
        )
        return org.update(
            opts["ref"], worktree=opts["worktree"], branch=opts["branch"], rebuild=opts["rebuild"]
        )
    finally:
        if ray is not None:
            ray.close()


def _quiet_ray_data() -> None:
    """Without ``-v``, Ray Data's console shows only errors: it logs every execution's start,
    plan and end at INFO, and warns that its progress bars are off (c2rag draws its own). Its
    full log still goes to the Ray session's ``ray-data.log``."""
    import ray.data  # importing it installs the logging configuration changed here

    for handler in logging.getLogger(ray.data.__name__).handlers:
        console = isinstance(handler, logging.StreamHandler)
        if console and not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.ERROR)


def _encoder(model: str | None, ray: Any) -> tuple[Any, Any]:
    """The driver's encoder and a factory of the same one for the Ray actors (bf16 when
    the cluster has GPUs, so that both give one fingerprint)."""
    from c2rag.encode.engine import Encoder

    if model is None:
        from c2rag.encode.defaults import resolve_default_model

        default = resolve_default_model()
        if not default.is_fallback:
            click.echo(default.message, err=True)
        model = default.name_or_path
    dtype = "bf16" if ray is not None and ray.gpus() else None
    encoder = Encoder(model, device="cpu" if ray is not None else None, dtype=dtype)
    return encoder, functools.partial(Encoder, model, dtype=encoder.dtype)


_params: list[click.Parameter] = [
    click.Argument(["paths"], nargs=-1, type=click.Path(file_okay=False)),
    *(p for p in _single.params if p.name != "path"),
    click.Option(
        ["--repos-file"],
        type=click.Path(exists=True, dir_okay=False),
        help="Also index the repositories listed in this file (one path a line, # comments).",
    ),
    click.Option(
        ["--ray", "ray_address"],
        is_flag=False,
        flag_value="local",
        default=None,
        metavar="[ADDRESS]",
        help="Embed on a Ray cluster: ADDRESS as for ray.init (host:port, ray://host:port, "
        "auto); a local one when omitted. Put it after the repositories or write --ray=ADDRESS. "
        "Needs `pip install 'c2rag[ray]'`.",
    ),
    click.Option(
        ["--ray-actors"], type=click.IntRange(min=1), help="Encoder replicas [one per GPU]."
    ),
    click.Option(
        ["--ray-threads"],
        type=click.IntRange(min=1),
        help="Torch threads per CPU actor [min(8, CPUs / actors)].",
    ),
    click.Option(
        ["--ray-batch-tokens"],
        type=click.IntRange(min=1),
        help="Padded tokens per Ray batch, the unit that is cached as it completes "
        "[8 encoder calls' budget].",
    ),
]

index = click.Command(
    "index",
    callback=_run,
    params=_params,
    help=(_single.help or "")
    + "\n\nSeveral REPOs (or --repos-file) go into one store (--store; default "
    "$C2RAG_HOME/org), a collection each, sharing one embedding cache: code copied between "
    "repositories is embedded once. A REPO that is not a git repository is named in the "
    "summary and the others proceed (exit status 1).",
    short_help="Index one or many git repositories (optionally embedding on Ray).",
)
