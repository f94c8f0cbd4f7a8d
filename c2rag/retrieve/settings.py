"""Every option of ``c2rag search`` as one serialisable record, for the framework adapters.

The LangChain and LlamaIndex retrievers keep a :class:`RetrieverSettings` rather than an open
index, so they can be saved as JSON, pickled and reopened elsewhere: the index is opened on
first use from these settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from c2rag.retrieve.filters import SearchFilters

if TYPE_CHECKING:
    from c2rag.retrieve.retriever import CodeRetriever
    from c2rag.types import Hit

__all__ = ["RetrieverSettings", "check_filter_values"]


@dataclass(frozen=True)
class RetrieverSettings:
    """Where the index is and how to search it: the options ``c2rag search`` takes.

    Attributes:
        repo_path: A path inside the indexed git work tree.
        model: Embedding model; ``None`` uses the index's own.
        store_dir: Local data directory of the index (``--store``), if not the default.
        chroma_host: Chroma server host (``--chroma-host``) instead of a local directory.
        chroma_port: Its port.
        filters: Path globs, languages, kinds and branch (a mapping of
            :class:`~c2rag.retrieve.SearchFilters` fields is accepted).
        k: Hits per query.
        budget_tokens: Keep only the best hits whose packed context fits this many tokens;
            ``None`` keeps all ``k``.
        neighbours: Also return up to this many callees/callers of the top hit.

    Raises:
        ValueError: For an unknown filter, ``k < 1``, ``neighbours < 0`` or ``budget_tokens < 1``
            (the message names the setting).
    """

    repo_path: str = "."
    model: str | None = None
    store_dir: str | None = None
    chroma_host: str | None = None
    chroma_port: int | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)
    k: int = 8
    budget_tokens: int | None = None
    neighbours: int = 0

    def __post_init__(self) -> None:
        for name in ("repo_path", "model", "store_dir"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))
        object.__setattr__(self, "filters", SearchFilters.coerce(self.filters))
        if self.k < 1:
            msg = f"k must be at least 1, got {self.k}"
            raise ValueError(msg)
        if self.neighbours < 0:
            msg = f"neighbours must be 0 or more, got {self.neighbours}"
            raise ValueError(msg)
        if self.budget_tokens is not None and self.budget_tokens < 1:
            msg = f"budget_tokens must be a positive number of tokens, got {self.budget_tokens}"
            raise ValueError(msg)

    @classmethod
    def build(cls, *, branch: str | None = None, **options: Any) -> RetrieverSettings:
        """Settings from keyword options, ``branch`` folded into the filters.

        Raises:
            ValueError: For an option that is not a setting (valid ones listed).
        """
        unknown = set(options) - {f.name for f in fields(cls)}
        if unknown:
            valid = sorted({f.name for f in fields(cls)} | {"branch"})
            msg = f"unknown option(s) {sorted(unknown)}; valid: {valid}"
            raise ValueError(msg)
        settings = cls(**options)
        if branch is not None:
            settings = replace(settings, filters=replace(settings.filters, branch=branch))
        return settings

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples become lists)."""
        data = asdict(self)
        data["filters"] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in data["filters"].items()
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetrieverSettings:
        return cls.build(**dict(data))

    def open(self) -> CodeRetriever:
        """Open the index with its model (see :meth:`CodeRetriever.from_path`)."""
        from c2rag.retrieve.retriever import CodeRetriever

        return CodeRetriever.from_path(
            self.repo_path,
            model=self.model,
            store_dir=self.store_dir,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
        )

    def search(self, retriever: Any, query: str) -> list[Hit]:
        """Search with these settings, then keep what fits ``budget_tokens``.

        Raises:
            ValueError: For an empty query, or a branch or language the index does not hold.
        """
        check_filter_values(retriever, self.filters)
        hits = retriever.search(query, k=self.k, filters=self.filters, neighbours=self.neighbours)
        if self.budget_tokens is None or not hits:
            return hits
        from c2rag.context import pack_context

        kept = set(pack_context(hits, budget_tokens=self.budget_tokens).ids)
        return [hit for hit in hits if hit.id in kept]


def check_filter_values(retriever: Any, filters: SearchFilters) -> None:
    """Refuse a branch or language the index does not hold, instead of an empty answer (for
    several repositories searched together, one that any of them holds).

    Raises:
        ValueError: Naming the unknown value and listing what the index has.
    """
    parts = list(getattr(retriever, "retrievers", {"": retriever}).values())
    manifests = [m for r in parts if (m := getattr(r.store, "manifest", None)) is not None]
    branches = {b for m in manifests for b in m.branches}
    if filters.branch and manifests and filters.branch not in branches:
        indexed = ", ".join(sorted(branches)) or "none"
        msg = (
            f"branch {filters.branch!r} is not indexed (indexed: {indexed}); index it with "
            f"`c2rag index --ref {filters.branch}`"
        )
        raise ValueError(msg)
    if filters.languages:
        present = {info.language for r in parts for _, info in r.lexical.symbols}
        missing = sorted(set(filters.languages) - present)
        if missing:
            msg = (
                f"no indexed code in language(s) {missing}; the index has: "
                f"{', '.join(sorted(present)) or 'nothing'}"
            )
            raise ValueError(msg)
