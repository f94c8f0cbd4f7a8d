"""CodeRetriever: hybrid search of one indexed repository for a question or a conversation."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c2rag.retrieve.channels import (
    Mention,
    dense_channel,
    dialogue_mentions,
    identifier_share,
    lexical_channel,
    lexical_tokens,
    symbol_channel,
)
from c2rag.retrieve.dialogue import DialogueQuery, HistoryOrder, as_turns, build_query
from c2rag.retrieve.filters import CompiledFilters, SearchFilters, compile_filters
from c2rag.retrieve.fusion import FusionWeights, weighted_rrf
from c2rag.retrieve.neighbours import callees, callers
from c2rag.store.lexical import LexicalIndex
from c2rag.types import Embedder, Hit

if TYPE_CHECKING:
    from c2rag.retrieve.localize import Localization

__all__ = ["CodeRetriever", "SearchResult"]

logger = logging.getLogger(__name__)

# Tokens kept free of the query text for the instruction prompt the encoder prepends.
_PROMPT_ALLOWANCE = 48
# A question is about named code when at least this share of its words are code names.
_CODE_QUERY_SHARE = 0.25


@dataclass(frozen=True)
class SearchResult:
    """Hits with how they were found.

    Attributes:
        hits: Fused results, best first (then neighbours, when asked for).
        query: The query as the channels saw it.
        rankings: Each channel's own ranking (ids and raw scores).
        notes: Adjustments made to the query (truncation, dropped turns).
        has_identifiers: Whether the query is mostly about named code (selects the fusion
            weights; see :func:`c2rag.retrieve.channels.identifier_share`).
    """

    hits: list[Hit]
    query: DialogueQuery
    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    has_identifiers: bool = False


class CodeRetriever:
    """Hybrid (dense + BM25 + symbol) search over a c2rag index of one repository.

    Args:
        store: An open :class:`c2rag.store.IndexStore`.
        encoder: The embedder the index was built with (checked against the index).
        repo: The repository, used to cut exact lines for citations; optional.
        weights: Channel weights for fusion.
        single_turn_task: Encoder task (prompt) for a lone question.
        multi_turn_task: Encoder task for a conversation (C2LLM's CodeFeedbackMT prompt).
        history_order: How the kept turns are ordered in the embedded text.
        max_history_turns: Embed at most this many most recent turns.
        candidates: How deep each channel searches before fusion.

    Raises:
        IndexMismatchError: If the index was built with another model or dimension.

    Example:
        >>> retriever = CodeRetriever.from_path(".")
        >>> for hit in retriever.search("where do we retry failed uploads?", k=5):
        ...     print(hit.citation, hit.chunk.name)
    """

    def __init__(
        self,
        store: Any,
        encoder: Embedder,
        repo: Any = None,
        *,
        weights: FusionWeights | None = None,
        single_turn_task: str = "text2code",
        multi_turn_task: str = "codeqa_multiturn",
        history_order: HistoryOrder = "chronological",
        max_history_turns: int | None = None,
        candidates: int = 50,
    ) -> None:
        store.check_compatible(encoder)
        if candidates <= 0:
            msg = f"candidates must be positive, got {candidates}"
            raise ValueError(msg)
        self.store = store
        self.encoder = encoder
        self.repo = repo
        self.weights = weights or FusionWeights()
        self.single_turn_task = single_turn_task
        self.multi_turn_task = multi_turn_task
        self.history_order: HistoryOrder = history_order
        self.max_history_turns = max_history_turns
        self.candidates = candidates

    @classmethod
    def from_path(
        cls,
        repo_path: str | os.PathLike[str],
        *,
        model: str | os.PathLike[str] | None = None,
        store_dir: str | os.PathLike[str] | None = None,
        chroma_host: str | None = None,
        chroma_port: int | None = None,
        **options: Any,
    ) -> CodeRetriever:
        """Open the index of the repository at ``repo_path`` with its model.

        Args:
            repo_path: A path inside the git work tree that was indexed.
            model: The embedding model; the index's own model when omitted.
            store_dir: Where the index lives, if not the default.
            chroma_host: A Chroma server host instead of a local directory.
            chroma_port: Its port.
            **options: Passed to :class:`CodeRetriever`.

        Raises:
            IndexNotFoundError: No index yet (the message says how to build one).
            IndexMismatchError: ``model`` is not the model the index was built with.
        """
        from c2rag.encode.engine import Encoder
        from c2rag.git import GitRepo
        from c2rag.store import IndexStore, StoreLocation

        repo = GitRepo(Path(repo_path))
        store = None
        try:
            location = StoreLocation.for_repo(
                repo.root, store_dir=store_dir, host=chroma_host, port=chroma_port
            )
            store = IndexStore.open(location)
            if model is None and store.manifest is not None:
                model = store.manifest.model_ref or store.manifest.model_name
            return cls(store, Encoder(model), repo, **options)
        except BaseException:
            if store is not None:
                store.close()
            repo.close()
            raise

    def close(self) -> None:
        """Close the store and repository handles (those :meth:`from_path` opened, too)."""
        for resource in (self.store, self.repo):
            close = getattr(resource, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> CodeRetriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- search
    @property
    def lexical(self) -> LexicalIndex:
        return self.store.lexical  # type: ignore[no-any-return]

    def search(
        self,
        query: str | Sequence[Any],
        *,
        k: int = 10,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        neighbours: int = 0,
    ) -> list[Hit]:
        """The ``k`` chunks that best answer a question or the last turn of a conversation.

        Args:
            query: A question, or the conversation so far (see
                :func:`c2rag.retrieve.dialogue.as_turns` for accepted forms).
            k: How many fused results.
            filters: Path globs, languages, kinds, branch (a :class:`SearchFilters` or a
                mapping of its fields). A filter that matches nothing gives no results.
            neighbours: Also add up to this many callees and callers of the top hit.

        Raises:
            ValueError: On an empty query, ``k < 1`` or unknown filters.
        """
        return self.search_detailed(query, k=k, filters=filters, neighbours=neighbours).hits

    def search_detailed(
        self,
        query: str | Sequence[Any],
        *,
        k: int = 10,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        neighbours: int = 0,
        extra_mentions: Sequence[Mention] = (),
    ) -> SearchResult:
        """Like :meth:`search`, with per-channel rankings and notes.

        Args:
            extra_mentions: Names to feed the symbol channel besides those in the query
                (a session passes the symbols a follow-up refers to).
        """
        if k < 1:
            msg = f"k must be at least 1, got {k}"
            raise ValueError(msg)
        turns = as_turns(query)
        dq = build_query(
            turns,
            count_tokens=self.encoder.count_tokens,
            max_tokens=max(16, self.encoder.max_length - _PROMPT_ALLOWANCE),
            order=self.history_order,
            max_turns=self.max_history_turns,
        )
        for note in dq.notes:
            logger.warning("%s", note)
        compiled = self._compile(SearchFilters.coerce(filters))
        if compiled.matches_nothing:
            return SearchResult([], dq, {}, dq.notes)
        allowed = None if compiled.allowed is None else compiled.allowed.__contains__
        mentions = [*dialogue_mentions(dq.turns), *extra_mentions]
        has_ids = bool(extra_mentions) or identifier_share(dq.latest) >= _CODE_QUERY_SHARE
        depth = max(self.candidates, k)
        rankings: dict[str, list[tuple[str, float]]] = {}
        weights = self.weights.for_query(has_identifiers=has_ids)
        if weights.get("dense", 0.0) > 0:
            vector = self._embed_query(dq)
            rankings["dense"] = dense_channel(
                self.store.collection, vector, k=depth, where=compiled.where
            )
        if weights.get("lexical", 0.0) > 0:
            rankings["lexical"] = lexical_channel(
                self.lexical, lexical_tokens(dq.turns), k=depth, allowed=allowed
            )
        if weights.get("symbol", 0.0) > 0:
            rankings["symbol"] = symbol_channel(
                self.lexical.symbols, mentions, k=depth, allowed=allowed
            )
        fused = weighted_rrf(rankings, weights, k=self.weights.k, depth=self.weights.depth)[:k]
        hits = self.fetch([f.id for f in fused])
        result = [_with_score(hits[f.id], f.score, f.channels) for f in fused if f.id in hits]
        if neighbours > 0 and result:
            result += self.neighbours(
                result[0], limit=neighbours, exclude={h.id for h in result}, compiled=compiled
            )
        return SearchResult(result, dq, rankings, dq.notes, has_ids)

    def _embed_query(self, dq: DialogueQuery) -> Any:
        task = self.multi_turn_task if dq.multi_turn else self.single_turn_task
        try:
            return self.encoder.encode_queries([dq.text], task=task)[0]
        except ValueError as exc:
            if task == self.single_turn_task:
                raise
            # A model without a multi-turn prompt (e.g. jina) still embeds the dialogue.
            logger.info("task %r unavailable (%s); using %r", task, exc, self.single_turn_task)
            return self.encoder.encode_queries([dq.text], task=self.single_turn_task)[0]

    def neighbours(
        self,
        hit: Hit,
        *,
        limit: int = 4,
        exclude: set[str] | None = None,
        compiled: CompiledFilters | None = None,
        direction: str = "both",
    ) -> list[Hit]:
        """Definitions ``hit`` calls and chunks that call it, as hits scored below ``hit``.

        Args:
            hit: The chunk to expand.
            limit: At most this many neighbours.
            exclude: Ids not to return (already in the result).
            compiled: Filters the neighbours must pass.
            direction: ``callees``, ``callers`` or ``both`` (alternating).
        """
        if direction not in ("callees", "callers", "both"):
            msg = f"direction must be 'callees', 'callers' or 'both', got {direction!r}"
            raise ValueError(msg)
        skip = set(exclude or ()) | {hit.id}
        down = callees(hit.chunk, self.lexical, self_id=hit.id, limit=limit * 2)
        up = callers(hit.chunk, self.lexical, self_id=hit.id, limit=limit * 2)
        if direction == "callees":
            order = down
        elif direction == "callers":
            order = up
        else:
            order = [x for pair in zip(down, up, strict=False) for x in pair]
            order += down[len(up) :] + up[len(down) :]
        picked: list[str] = []
        for cid in order:
            if cid in skip or cid in picked or (compiled and not compiled.admits(cid)):
                continue
            picked.append(cid)
            if len(picked) == limit:
                break
        found = self.fetch(picked)
        relation = {cid: "callee" for cid in down} | {cid: "caller" for cid in up}
        return [
            _with_score(found[cid], hit.score * 0.5, {relation.get(cid, "neighbour"): 1.0})
            for cid in picked
            if cid in found
        ]

    def fetch(self, ids: Sequence[str]) -> dict[str, Hit]:
        """Chunks by id from the vector store, as hits with score 0."""
        from c2rag.store.records import record_to_chunk

        if not ids:
            return {}
        got = self.store.collection.get(ids=list(ids), include=["documents", "metadatas"])
        out: dict[str, Hit] = {}
        for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            chunk = record_to_chunk(doc, meta)
            out[cid] = Hit(
                cid, chunk, 0.0, str(meta.get("commit", "")), str(meta.get("blob_sha", ""))
            )
        return out

    def _compile(self, filters: SearchFilters) -> CompiledFilters:
        branch_ids = None
        if filters.branch:
            got = self.store.collection.get(where={f"branch:{filters.branch}": True}, include=[])
            branch_ids = frozenset(got["ids"])
        return compile_filters(filters, self.lexical.symbols, branch_ids=branch_ids)

    def localize(
        self,
        text: str,
        *,
        k: int = 10,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        symbols_per_file: int = 5,
    ) -> Localization:
        """The ``k`` files (and their functions) a bug report, stack trace or code fragment
        points at; see :func:`c2rag.retrieve.localize.localize`.

        Raises:
            ValueError: On empty text, ``k < 1`` or unknown filters.
        """
        from c2rag.retrieve.localize import localize

        return localize(self, text, k=k, filters=filters, symbols_per_file=symbols_per_file)


def _with_score(hit: Hit, score: float, channels: dict[str, float]) -> Hit:
    return Hit(hit.id, hit.chunk, score, hit.commit, hit.blob_sha, dict(channels))
