"""Search filters (path globs, language, kind, branch), compiled once for every channel.

The dense channel gets a Chroma ``where`` clause; the lexical and symbol channels get the set
of allowed chunk ids, computed from the lexical index's symbol table (plus, for a branch,
the ids Chroma marks with ``branch:<name>``). Both describe the same chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pathspec

from c2rag.store.symbols import SymbolTable

__all__ = ["CompiledFilters", "Scope", "SearchFilters", "compile_filters", "emptied_by"]

_KINDS = ("function", "method", "class", "module", "window")


@dataclass(frozen=True)
class SearchFilters:
    """Which chunks a search may return. Empty fields do not filter.

    Attributes:
        paths: Git-style globs (``src/**/*.py``, ``*.ts``, ``docs/``); a chunk must match one.
        exclude_paths: Globs a chunk must not match.
        languages: Language names (``python``, ``typescript``, …).
        kinds: Chunk kinds among ``function``, ``method``, ``class``, ``module``, ``window``.
        branch: Only chunks present on this indexed branch.
    """

    paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    branch: str | None = None

    def __post_init__(self) -> None:
        for name in ("paths", "exclude_paths", "languages", "kinds"):
            value = getattr(self, name)
            if isinstance(value, str):  # a lone string is one item, not its characters
                object.__setattr__(self, name, (value,))
            else:
                object.__setattr__(self, name, tuple(value))
        bad = sorted(set(self.kinds) - set(_KINDS))
        if bad:
            msg = f"unknown chunk kind(s) {bad} in filters; valid kinds: {list(_KINDS)}"
            raise ValueError(msg)

    @property
    def empty(self) -> bool:
        return not (self.paths or self.exclude_paths or self.languages or self.kinds or self.branch)

    @classmethod
    def coerce(cls, value: SearchFilters | Mapping[str, Any] | None) -> SearchFilters:
        """Accept filters as an instance, a mapping of its fields, or ``None``."""
        if value is None:
            return cls()
        if isinstance(value, SearchFilters):
            return value
        unknown = set(value) - set(cls.__dataclass_fields__)
        if unknown:
            msg = f"unknown filter(s) {sorted(unknown)}; valid: {sorted(cls.__dataclass_fields__)}"
            raise ValueError(msg)
        return cls(**value)


@dataclass(frozen=True)
class CompiledFilters:
    """Filters resolved against one index.

    Attributes:
        allowed: Allowed chunk ids, or ``None`` when nothing is filtered.
        where: The Chroma ``where`` clause for the dense channel, or ``None``.
    """

    allowed: frozenset[str] | None
    where: dict[str, Any] | None
    branch_ids: frozenset[str] | None = None

    @property
    def matches_nothing(self) -> bool:
        return self.allowed is not None and not self.allowed

    def admits(self, chunk_id: str) -> bool:
        return self.allowed is None or chunk_id in self.allowed

    @property
    def predicate(self) -> Callable[[str], bool] | None:
        """:attr:`allowed` as the channels take it: ``None`` when nothing is filtered."""
        return None if self.allowed is None else self.allowed.__contains__


@dataclass(frozen=True)
class Scope:
    """What one search may return.

    Attributes:
        filters: The caller's filters, restricted to the snapshot searched.
        compiled: Those filters resolved against the index.
        empty_note: Which filter leaves nothing to return; ``None`` when something matches.
    """

    filters: SearchFilters
    compiled: CompiledFilters
    empty_note: str | None = None


def compile_filters(
    filters: SearchFilters,
    symbols: SymbolTable,
    *,
    branch_ids: frozenset[str] | None = None,
) -> CompiledFilters:
    """Resolve filters to allowed ids and a Chroma clause.

    Args:
        filters: What to keep.
        symbols: The lexical index's symbol table (path, language, kind per id).
        branch_ids: Ids on ``filters.branch`` (from Chroma); required when a branch is set.

    Raises:
        ValueError: A language no chunk of the index has (the message lists those it has).
    """
    if filters.empty:
        return CompiledFilters(None, None)
    if filters.languages:
        known = {info.language for _, info in symbols}
        unknown = sorted(set(filters.languages) - known)
        if unknown:
            msg = (
                f"unknown language(s) {unknown} in filters; languages in this index: "
                f"{sorted(known)}"
            )
            raise ValueError(msg)
    include = pathspec.GitIgnoreSpec.from_lines(filters.paths)
    exclude = pathspec.GitIgnoreSpec.from_lines(filters.exclude_paths)
    path_ok: dict[str, bool] = {}
    allowed: set[str] = set()
    for cid, info in symbols:
        ok = path_ok.get(info.path)
        if ok is None:
            ok = path_ok[info.path] = (
                not filters.paths or include.match_file(info.path)
            ) and not exclude.match_file(info.path)
        if not ok:
            continue
        if filters.languages and info.language not in filters.languages:
            continue
        if filters.kinds and info.kind not in filters.kinds:
            continue
        if branch_ids is not None and cid not in branch_ids:
            continue
        allowed.add(cid)
    clauses: list[dict[str, Any]] = []
    if filters.paths or filters.exclude_paths:
        clauses.append({"path": {"$in": sorted(p for p, ok in path_ok.items() if ok) or [""]}})
    if filters.languages:
        clauses.append({"language": {"$in": list(filters.languages)}})
    if filters.kinds:
        clauses.append({"kind": {"$in": list(filters.kinds)}})
    if filters.branch:
        clauses.append({f"branch:{filters.branch}": True})
    where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
    return CompiledFilters(frozenset(allowed), where, branch_ids)


def emptied_by(
    filters: SearchFilters,
    symbols: SymbolTable,
    *,
    branch_ids: frozenset[str] | None = None,
) -> str:
    """A note naming the filter that leaves no chunk (or saying that only their combination
    does), for a search whose filters match nothing."""
    fields = [
        (name, getattr(filters, name))
        for name in ("paths", "exclude_paths", "languages", "kinds", "branch")
        if getattr(filters, name)
    ]
    for name, value in fields:
        alone = compile_filters(SearchFilters(**{name: value}), symbols, branch_ids=branch_ids)
        if alone.matches_nothing:
            shown = list(value) if isinstance(value, tuple) else value
            return f"no results: filter {name}={shown!r} matches no indexed chunk"
    names = ", ".join(f"{n}={list(v) if isinstance(v, tuple) else v!r}" for n, v in fields)
    return f"no results: no indexed chunk matches all of the filters together ({names})"
