"""Command-line options shared by the quality benchmarks: how c2rag's indexes are built
(``--signature-weight``), what is indexed (``--layout``) and the embedder's dtype
(``--dtype``)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_dtype", "add_layout", "add_signature_weight", "encoder_dtype", "index_options"]


def add_signature_weight(ap: argparse.ArgumentParser) -> None:
    ap.add_argument(
        "--signature-weight",
        type=float,
        default=None,
        help="CodeIndex signature_weight (default: the library's; 0 turns signature views off)",
    )


def index_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~c2rag.index.CodeIndex` options the arguments ask for."""
    weight = args.signature_weight
    return {} if weight is None else {"signature_weight": weight}


def add_layout(
    ap: argparse.ArgumentParser, *, applies_to: str = "", extra: dict[str, str] | None = None
) -> None:
    """``--layout package|repo``; ``applies_to`` prefixes the help ("Docstring sets: ");
    ``extra`` adds layouts of one benchmark (name: what it indexes)."""
    more = "".join(f"; {name}: {what}" for name, what in (extra or {}).items())
    what = (
        f"{applies_to}index the installed package alone, or its whole repository as its PyPI "
        f"source archive ships it (tests, docs, configuration; downloaded once){more}"
    )
    ap.add_argument(
        "--layout",
        choices=("package", "repo", *(extra or {})),
        default="package",
        help=what[0].upper() + what[1:],
    )


def add_dtype(ap: argparse.ArgumentParser) -> None:
    """``--dtype``: fp32 unless asked, so that quality figures do not depend on which dtype a
    machine's probe picks (bf16 moves near-tied ranks)."""
    ap.add_argument(
        "--dtype",
        default="fp32",
        help="Embedder dtype (fp32; 'auto' lets the library's probe choose, as users get)",
    )


def encoder_dtype(args: argparse.Namespace) -> str | None:
    """The ``dtype=`` for :class:`~c2rag.encode.engine.Encoder` (``None``: the probe)."""
    return None if args.dtype == "auto" else args.dtype
